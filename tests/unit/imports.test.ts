/**
 * The shape of src/: no import circle anywhere, and areas of src/lib reached from outside only
 * through their index.ts. Every .ts/.svelte/.mjs file is parsed (TypeScript's parser, the script
 * blocks of Svelte files), and every `import … from`, `export … from`, side-effect import and
 * `import('…')` with a literal path counts, type-only ones included: a circle through types or a
 * lazy import is still two modules that cannot be understood, moved or tested one without the other.
 * (A worker started by `new URL('…', import.meta.url)` is a module graph of its own, not an import.)
 */
import { describe, expect, test } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|mjs|svelte)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The module specifiers a file's code names, in order. */
export function specifiers(fileName: string, text: string): string[] {
  const code = fileName.endsWith('.svelte')
    ? [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!).join('\n')
    : text;
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      out.push(node.moduleSpecifier.text);
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    )
      out.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** src/ as a graph: each file (relative to the repository) → the files of src/ it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const deps = specifiers(file, readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s.replace(/\?.*$/, ''))) // (`?iife`: the same file, bundled)
      .filter((p) => p.startsWith(SRC + '/') && existsSync(p))
      .map((p) => relative(ROOT, p));
    const self = relative(ROOT, file);
    // A Svelte component that renders itself (a tree) imports itself: recursion, not two modules.
    g.set(
      self,
      [...new Set(deps)].filter((d) => !(d === self && self.endsWith('.svelte'))),
    );
  }
  return g;
}

/**
 * Every circle, as its files in import order starting from the smallest name: one per strongly
 * connected component (Tarjan), traced through the component from that file back to itself.
 */
export function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || g.get(v)?.includes(v)) found.push(trace(g, new Set(component)));
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) connect(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** A shortest circle through the component's first file (breadth-first inside the component). */
function trace(g: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of g.get(v) ?? []) {
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (component.has(w) && !from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`no circle through ${start}`);
}

/** Imports of an area of src/lib from outside it that do not go through its index.ts. */
function pastIndex(g: Map<string, string[]>): string[] {
  const areaOf = (f: string) => /^src\/lib\/([^/]+)\//.exec(f)?.[1];
  const wrong: string[] = [];
  for (const [file, deps] of g) {
    for (const d of deps) {
      const area = areaOf(d);
      if (area && area !== areaOf(file) && d !== `src/lib/${area}/index.ts`) wrong.push(`${file} → ${d}`);
    }
  }
  return wrong;
}

/**
 * src/lib/data in layers, lowest first (docs/ARCHITECTURE.md): a module imports from its own group
 * or from a lower layer, so storage never reaches the parser, nor the parser the lanes.
 */
const DATA_LAYERS = [
  ['errors.ts', 'random.ts'],
  ['columns/'],
  ['ingest/', 'store.ts', 'invitation.ts', 'sandbox-table.ts'],
  ['parallel/', 'mock.ts'],
  ['load.ts'],
  ['index.ts'],
];

/** Imports inside src/lib/data against DATA_LAYERS, and its files that are in no layer. */
function againstLayers(g: Map<string, string[]>): string[] {
  const DATA = 'src/lib/data/';
  const place = (f: string) => {
    const rest = f.slice(DATA.length);
    for (const [layer, groups] of DATA_LAYERS.entries()) {
      const group = groups.find((p) => (p.endsWith('/') ? rest.startsWith(p) : rest === p));
      if (group) return { layer, group };
    }
    return undefined;
  };
  const wrong: string[] = [];
  for (const [file, deps] of g) {
    if (!file.startsWith(DATA)) continue;
    const from = place(file);
    if (!from) wrong.push(`${file} is in no layer`);
    for (const d of deps) {
      const to = d.startsWith(DATA) ? place(d) : undefined;
      if (from && to && to.group !== from.group && to.layer >= from.layer) wrong.push(`${file} → ${d}`);
    }
  }
  return wrong.sort();
}

/**
 * Circles that another change removes: listed here so that no new circle can join them unnoticed,
 * and checked to still exist so that the list is shortened when they go. (None today.)
 */
const KNOWN: string[][] = [];

describe('imports', () => {
  const g = graph();
  /** `g` with one more import. */
  const plus = (from: string, to: string) => new Map([...g, [from, [...(g.get(from) ?? []), to]]]);

  test('the parser finds every kind of import, and each check finds what it looks for (positive controls)', () => {
    expect(
      specifiers(
        'x.ts',
        `import a from './a.ts';\nimport type { B } from './b.ts';\nimport './c.ts';\nexport { d } from './d.ts';\nexport * from './e.ts';\nconst f = await import('./f.ts');\nconst w = new URL('./w.ts', import.meta.url);\n// import g from './g.ts';`,
      ),
    ).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts']);
    expect(
      specifiers(
        'x.svelte',
        `<script lang="ts">\nimport A from './A.svelte';\n</script>\n<p>import b from './b.ts'</p>`,
      ),
    ).toEqual(['./A.svelte']);
    const circle = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cycles(circle)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['e', 'e'],
    ]);
    expect(cycles(new Map([...circle, ['c', []]]))).toEqual([['e', 'e']]);
    // The real graph is read, and each rule would catch its breach in it.
    expect(g.get('src/lib/data/load.ts')).toContain('src/lib/data/store.ts');
    expect(cycles(plus('src/lib/data/columns/scalars.ts', 'src/lib/data/ingest/ingest.ts')).map((c) => c[0])).toContain(
      'src/lib/data/columns/builder.ts',
    );
    expect(pastIndex(plus('src/lib/gate/gate.ts', 'src/lib/data/store.ts'))).toEqual([
      'src/lib/gate/gate.ts → src/lib/data/store.ts',
    ]);
    expect(againstLayers(plus('src/lib/data/store.ts', 'src/lib/data/ingest/ingest.ts'))).toEqual([
      'src/lib/data/store.ts → src/lib/data/ingest/ingest.ts',
    ]);
    expect(againstLayers(new Map([...g, ['src/lib/data/new.ts', []]]))).toEqual(['src/lib/data/new.ts is in no layer']);
  });

  test('no import circle in src/', () => {
    const found = cycles(g).map((c) => c.join(' → '));
    const known = KNOWN.map((c) => c.join(' → '));
    expect(found.filter((c) => !known.includes(c))).toEqual([]);
    expect(known.filter((c) => !found.includes(c))).toEqual([]);
  });

  test('areas of src/lib are imported from outside only through their index.ts', () => {
    expect(pastIndex(g)).toEqual([]);
  });

  test('src/lib/data imports one way: load.ts → parallel/ → ingest/ → columns/, and load.ts → store.ts', () => {
    expect(againstLayers(g)).toEqual([]);
  });
});
