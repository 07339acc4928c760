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
    g.set(relative(ROOT, file), [...new Set(deps)]);
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

/**
 * Circles in src/app that the app's own restructuring removes (issue 12, "one owner workflow"):
 * listed here so that no new circle can join them unnoticed, and checked to still exist so that
 * the list is shortened when they go.
 */
const KNOWN: string[][] = [];

describe('imports', () => {
  const g = graph();

  test('the parser finds every kind of import, and the search finds a circle (positive control)', () => {
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
    // The real graph is read: the data area's index reaches its store through load.ts.
    expect(g.get('src/lib/data/load.ts')).toContain('src/lib/data/store.ts');
  });

  test('no import circle in src/', () => {
    const found = cycles(g).map((c) => c.join(' → '));
    const known = KNOWN.map((c) => c.join(' → '));
    expect(found.filter((c) => !known.includes(c))).toEqual([]);
    expect(known.filter((c) => !found.includes(c))).toEqual([]);
  });

  test('areas of src/lib are imported from outside only through their index.ts', () => {
    const areaOf = (f: string) => /^src\/lib\/([^/]+)\//.exec(f)?.[1];
    const wrong: string[] = [];
    for (const [file, deps] of g) {
      for (const d of deps) {
        const area = areaOf(d);
        if (area && area !== areaOf(file) && d !== `src/lib/${area}/index.ts`) wrong.push(`${file} → ${d}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
