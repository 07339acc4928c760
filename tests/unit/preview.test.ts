import { describe, expect, test } from 'vitest';
import {
  jsonTree,
  metricCards,
  previewOutput,
  profileColumn,
  sha256Hex,
  tableHead,
} from '../../src/lib/preview/index.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('jsonTree', () => {
  test('keeps keys, kinds and sizes', () => {
    const t = jsonTree({ model: 'lr', weights: [0.1, 0.2], ok: true, none: null });
    expect(t).toMatchObject({ kind: 'object', text: '4 keys', size: 4, hidden: 0 });
    expect(t.children!.map((c) => [c.key, c.kind, c.text])).toEqual([
      ['model', 'string', '"lr"'],
      ['weights', 'array', '2 items'],
      ['ok', 'boolean', 'true'],
      ['none', 'null', 'null'],
    ]);
  });

  test('is capped in children, nodes, depth and string length', () => {
    const big = jsonTree(Array.from({ length: 10_000 }, (_, i) => i));
    expect(big.children).toHaveLength(100);
    expect(big.hidden).toBe(9_900);
    let nodes = 0;
    const count = (n: ReturnType<typeof jsonTree>): void => {
      nodes++;
      n.children?.forEach(count);
    };
    count(jsonTree(Array.from({ length: 100 }, () => Array.from({ length: 100 }, () => 1))));
    expect(nodes).toBeLessThanOrEqual(2001);
    let deep: unknown = 1;
    for (let i = 0; i < 50; i++) deep = [deep];
    let d = jsonTree(deep);
    let depth = 0;
    while (d.children?.length) {
      d = d.children[0]!;
      depth++;
    }
    expect(depth).toBe(12);
    expect(jsonTree('x'.repeat(1000)).text.length).toBeLessThan(170);
  });
});

describe('tableHead', () => {
  test('parses quotes, doubled quotes and newlines in fields', () => {
    const h = tableHead(enc('a,b\n"x, y","he said ""hi"""\n"multi\nline",2\n'), ',');
    expect(h).toEqual({
      header: ['a', 'b'],
      rows: [
        ['x, y', 'he said "hi"'],
        ['multi\nline', '2'],
      ],
      truncated: false,
    });
  });

  test('is capped in rows, columns and cell length, and drops a record cut by the byte cap', () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i},${'v'.repeat(200)}`).join('\n');
    const h = tableHead(enc('id,text\n' + rows), ',', { maxRows: 5 });
    expect(h.rows).toHaveLength(5);
    expect(h.truncated).toBe(true);
    expect(h.rows[0]![1]!.length).toBe(81);
    const wide = tableHead(enc(Array.from({ length: 40 }, (_, i) => `c${i}`).join('\t') + '\n'), '\t');
    expect(wide.header).toHaveLength(30);
    expect(wide.truncated).toBe(true);
    const cut = tableHead(enc('a,b\n1,2\n3,4'), ',', { maxBytes: 10 });
    expect(cut.rows).toEqual([['1', '2']]);
    expect(cut.truncated).toBe(true);
  });
});

describe('previewOutput', () => {
  test('JSON as a tree, CSV as a table, text as text, binary as a type', () => {
    expect(previewOutput('model.json', enc('{"a":1}'))).toMatchObject({ kind: 'json', tree: { text: '1 key' } });
    expect(previewOutput('bad.json', enc('{"a":'))).toEqual({ kind: 'text', text: '{"a":', truncated: false });
    expect(previewOutput('scores.csv', enc('id,p\n1,0.5\n'))).toMatchObject({
      kind: 'table',
      head: { header: ['id', 'p'] },
    });
    expect(previewOutput('notes.md', enc('# hi'))).toEqual({ kind: 'text', text: '# hi', truncated: false });
    const npy = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    expect(previewOutput('w.npy', npy)).toEqual({ kind: 'binary', type: 'NumPy array (.npy)', why: 'not text' });
    const long = previewOutput('log.txt', enc('x'.repeat(100_000)));
    expect(long.kind === 'text' && long.text.length).toBe(8192);
    expect(long.kind === 'text' && long.truncated).toBe(true);
  });

  test('markup stays text: the preview is data, never parsed as HTML', () => {
    const p = previewOutput('x.json', enc('{"html":"<img src=x onerror=alert(1)>"}'));
    expect(p.kind === 'json' && p.tree.children![0]!.text).toBe('"<img src=x onerror=alert(1)>"');
  });
});

describe('metricCards', () => {
  test('numbers from metrics files and from a "metrics" key, nothing else', () => {
    const cards = metricCards([
      { path: 'model.json', bytes: enc('{"weights":[1,2],"metrics":{"auc":0.71,"rows":5000,"note":"x"}}') },
      { path: 'eval/metrics.json', bytes: enc('{"loss":0.42,"accuracy":0.8,"inf":"no"}') },
      { path: 'other.json', bytes: enc('{"loss":9}') },
      { path: 'broken.json', bytes: enc('{') },
    ]);
    expect(cards).toEqual([
      { name: 'auc', value: 0.71, file: 'model.json' },
      { name: 'rows', value: 5000, file: 'model.json' },
      { name: 'loss', value: 0.42, file: 'eval/metrics.json' },
      { name: 'accuracy', value: 0.8, file: 'eval/metrics.json' },
    ]);
  });
});

describe('profileColumn', () => {
  test('missing share, distinct count and bins for numbers and text', () => {
    const ints = profileColumn(
      {
        name: 'age',
        type: 'int',
        values: new Int32Array([10, 20, 30, 40, 50, 60, 70, 80, 0, 0]),
        valid: new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
      },
      10,
    );
    expect(ints).toMatchObject({ rows: 10, missing: 0.2, distinct: 8, distinctCapped: false });
    expect(ints.bins).toHaveLength(12);
    expect(Math.max(...ints.bins.map((b) => b.share))).toBe(1);
    const text = profileColumn(
      { name: 'ward', type: 'string', values: new Int32Array([0, 1, 0, 0, -1]), dictionary: ['A', 'B'] },
      5,
    );
    expect(text).toMatchObject({ missing: 0.2, distinct: 2 });
    expect(text.bins).toEqual([
      { label: 'A: 3', share: 1 },
      { label: 'B: 1', share: 1 / 3 },
    ]);
    const floats = profileColumn({ name: 'x', type: 'float', values: new Float64Array([NaN, NaN]) }, 2);
    expect(floats).toMatchObject({ missing: 1, distinct: 0, bins: [] });
  });
});

test('sha256Hex', async () => {
  expect(await sha256Hex(enc('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
