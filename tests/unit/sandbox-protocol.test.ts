import { describe, expect, test } from 'vitest';
import {
  LIMITS,
  ProtocolViolation,
  encodeEvent,
  isSafeOutputPath,
  parseBootResult,
  parseCellResult,
  parseInstalled,
  parseOutputs,
  parseSandboxEvent,
} from '../../src/lib/sandbox/protocol.ts';

describe('parseSandboxEvent', () => {
  test('comlink replies are not events', () => {
    expect(parseSandboxEvent({ id: 'x', type: 'RAW', value: 1 })).toBeNull();
    expect(parseSandboxEvent(null)).toBeNull();
    expect(parseSandboxEvent('text')).toBeNull();
  });

  test('well-formed events pass through', () => {
    expect(parseSandboxEvent(encodeEvent({ type: 'log', cell: 2, stream: 'stderr', text: 'hi' }))).toEqual({
      type: 'log',
      cell: 2,
      stream: 'stderr',
      text: 'hi',
    });
    expect(parseSandboxEvent(encodeEvent({ type: 'progress', fraction: 2, message: 'm' }))).toEqual({
      type: 'progress',
      fraction: 1,
      message: 'm',
    });
    expect(
      parseSandboxEvent(
        encodeEvent({ type: 'progress', fraction: 0.5, message: 'e', metrics: { loss: 0.4, auc: 0.7 } }),
      ),
    ).toEqual({ type: 'progress', fraction: 0.5, message: 'e', metrics: { loss: 0.4, auc: 0.7 } });
    expect(parseSandboxEvent(encodeEvent({ type: 'tripwire', name: 'fetch', detail: 'u' }))).toEqual({
      type: 'tripwire',
      name: 'fetch',
      detail: 'u',
    });
  });

  test.each([
    [{ type: 'log', cell: 0, stream: 'html', text: 'x' }, 'log stream is neither stdout nor stderr'],
    [{ type: 'log', cell: 1.5, stream: 'stdout', text: 'x' }, 'log cell is not an index'],
    [{ type: 'log', cell: 0, stream: 'stdout', text: { toString: 1 } }, 'log text is not a string'],
    [{ type: 'progress', fraction: NaN, message: '' }, 'progress fraction is not a number'],
    [{ type: 'eval', code: 'x' }, 'unknown event type'],
    // The host's own steps (run.ts RunStep) never come from the sandbox: a notebook cannot fake a cell's status.
    [{ type: 'cell', index: 0, count: 1, state: 'ok' }, 'unknown event type'],
    [{ type: 'review' }, 'unknown event type'],
    [{ type: 'progress', fraction: 0.5, message: '', metrics: [1] }, 'progress metrics are not an object'],
    [
      { type: 'progress', fraction: 0.5, message: '', metrics: { loss: 'x' } },
      'progress metric is not a finite number',
    ],
    [
      { type: 'progress', fraction: 0.5, message: '', metrics: { loss: Infinity } },
      'progress metric is not a finite number',
    ],
    [
      { type: 'progress', fraction: 0.5, message: '', metrics: { ['x'.repeat(41)]: 1 } },
      'progress metric name is empty or too long',
    ],
    [
      {
        type: 'progress',
        fraction: 0.5,
        message: '',
        metrics: Object.fromEntries([...'abcdefghi'].map((k) => [k, 1])),
      },
      'more than 8 progress metrics',
    ],
    [[1, 2], 'event is not an object'],
  ])('rejects %j', (event, message) => {
    expect(() => parseSandboxEvent({ 'airlock:event': event })).toThrow(new ProtocolViolation(message));
  });

  test('objects with a foreign prototype are not plain data', () => {
    class Fake {
      type = 'log';
    }
    expect(() => parseSandboxEvent({ 'airlock:event': new Fake() })).toThrow('event is not an object');
  });

  test('long texts are cut and marked, never kept whole', () => {
    const e = parseSandboxEvent(
      encodeEvent({ type: 'log', cell: 0, stream: 'stdout', text: 'x'.repeat(LIMITS.maxTextChars + 10) }),
    );
    expect(e && e.type === 'log' && e.text.length).toBeLessThan(LIMITS.maxTextChars + 50);
    expect(e && e.type === 'log' && e.text.endsWith('[cut: 10 more characters]')).toBe(true);
  });
});

describe('replies', () => {
  test('boot, install and cell replies are checked', () => {
    expect(parseBootResult({ pythonVersion: '3.14', pyodideVersion: '314', ms: 5 })).toEqual({
      pythonVersion: '3.14',
      pyodideVersion: '314',
      ms: 5,
    });
    expect(() => parseBootResult({ pythonVersion: 3, ms: 1 })).toThrow(ProtocolViolation);
    expect(() => parseInstalled([], 1)).toThrow('install reply does not list every wheel');
    expect(parseInstalled([{ filename: 'a.whl', name: 'a', version: '1', files: 2 }], 1)).toHaveLength(1);
    expect(parseCellResult({ ok: true, ms: 3 })).toEqual({ ok: true, ms: 3 });
    expect(parseCellResult({ ok: false, error: 'E' })).toEqual({ ok: false, ms: 0, error: 'E' });
    expect(() => parseCellResult({ ok: 1 })).toThrow('cell reply is malformed');
  });

  test('output paths must be plain and relative', () => {
    for (const ok of ['model.json', 'a/b/c.txt', 'weights-v2.bin']) expect(isSafeOutputPath(ok), ok).toBe(true);
    for (const bad of ['', '/abs', '../x', 'a/../b', 'a//b', './a', 'a\\b', 'a\u0000b', 'x'.repeat(600)])
      expect(isSafeOutputPath(bad), bad).toBe(false);
  });

  test('outputs are capped by count and total size, and names are unique', () => {
    const f = (path: string, n: number) => ({ path, bytes: new Uint8Array(n) });
    expect(parseOutputs([f('a', 5), f('b', 5)], { maxFiles: 2, maxBytes: 10 })).toHaveLength(2);
    expect(() => parseOutputs([f('a', 5), f('b', 6)], { maxFiles: 2, maxBytes: 10 })).toThrow(
      'outputs exceed the cap of 10 bytes',
    );
    expect(() => parseOutputs([f('a', 1), f('b', 1), f('c', 1)], { maxFiles: 2, maxBytes: 10 })).toThrow(
      'over the cap of 2',
    );
    expect(() => parseOutputs([f('a', 1), f('a', 1)], { maxFiles: 5, maxBytes: 10 })).toThrow('listed twice');
    expect(() => parseOutputs([{ path: 'a', bytes: 'text' }], { maxFiles: 5, maxBytes: 10 })).toThrow('malformed');
  });
});
