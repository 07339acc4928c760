import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { parseNotebook } from '../../src/lib/sandbox/notebook.ts';
import { frameCsp, frameDocument, scriptHash } from '../../src/lib/sandbox/policy.ts';
import { installTripwires } from '../../src/lib/sandbox/tripwires.ts';

const nb = (cells: unknown[]) => JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });

describe('parseNotebook', () => {
  test('returns code cells in order, joining list sources and keeping notebook positions', () => {
    const cells = parseNotebook(
      nb([
        { cell_type: 'markdown', source: '# title' },
        { cell_type: 'code', source: ['a = 1\n', 'print(a)'] },
        { cell_type: 'code', source: '   ' },
        { cell_type: 'code', source: 'b = 2 % 3\nx = (1\n  != 2)' },
      ]),
    );
    expect(cells).toEqual([
      { index: 1, source: 'a = 1\nprint(a)' },
      { index: 3, source: 'b = 2 % 3\nx = (1\n  != 2)' },
    ]);
  });

  test.each([
    ['not json', 'not valid JSON'],
    [JSON.stringify({ nbformat: 3, worksheets: [] }), 'not in nbformat 4'],
    [nb([{ cell_type: 'code', source: 42 }]), 'cell 1 has no source text'],
    [nb([{ cell_type: 'code', source: '%matplotlib inline' }]), 'cell 1 uses IPython syntax (%matplotlib inline)'],
    [
      nb([
        { cell_type: 'code', source: 'x=1' },
        { cell_type: 'code', source: '!pip install x' },
      ]),
      'cell 2 uses IPython syntax',
    ],
  ])('refuses %s', (text, message) => {
    expect(() => parseNotebook(text)).toThrow(message);
  });

  test('accepts bytes', () => {
    expect(parseNotebook(new TextEncoder().encode(nb([{ cell_type: 'code', source: '1' }])))).toHaveLength(1);
  });
});

describe('frame policy', () => {
  test('the hash is the CSP sha256 of the exact script text', () => {
    const src = 'console.log("é")';
    expect(scriptHash(src)).toBe(`'sha256-${createHash('sha256').update(src, 'utf8').digest('base64')}'`);
  });

  test('the policy closes every connection and allows no eval', () => {
    const csp = frameCsp('x');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'none'");
    expect(csp).toContain('worker-src blob:');
    expect(csp).toContain("form-action 'none'");
    expect(csp).not.toMatch(/'unsafe-eval'|'unsafe-inline'|https?:|\*/);
  });

  test('the frame document carries the policy before its one script', () => {
    const doc = frameDocument('void 0');
    expect(doc.indexOf('Content-Security-Policy')).toBeLessThan(doc.indexOf('<script>'));
    expect(doc.match(/<script>/g)).toHaveLength(1);
    expect(() => frameDocument('"</script><script>alert(1)"')).toThrow('contains "</script"');
  });
});

describe('tripwires', () => {
  test('entry points are replaced where they live, including on prototypes, and report on use', () => {
    class Scope {}
    Object.defineProperty(Scope.prototype, 'fetch', { value: () => 'real fetch', configurable: true, writable: true });
    Object.defineProperty(Scope.prototype, 'indexedDB', { get: () => 'real idb', configurable: true });
    const scope = new Scope() as Record<string, unknown>;
    scope.WebSocket = class {};
    const seen: string[] = [];
    const installed = installTripwires(scope, (name, detail) => seen.push(`${name} ${detail}`));
    expect(installed).toEqual(expect.arrayContaining(['fetch', 'WebSocket', 'indexedDB']));
    expect(() => (scope.fetch as (u: string) => void)('http://x/')).toThrow('fetch is disabled in the Airlock sandbox');
    expect(() => scope.indexedDB).toThrow('indexedDB is disabled');
    expect(() => new (scope.WebSocket as new (u: string) => object)('ws://x')).toThrow('WebSocket is disabled');
    expect(seen).toEqual(['fetch http://x/', 'indexedDB ', 'WebSocket ws://x']);
    // A later attempt to put the original back fails: the replacements are not configurable.
    expect(() => Object.defineProperty(Object.getPrototypeOf(scope), 'fetch', { value: () => 'again' })).toThrow();
  });
});
