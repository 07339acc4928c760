/**
 * A file read in parts (lib/data/parallel/) gives the table `ingest` gives, byte for byte: on
 * random files cut at every kind of place, on the real data, and on the cases the joining must get
 * right (a column turned into text in a later part or an earlier one, more than 256 words across
 * parts, a cut inside quotes, errors and warnings at the file's own line numbers, cancelling).
 */
import { describe, expect, test } from 'vitest';
import { closeSync, mkdtempSync, openAsBlob, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IngestError,
  ingest,
  ingestLanes,
  type IngestLanes,
  type IngestOptions,
  type IngestedTable,
} from '../../src/lib/data/index.ts';
import { ingestFile } from '../../src/lib/data/parallel/ingest-file.ts';
import { localLanes } from '../../src/lib/data/parallel/lanes.ts';
import { WorkerPool, webWorker } from '../../src/lib/workers/index.ts';
import { diabetesCsvPath } from './fixtures/data.ts';
import { randomCsv } from './fixtures/random-csv.ts';

/** Local lanes that count what they were asked: a test of parts must not pass by reading whole. */
function countingLanes(width: number): IngestLanes & { parts: number; wholes: number; most: number } {
  const inner = localLanes(width);
  let running = 0;
  const lanes = {
    width,
    parts: 0,
    wholes: 0,
    /** The most parts read at once. */
    most: 0,
    whole: (...a: Parameters<IngestLanes['whole']>) => (lanes.wholes++, inner.whole(...a)),
    part: (...a: Parameters<IngestLanes['part']>) => {
      lanes.parts++;
      lanes.most = Math.max(lanes.most, ++running);
      return inner.part(...a).finally(() => running--);
    },
  };
  return lanes;
}

const blobOf = (text: string | Uint8Array) =>
  new Blob([typeof text === 'string' ? new TextEncoder().encode(text) : (text as BlobPart)]);

/** A table as plain data, or the error it ends with. */
function shape(t: IngestedTable) {
  return {
    name: t.name,
    rows: t.rowCount,
    fingerprint: t.fingerprint,
    report: t.report,
    columns: t.columns.map((c) => ({
      ...c,
      kind: c.values.constructor.name,
      values: [...c.values],
      valid: c.valid && [...c.valid],
    })),
  };
}
async function outcome(run: () => Promise<IngestedTable>) {
  try {
    return shape(await run());
  } catch (e) {
    return { error: `${(e as IngestError).code}: ${(e as Error).message}` };
  }
}

/** Whole on this thread, and in parts: both outcomes, and the lanes (to see that it was split). */
/** Whole on this thread, and in `parts` parts (default: one per lane) on `width` lanes. */
async function both(text: string | Uint8Array, opts: IngestOptions, width: number, minPart = 1, parts = width) {
  const blob = blobOf(text);
  const lanes = countingLanes(width);
  const whole = await outcome(() => ingest({ name: 'x.csv', size: blob.size, stream: () => blob.stream() }, opts));
  const split = await outcome(() => ingestFile(blob, 'x.csv', opts, lanes, { minPart, parts }));
  return { whole, parts: split, lanes };
}

describe('a file read in parts', () => {
  test('on 300 random files, in 2 to 12 parts on 2 to 4 lanes, is the table ingest reads whole (and most were split)', async () => {
    let split = 0;
    const seeds = Number(process.env.AIRLOCK_AGREE ?? 300);
    for (let seed = 1; seed <= seeds; seed++) {
      const { text, opts } = randomCsv(seed);
      // One part a lane mostly; every fifth file in three a lane, which lanes take in turn.
      const width = 2 + (seed % 3);
      const { whole, parts, lanes } = await both(text, opts, width, 1, seed % 5 === 0 ? width * 3 : width);
      expect(parts, `seed ${seed}: ${JSON.stringify(text.slice(0, 300))}`).toEqual(whole);
      if (lanes.wholes === 0) split++;
    }
    // Files too short for their sample, cut inside quotes, or refused in their first rows are read
    // whole: about half of these small files; the rest must really have been read in parts.
    expect(split).toBeGreaterThan(seeds / 3);
  });

  test('more parts than lanes: each lane takes the next part when it is free, never more at once than lanes', async () => {
    const text =
      'id,w,x\n' + Array.from({ length: 60_000 }, (_, i) => `${i},w${i % 13},${(i % 97) / 4}`).join('\n') + '\n';
    const { whole, parts, lanes } = await both(text, { sampleRows: 50 }, 3, 1, 12);
    expect(parts).toEqual(whole);
    expect([lanes.parts, lanes.wholes, lanes.most]).toEqual([12, 0, 3]);
  });

  test('a column that a later part turns into text keeps every raw value, as read whole', async () => {
    // "007" and "7.50" must stay as written after the column becomes text: a part that read them
    // as numbers must read them again.
    const rows = ['n,x'];
    for (let i = 0; i < 40; i++) rows.push(`${i % 3 === 0 ? '007' : String(i)},${i % 4 === 0 ? '7.50' : '1.25'}`);
    rows.push('V57,oops');
    for (let i = 0; i < 40; i++) rows.push(`${i % 5 === 0 ? '0012' : String(i)},${i % 4 === 0 ? '7.50' : '2'}`);
    const text = rows.join('\n') + '\n';
    for (const width of [2, 3, 4]) {
      const { whole, parts, lanes } = await both(text, { sampleRows: 5 }, width);
      expect(lanes.wholes).toBe(0);
      expect(parts).toEqual(whole);
      const n = (whole as ReturnType<typeof shape>).columns[0]!;
      expect(n.type).toBe('string');
      expect(n.dictionary).toContain('0012');
      expect(n.demoted).toEqual({ line: 42, value: 'V57', from: 'int' });
      expect((whole as ReturnType<typeof shape>).report.warnings).toEqual([
        'column "n" was read as int but line 42 holds "V57"; loaded as text',
        'column "x" was read as float but line 42 holds "oops"; loaded as text',
      ]);
    }
  });

  test('a missing marker stays missing after its column turns into text, even where an earlier value reads the same', async () => {
    // -999.0 is a number (not the marker "-999"); turned into text it reads "-999", and a raw
    // "-999" after that is still missing, in the whole file and in every part.
    const rows = [
      'v',
      '-999.0',
      ...Array.from({ length: 19 }, () => '1.5'),
      ...Array.from({ length: 20 }, (_, i) => (i === 5 ? 'oops' : '2.5')),
      ...Array.from({ length: 20 }, () => '-999'),
    ];
    for (const width of [1, 2, 3]) {
      const { whole, parts } = await both(rows.join('\n') + '\n', { sampleRows: 5, missing: ['', '-999'] }, width);
      expect(parts).toEqual(whole);
      const v = (whole as ReturnType<typeof shape>).columns[0]!;
      expect(v.type).toBe('string');
      expect(v.dictionary![v.values[0]!]).toBe('-999');
      expect(v.valid!.slice(-20)).toEqual(new Array(20).fill(0));
    }
  });

  test('a column turned into text in the first part, and numbers past 32 bits in a later one', async () => {
    const rows = ['a,b'];
    for (let i = 0; i < 30; i++) rows.push(`${i === 8 ? 'x' : i},${i}`);
    for (let i = 0; i < 30; i++) rows.push(`${i},${i === 25 ? '9876543210' : i}`);
    const { whole, parts, lanes } = await both(rows.join('\n'), { sampleRows: 4 }, 3);
    expect(lanes.wholes).toBe(0);
    expect(parts).toEqual(whole);
    const cols = (whole as ReturnType<typeof shape>).columns;
    expect(cols.map((c) => `${c.type}:${c.kind}`)).toEqual(['string:Int32Array', 'int:Float64Array']);
  });

  test('text with more than 256 words across the parts gets Int32 codes, missing as -1', async () => {
    const rows = ['w,k'];
    for (let i = 0; i < 400; i++) rows.push(`${i % 7 === 0 ? 'NA' : `word${i % 300}`},${i % 2 ? 'a' : 'b'}`);
    const { whole, parts, lanes } = await both(rows.join('\n') + '\n', { sampleRows: 10 }, 4);
    expect(lanes.wholes).toBe(0);
    expect(parts).toEqual(whole);
    const [w, k] = (whole as ReturnType<typeof shape>).columns;
    expect([w!.kind, k!.kind]).toEqual(['Int32Array', 'Uint8Array']);
    expect(w!.values[0]).toBe(-1);
  });

  test('a cut inside a quoted field is found, and the file is read whole instead', async () => {
    // Every record's note spans lines after the sample: any cut is likely inside quotes.
    const rows = ['id,note'];
    for (let i = 0; i < 20; i++) rows.push(`${i},plain`);
    for (let i = 0; i < 200; i++) rows.push(`${i},"line one\nline two\nline three, ${i}"`);
    const text = rows.join('\n') + '\n';
    let fellBack = 0;
    for (const width of [2, 3, 4]) {
      const { whole, parts, lanes } = await both(text, { sampleRows: 10 }, width);
      expect(parts).toEqual(whole);
      expect((whole as ReturnType<typeof shape>).rows).toBe(220);
      fellBack += lanes.wholes;
    }
    expect(fellBack).toBeGreaterThan(0);
    // Newlines inside quotes in the first rows: read whole as soon as the first part has its
    // sample, and no other part is started.
    const early = ['id,note', ...Array.from({ length: 50 }, (_, i) => `${i},"a\nb"`)].join('\n');
    const r = await both(early, { sampleRows: 10 }, 2);
    expect(r.parts).toEqual(r.whole);
    expect([r.lanes.parts, r.lanes.wholes]).toEqual([1, 1]);
  });

  test('a later part that starts with U+FEFF keeps it as content', async () => {
    const rows = ['a,b', ...Array.from({ length: 30 }, (_, i) => `\ufeffv${i % 3},${i}`)];
    for (const width of [2, 3, 4]) {
      const { whole, parts, lanes } = await both(rows.join('\n') + '\n', { sampleRows: 3 }, width);
      expect(lanes.wholes).toBe(0);
      expect(parts).toEqual(whole);
    }
  });

  test("errors and warnings name the file's own lines", async () => {
    const rows = ['a,b,c'];
    for (let i = 0; i < 90; i++) rows.push(i === 70 ? '1,2' : `${i},${i},x`);
    const text = rows.join('\n') + '\n';
    for (const width of [2, 3, 4]) {
      const { whole, parts, lanes } = await both(text, { sampleRows: 5 }, width);
      expect(lanes.wholes).toBe(0);
      expect(parts).toEqual(whole);
      expect(parts).toEqual({
        error: 'ragged: line 72 has 2 fields but the header has 3; fix the file, or choose to pad short rows',
      });
      const padded = await both(text, { sampleRows: 5, ragged: 'pad' }, width);
      expect(padded.parts).toEqual(padded.whole);
      expect((padded.parts as ReturnType<typeof shape>).report.warnings).toEqual([
        'padded short rows with missing values, first on line 72',
      ]);
    }
    // An unterminated quote at the end is the last part's, and named at the file's line.
    const open = rows.slice(0, 60).join('\n') + '\n7,8,"never ends\n' + '9,9,9\n'.repeat(20);
    const r = await both(open, { sampleRows: 5 }, 3);
    expect(r.parts).toEqual(r.whole);
    expect((r.parts as { error: string }).error).toMatch(/^unterminated-quote: a quoted field that starts on line 61 /);
  });

  test('a header with no rows, a file too short for its sample, and options that change nothing', async () => {
    const headerOnly = 'a,b\n' + '\n'.repeat(100);
    const h = await both(headerOnly, {}, 3, 4);
    expect(h.parts).toEqual(h.whole);
    expect((h.parts as { error: string }).error).toMatch(/^header-only/);
    // Fewer rows in the first part than the sample: the types would differ, so it is read whole.
    const short = ['a', ...Array.from({ length: 30 }, (_, i) => (i < 20 ? String(i) : 'x'))].join('\n');
    const s = await both(short, { sampleRows: 25 }, 2);
    expect(s.parts).toEqual(s.whole);
    expect(s.lanes.wholes).toBe(1);
    // Not the byte engine's: read whole on one lane.
    for (const opts of [{ engine: 'text' as const }, { encoding: 'latin1' as const }]) {
      const r = await both('a,b\n1,2\n3,4\n'.repeat(10), opts, 2);
      expect(r.parts).toEqual(r.whole);
      expect([r.lanes.parts, r.lanes.wholes]).toEqual([0, 1]);
    }
  });

  test('cancelling stops every part', async () => {
    const text = 'a,b\n' + Array.from({ length: 20000 }, (_, i) => `${i},w${i % 9}`).join('\n');
    const stop = new AbortController();
    let seen = 0;
    const p = ingestFile(
      blobOf(text),
      'x.csv',
      { sampleRows: 10, signal: stop.signal, onProgress: (n) => ((seen = n), stop.abort()) },
      localLanes(2),
      { minPart: 1 },
    );
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toBeGreaterThan(0);
  });

  test('a 300 MB file read in parts holds its columns, never its text', async () => {
    // As ingest.test.ts's 300 MB test, from a file on disk (parts need random access): ~5 bytes of
    // columns a row, ~110 of text.
    const dir = mkdtempSync(join(tmpdir(), 'airlock-parts-big-'));
    const path = join(dir, 'big.csv');
    const label = 'patient record with a long free-text label that repeats on every line of the file'.padEnd(100, '.');
    const fd = openSync(path, 'w');
    writeSync(fd, 'id,label\n');
    const rows = 2_750_000;
    for (let i = 0; i < rows; i += 50_000)
      writeSync(fd, Array.from({ length: 50_000 }, (_, k) => `${i + k},${label}\n`).join(''));
    closeSync(fd);
    try {
      const blob = await openAsBlob(path);
      const gc = (globalThis as { gc?: () => void }).gc!;
      gc();
      const base = process.memoryUsage();
      let peak = 0;
      const lanes = countingLanes(2);
      const t = await ingestFile(
        blob,
        'big.csv',
        {
          fingerprint: false,
          onProgress: () => {
            const m = process.memoryUsage();
            peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
          },
        },
        lanes,
      );
      expect([lanes.parts, lanes.wholes]).toEqual([2, 0]);
      expect(t.rowCount).toBe(rows);
      expect(t.report.bytes).toBeGreaterThan(290_000_000);
      // The columns (~14 MB, and the first part's room for all rows), pieces and garbage not yet
      // collected: far below the text itself (and measured: at least the columns).
      expect(peak).toBeGreaterThan(10 * 1024 * 1024);
      expect(peak).toBeLessThan(120 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('on the real diabetes data, in 2 and 4 parts', async () => {
    const blob = await openAsBlob(diabetesCsvPath());
    const whole = await ingest({
      name: 'diabetic_data.csv',
      size: blob.size,
      stream: () => blob.stream() as ReadableStream<Uint8Array>,
    });
    for (const width of [2, 4]) {
      const lanes = countingLanes(width);
      const parts = await ingestFile(blob, 'diabetic_data.csv', {}, lanes);
      expect([lanes.parts, lanes.wholes]).toEqual([width, 0]); // one a lane (each at least 4 MiB)
      expect(parts.fingerprint).toBe(whole.fingerprint);
      expect(parts.report).toEqual(whole.report);
      expect(parts.columns.map((c) => c.values.constructor.name)).toEqual(
        whole.columns.map((c) => c.values.constructor.name),
      );
    }
    // Receipts cite this fingerprint (as in ingest.test.ts): parts do not change it.
    expect(whole.fingerprint).toBe('8ed579b413c430a97973908a61356fa39060092f439934ec96d611564da249f9');
  });

  test('a lane worker that fails outside a request fails the load with a message, and the next load starts a fresh one', async () => {
    // A worker whose script never runs: it fires an error event, as a browser does for a script
    // that does not load, and never says it is ready.
    const made: FakeWorker[] = [];
    class FakeWorker extends EventTarget {
      terminated = false;
      constructor() {
        super();
        setTimeout(() =>
          this.dispatchEvent(
            Object.assign(new Event('error', { cancelable: true }), { message: 'the script did not load' }),
          ),
        );
      }
      postMessage(): void {}
      terminate(): void {
        this.terminated = true;
      }
    }
    const lanes = ingestLanes(
      new WorkerPool(() => {
        const w = new FakeWorker();
        made.push(w);
        return webWorker(w as unknown as Worker);
      }, 2),
    );
    const e = await lanes.whole(blobOf('a\n1\n'), 'x.csv', {}, {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IngestError);
    expect(e).toMatchObject({
      code: 'crashed',
      message:
        'the file could not be read: the worker reading it stopped (the script did not load); reload the page and try again',
    });
    expect(made.map((w) => w.terminated)).toEqual([true]);
    await expect(lanes.whole(blobOf('a\n1\n'), 'x.csv', {}, {})).rejects.toMatchObject({ code: 'crashed' });
    expect(made).toHaveLength(2);
    // Loading a file through such lanes reads it on this thread instead: the owner still gets the table.
    const text = 'a,b\n' + Array.from({ length: 2000 }, (_, i) => `${i},w${i % 7}`).join('\n');
    const viaPage = await ingestFile(blobOf(text), 'x.csv', { sampleRows: 10 }, lanes, { minPart: 1 });
    expect(shape(viaPage)).toEqual(
      shape(
        await ingest(
          { name: 'x.csv', size: blobOf(text).size, stream: () => blobOf(text).stream() },
          { sampleRows: 10 },
        ),
      ),
    );
    expect(made.length).toBeGreaterThan(2);
  });

  test('a cancel before the parts start stops them before they read', async () => {
    const text = 'a,b\n' + Array.from({ length: 200_000 }, (_, i) => `${i},w${i % 9}`).join('\n');
    for (const when of ['before', 'at once'] as const) {
      const stop = new AbortController();
      if (when === 'before') stop.abort();
      let seen = 0;
      const p = ingestFile(
        blobOf(text),
        'x.csv',
        { sampleRows: 10, signal: stop.signal, onProgress: (n) => (seen = n) },
        localLanes(2),
        { minPart: 1 },
      );
      if (when === 'at once') queueMicrotask(() => stop.abort());
      await expect(p, when).rejects.toMatchObject({ code: 'cancelled' });
      expect(seen, when).toBeLessThan(blobOf(text).size / 2);
    }
  });

  test('progress only goes forward, also when a part is read again', async () => {
    // 9 MB in 4 parts of several pieces each: a part read again reports its pieces from its start.
    const rows = ['n,w'];
    for (let i = 0; i < 900_000; i++) rows.push(`${i === 200_000 ? 'x' : i},w${i % 5}`);
    const progress: number[] = [];
    const lanes = countingLanes(4);
    await ingestFile(blobOf(rows.join('\n')), 'x.csv', { sampleRows: 10, onProgress: (n) => progress.push(n) }, lanes, {
      minPart: 1,
    });
    expect(lanes.parts).toBeGreaterThan(4); // the parts after the one that turned "n" into text were read again
    expect(progress.every((n, i) => i === 0 || n > progress[i - 1]!)).toBe(true);
  });
});
