/**
 * The sandbox's behaviour in the built app, in a real Chromium: wheels, cells, tables, outputs,
 * time and memory limits, the host's distrust of what comes back, and the network log of a whole run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';
import { makeWheel, notebookJson } from './fixtures.ts';

let browser: Browser;
let server: StaticServer;
let page: Page;
let requests: string[];

interface Report {
  status: string;
  message: string;
  cells: Array<{ index: number; ok: boolean; error?: string }>;
  outputs: Array<{ path: string; text: string; size: number }>;
  tripwires: Array<{ name: string; detail: string }>;
  logs: Array<{ cell: number; stream: string; text: string }>;
  wheels: Array<{ name: string; version: string; files: number }>;
  totalMs: number;
  events: Array<{ type: string; fraction?: number; message?: string; stage?: string }>;
}

interface RunArgs {
  cells: string[];
  wheels?: Array<{ filename: string; bytes: number[] }>;
  limits?: Record<string, number>;
  tables?: boolean;
  workerSource?: string;
}

/** Runs a notebook through `window.airlock.run` and returns the report with outputs as text. */
async function run(args: RunArgs): Promise<Report> {
  return page.evaluate(
    async ({ nb, wheels, limits, tables, workerSource }) => {
      const tableList = tables
        ? [
            {
              name: 'patients',
              rowCount: 4,
              columns: [
                { name: 'id', type: 'int', values: new Int32Array([101, 102, 103, 104]) },
                {
                  name: 'age',
                  type: 'int',
                  values: new Int32Array([50, 0, 70, 30]),
                  valid: new Uint8Array([1, 0, 1, 1]),
                },
                {
                  name: 'weight',
                  type: 'float',
                  values: new Float64Array([70.5, 80, 0, 60]),
                  valid: new Uint8Array([1, 1, 0, 1]),
                },
                { name: 'readmitted', type: 'bool', values: new Uint8Array([1, 0, 0, 1]) },
                {
                  name: 'ward',
                  type: 'string',
                  values: new Int32Array([0, 1, 0, -1]),
                  dictionary: ['cardio', 'neuro'],
                },
                {
                  name: 'admitted',
                  type: 'datetime',
                  values: new Float64Array([0, 86_400_000, 2 * 86_400_000, 3 * 86_400_000]),
                },
              ],
            },
          ]
        : [];
      const events: unknown[] = [];
      const r = await (window as any).airlock.run({
        onEvent: (e: { type: string }) => e.type !== 'log' && events.push(e),
        notebook: nb,
        wheels: (wheels ?? []).map((w: { filename: string; bytes: number[] }) => ({
          filename: w.filename,
          bytes: new Uint8Array(w.bytes).buffer,
        })),
        tables: tableList,
        limits,
        workerSource,
      });
      return {
        ...r,
        events,
        outputs: r.outputs.map((o: { path: string; bytes: Uint8Array }) => ({
          path: o.path,
          size: o.bytes.byteLength,
          text: new TextDecoder().decode(o.bytes.slice(0, 4096)),
        })),
      };
    },
    {
      nb: notebookJson(args.cells),
      wheels: args.wheels,
      limits: args.limits,
      tables: args.tables ?? false,
      workerSource: args.workerSource,
    },
  );
}

const out = (r: Report, cell?: number) =>
  r.logs
    .filter((l) => l.stream === 'stdout' && (cell === undefined || l.cell === cell))
    .map((l) => l.text)
    .join('\n');

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startStaticServer();
  ({ page, requests } = await openApp(browser, server));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// First, one notebook cold and from the start-up snapshot: they must behave alike. Every later run
// in this file then boots from the snapshot, as a returning owner's runs do (the cold path is
// also what the red-team file, the app test and every `airlock run` exercise).
describe('cold and warm start', () => {
  test('a run booted cold and one booted from the start-up snapshot behave alike', async () => {
    const wheel = makeWheel('warmpkg', '0.1', { 'warmpkg/__init__.py': 'X = 7\n' });
    const args = {
      tables: true,
      wheels: [{ filename: wheel.filename, bytes: [...wheel.bytes] }],
      cells: [
        'import airlock, warmpkg, sys\nprint(len(airlock.table("patients")), warmpkg.X)',
        'print("err", file=sys.stderr)\nimport js\nprint(js.fetch)',
      ],
    };
    const cold = await run(args);
    expect(await page.evaluate(() => (window as any).airlock.prewarm())).toBe(true);
    const warm = await run(args);
    for (const r of [cold, warm]) {
      expect(r.status, r.message).toBe('ok');
      expect(out(r, 0)).toBe('4 7');
      expect(out(r, 1)).toBe('None');
      expect(r.logs).toContainEqual({ cell: 1, stream: 'stderr', text: 'err' });
      expect(r.tripwires.map((t) => t.name)).toContain('js.fetch');
    }
    expect(warm.logs).toEqual(cold.logs);
  });
});

describe('notebook runs', () => {
  test('cells run in order with shared state; stdout and stderr are captured per cell; the last expression is shown', async () => {
    const r = await run({
      cells: ['x = 20\nprint("one")', 'import sys\nprint("two", x + 1)\nprint("warn", file=sys.stderr)', 'x * 2'],
    });
    expect(r.status).toBe('ok');
    expect(r.cells.map((c) => c.ok)).toEqual([true, true, true]);
    expect(out(r, 0)).toBe('one');
    expect(out(r, 1)).toBe('two 21');
    expect(r.logs.find((l) => l.stream === 'stderr')).toMatchObject({ cell: 1, text: 'warn' });
    expect(out(r, 2)).toBe('40');
  });

  test('a failing cell stops the run and names the cell and the error', async () => {
    const r = await run({ cells: ['print("fine")', 'raise ValueError("bad column")', 'print("never")'] });
    expect(r.status).toBe('failed');
    expect(r.message).toBe('Cell 2 failed: ValueError: bad column');
    expect(r.cells).toHaveLength(2);
    expect(r.cells[1]!.error).toContain('Traceback');
    expect(out(r)).not.toContain('never');
  });

  test('IPython magics are refused before anything runs, with the cell named', async () => {
    const r = await run({ cells: ['print(1)', '!pip install numpy'] });
    expect(r.status).toBe('invalid');
    expect(r.message).toContain('cell 2 uses IPython syntax');
  });

  test('airlock.table gives columns by name, length, typed values and rows; progress reaches the host', async () => {
    const r = await run({
      tables: true,
      cells: [
        [
          'import airlock, math',
          't = airlock.table("patients")',
          'print(len(t), t.columns)',
          'print(t.types)',
          'ids = t.column("id"); print(type(ids).__name__, ids.typecode, list(ids))',
          'age = t.column("age"); print(age.typecode, [None if math.isnan(a) else a for a in age])',
          'print(list(t.column("readmitted")), t.column("ward"))',
          'print(list(t.rows())[1])',
          'codes, cats = t.categorical("ward"); print(list(codes), cats)',
          'print(airlock.tables())',
          'import csv; print(next(csv.reader(airlock.open_csv("patients"))))',
          'airlock.progress(0.5, "halfway")',
        ].join('\n'),
        'try:\n    airlock.table("nope")\nexcept KeyError as e:\n    print("KeyError", e)',
      ],
    });
    expect(r.status, r.message).toBe('ok');
    const lines = out(r, 0).split('\n');
    expect(lines[0]).toBe("4 ['id', 'age', 'weight', 'readmitted', 'ward', 'admitted']");
    expect(lines[1]).toContain("'ward': 'string'");
    expect(lines[2]).toBe('array i [101, 102, 103, 104]');
    expect(lines[3]).toBe('d [50.0, None, 70.0, 30.0]');
    expect(lines[4]).toBe("[1, 0, 0, 1] ['cardio', 'neuro', 'cardio', None]");
    expect(lines[5]).toBe("(102, None, 80.0, 0, 'neuro', 86400000.0)");
    expect(lines[6]).toBe("[0, 1, 0, -1] ['cardio', 'neuro']");
    expect(lines[7]).toBe("['patients']");
    expect(lines[8]).toBe("['id', 'age', 'weight', 'readmitted', 'ward', 'admitted']");
    expect(out(r, 1)).toContain("no table named 'nope'");
    expect(r.events).toContainEqual({ type: 'progress', fraction: 0.5, message: 'halfway' });
    expect(r.events.filter((e) => e.type === 'stage').map((e) => e.stage)).toEqual([
      'load runtime',
      'lock down',
      'mount tables',
      'collect outputs',
    ]);
  });

  test('only files under the output folder come back; files elsewhere are discarded', async () => {
    const r = await run({
      cells: [
        'import airlock, os\nos.makedirs(airlock.OUTPUT_DIR + "/sub", exist_ok=True)\nopen(airlock.OUTPUT_DIR + "/model.json", "w").write("{\\"w\\": 1}")\nopen(airlock.OUTPUT_DIR + "/sub/extra.txt", "w").write("x")\nopen("/tmp/elsewhere.txt", "w").write("secret")\nopen("/home/pyodide/outside.txt", "w").write("secret")',
      ],
    });
    expect(r.status).toBe('ok');
    expect(r.outputs.map((o) => o.path).sort()).toEqual(['model.json', 'sub/extra.txt']);
    expect(r.outputs.find((o) => o.path === 'model.json')!.text).toBe('{"w": 1}');
    expect(r.message).toBe('The notebook ran to the end and wrote 2 output files.');
  });

  test('a notebook that writes nothing says so', async () => {
    const r = await run({ cells: ['print("no files")'] });
    expect(r.status).toBe('ok');
    expect(r.outputs).toEqual([]);
    expect(r.message).toContain('wrote no output files');
  });

  test('outputs over the size cap end the run with a clear message', async () => {
    const r = await run({
      cells: ['import airlock\nopen(airlock.OUTPUT_DIR + "/big.bin", "wb").write(b"x" * 2_000_000)'],
      limits: { maxOutputBytes: 1_000_000 },
    });
    expect(r.status).toBe('crashed');
    expect(r.message).toContain('larger than the cap of 1000000 bytes');
  });
});

describe('concurrency', () => {
  test('two runs at once each get their own sandbox and both finish', async () => {
    const [a, b] = await Promise.all([
      run({ cells: ['import time\ntime.sleep(0.5)\nx = "first"\nprint(x)'] }),
      run({ cells: ['x = "second"\nprint(x)'] }),
    ]);
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    expect([out(a), out(b)]).toEqual(['first', 'second']);
  });
});

describe('a run whose bundle is still opening', () => {
  test('Python starts first; the notebook and wheels are taken when ready, and a bundle that fails to open ends the run before anything is installed', async () => {
    const good = makeWheel('late', '1.0', { 'late/__init__.py': 'X = 7\n' });
    const r = await page.evaluate(
      async ({ nb, wheel }) => {
        const a = (window as any).airlock;
        const later = <T>(v: T) => new Promise<T>((resolve) => setTimeout(() => resolve(v), 300));
        const ok = await a.run({
          notebook: later(nb),
          wheels: later([{ filename: wheel.filename, bytes: new Uint8Array(wheel.bytes).buffer }]),
          tables: [],
        });
        const failed = await a.run({
          notebook: new Promise((_, reject) => setTimeout(() => reject(new Error('the bundle is damaged')), 300)),
          wheels: [],
        });
        return {
          ok: {
            status: ok.status,
            out: ok.logs.map((l: { text: string }) => l.text).join(''),
            wheels: ok.wheels.length,
          },
          failed: { status: failed.status, message: failed.message },
        };
      },
      { nb: notebookJson(['import late\nprint(late.X)']), wheel: { filename: good.filename, bytes: [...good.bytes] } },
    );
    expect(r.ok).toEqual({ status: 'ok', out: '7', wheels: 1 });
    expect(r.failed.status).toBe('invalid');
    expect(r.failed.message).toContain('the bundle is damaged');
  });
});

describe('inputs handed over later (the membership audit waits for the model)', () => {
  test('Python starts and mounts the tables first; no cell runs before the inputs; a cancel while waiting ends the run at once', async () => {
    const r = await page.evaluate(
      async (nb) => {
        const a = (window as any).airlock;
        const until = async (f: () => boolean) => {
          const t = performance.now();
          while (!f()) {
            if (performance.now() - t > 60_000) throw new Error('timed out waiting');
            await new Promise((res) => setTimeout(res, 20));
          }
        };
        const seen: string[] = [];
        let give!: (files: unknown[]) => void;
        const running = a.run({
          notebook: nb,
          wheels: [],
          tables: [],
          inputs: new Promise((res) => (give = res)),
          onEvent: (e: any) => seen.push(e.type === 'stage' ? e.stage : e.type === 'cell' ? `cell ${e.state}` : e.type),
        });
        await until(() => seen.includes('mount tables'));
        // Time enough for a cell to start, if anything let it.
        await new Promise((res) => setTimeout(res, 500));
        const beforeInputs = [...seen];
        const framesWaiting = document.querySelectorAll('iframe').length;
        give([{ path: 'model.txt', bytes: new TextEncoder().encode('w = 1') }]);
        const ok = await running;

        const stop = new AbortController();
        const staged: string[] = [];
        const cancelled = a.run({
          notebook: nb,
          wheels: [],
          tables: [],
          inputs: new Promise(() => {}), // never settles: the run must not wait for it once cancelled
          signal: stop.signal,
          onEvent: (e: any) => e.type === 'stage' && staged.push(e.stage),
        });
        await until(() => staged.includes('mount tables'));
        const t = performance.now();
        stop.abort();
        const c = await cancelled;
        return {
          beforeInputs,
          framesWaiting,
          ok: { status: ok.status, out: ok.logs.map((l: { text: string }) => l.text).join('') },
          cancelled: { status: c.status, message: c.message, cells: c.cells.length, ms: performance.now() - t },
          framesAfter: document.querySelectorAll('iframe').length,
        };
      },
      notebookJson(['import airlock\nprint(open(airlock.INPUT_DIR + "/model.txt").read())']),
    );
    expect(r.beforeInputs).toContain('mount tables');
    expect(r.beforeInputs.filter((s) => s.startsWith('cell'))).toEqual([]);
    expect(r.framesWaiting).toBe(1);
    expect(r.ok).toEqual({ status: 'ok', out: 'w = 1' });
    expect(r.cancelled.status).toBe('cancelled');
    expect(r.cancelled.cells).toBe(0);
    expect(r.cancelled.message).toMatch(/cancel/i);
    expect(r.cancelled.ms).toBeLessThan(5_000);
    expect(r.framesAfter).toBe(0);
  });
});

describe('wheels', () => {
  const good = makeWheel('riskmodel', '1.2.0', {
    'riskmodel/__init__.py': 'def score(x):\n    return 2 * x\n__version__ = "1.2.0"\n',
  });

  test('a pure-Python wheel is installed by unpacking it and can be imported', async () => {
    const r = await run({
      wheels: [{ filename: good.filename, bytes: [...good.bytes] }],
      cells: ['import riskmodel\nprint(riskmodel.score(21), riskmodel.__version__)'],
    });
    expect(r.status, r.message).toBe('ok');
    expect(r.wheels).toEqual([{ filename: good.filename, name: 'riskmodel', version: '1.2.0', files: 4 }]);
    expect(out(r)).toBe('42 1.2.0');
  });

  test('installing runs none of its code: a .pth file is not executed (the audit sandbox waits with wheels installed)', async () => {
    // Before its one cell, the membership audit's sandbox holds the held-back rows and the bundle's
    // wheels beside the running notebook; nothing of the expert's may run in it until then.
    const pth = makeWheel('hooked', '1.0', {
      'hooked/__init__.py': 'X = 1\n',
      'hooked-startup.pth': 'import os; os.environ["AIRLOCK_PTH_RAN"] = "yes"\n',
    });
    const r = await run({
      wheels: [{ filename: pth.filename, bytes: [...pth.bytes] }],
      cells: [
        'import os\nprint(os.environ.get("AIRLOCK_PTH_RAN"))',
        // The control: the same file does run when site processes the folder, so it is a live hook.
        'import site\nsite.addsitedir(site.getsitepackages()[0])\nprint(os.environ.get("AIRLOCK_PTH_RAN"))',
      ],
    });
    expect(r.status, r.message).toBe('ok');
    expect(out(r, 0)).toBe('None');
    expect(out(r, 1)).toBe('yes');
  });

  test('a wheel whose file does not match its RECORD hash is refused before anything runs', async () => {
    const bad = makeWheel(
      'riskmodel',
      '1.2.0',
      { 'riskmodel/__init__.py': 'x = 1\n' },
      { tamper: 'riskmodel/__init__.py' },
    );
    const r = await run({ wheels: [{ filename: bad.filename, bytes: [...bad.bytes] }], cells: ['print("ran")'] });
    expect(r.status).toBe('invalid');
    expect(r.message).toContain('riskmodel/__init__.py does not match its RECORD');
    expect(out(r)).not.toContain('ran');
  });

  test('a wheel with a file missing from RECORD, or an unsafe path, is refused', async () => {
    const extra = makeWheel('m', '1.0', { 'm/__init__.py': '' }, { extra: { 'm/sneaky.py': 'x=1' } });
    const r1 = await run({ wheels: [{ filename: extra.filename, bytes: [...extra.bytes] }], cells: ['1'] });
    expect(r1.status).toBe('invalid');
    expect(r1.message).toContain('m/sneaky.py is not listed in RECORD');
    const escape = makeWheel('m', '1.0', { 'm/__init__.py': '', '../../etc/evil.py': 'x=1' });
    const r2 = await run({ wheels: [{ filename: escape.filename, bytes: [...escape.bytes] }], cells: ['1'] });
    expect(r2.message).toContain('unsafe path in archive');
    const notZip = { filename: 'junk-1.0-py3-none-any.whl', bytes: [1, 2, 3, 4] };
    const r3 = await run({ wheels: [notZip], cells: ['1'] });
    expect(r3.message).toContain('not a zip file');
    // A compiled extension, and a wheel that says it is not pure Python.
    const so = makeWheel('m', '1.0', { 'm/__init__.py': '', 'm/_fast.cpython-312-wasm32-emscripten.so': 'ELF' });
    expect((await run({ wheels: [{ filename: so.filename, bytes: [...so.bytes] }], cells: ['1'] })).message).toContain(
      'contains compiled code',
    );
  });
});

describe('limits', () => {
  test('a runaway cell is stopped by the time limit, and the app stays usable', async () => {
    const t0 = Date.now();
    const r = await run({ cells: ['print("start")', 'while True:\n    pass'], limits: { timeLimitMs: 8_000 } });
    expect(r.status).toBe('timeout');
    expect(r.message).toBe('Cell 2 did not finish within the time limit and was stopped.');
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(await page.evaluate(() => document.querySelectorAll('iframe').length)).toBe(0);
    const again = await run({ cells: ['print("still here")'] });
    expect(again.status).toBe('ok');
    expect(out(again)).toBe('still here');
  });

  test('a notebook that writes 10 GB ends with a clear error, and the app stays usable', async () => {
    // The in-memory file system grows by copying, so the write slows down long before memory runs
    // out: the time limit or a MemoryError ends it, whichever comes first. Nothing leaves either way.
    const r = await run({
      cells: [
        'import airlock\nchunk = b"0" * (64 << 20)\nwith open(airlock.OUTPUT_DIR + "/huge.bin", "wb") as f:\n    for i in range(160):\n        f.write(chunk)',
      ],
      limits: { timeLimitMs: 20_000 },
    });
    expect(['failed', 'crashed', 'timeout']).toContain(r.status);
    expect(r.message).toMatch(/MemoryError|OSError|No space|out of memory|time limit/i);
    expect(r.outputs).toEqual([]);
    expect(out(await run({ cells: ['print("fine")'] }))).toBe('fine');
  });

  test('a memory bomb ends the run with a clear error', async () => {
    const r = await run({
      cells: ['chunks = []\nwhile True:\n    chunks.append(bytearray(256 * 1024 * 1024))'],
      limits: { timeLimitMs: 90_000 },
    });
    expect(['failed']).toContain(r.status);
    expect(r.message).toMatch(/MemoryError/);
    const again = await run({ cells: ['print("recovered")'] });
    expect(out(again)).toBe('recovered');
  });
});

describe('the host trusts nothing the sandbox sends', () => {
  // A stand-in worker that speaks the protocol badly on purpose: it forges events, floods, and
  // answers calls with malformed or oversized replies. It runs in the real frame.
  const hostile = (reply: string) => `
    self.onmessage = (e) => {
      const port = e.data.port;
      const ev = (x) => port.postMessage({ 'airlock:event': x });
      port.onmessage = (m) => {
        const { id, path } = m.data;
        ev({ type: 'log', cell: 0, stream: 'stdout', text: '<img src=x onerror=alert(1)><script>parent.document.title="pwned"</script>' });
        ev({ type: 'log', cell: 0, stream: 'stdout', text: 'A'.repeat(100000) });
        ev({ type: 'nonsense', payload: 1 });
        ev({ type: 'progress', fraction: 'lots', message: 1 });
        ev({ type: 'log', cell: 'x', stream: 'stdout', text: 'bad cell' });
        port.postMessage({ id, type: 'RAW', value: path[0] === 'boot' ? { pythonVersion: '3', pyodideVersion: 'x', ms: 1 } : (${reply}) });
      };
    };`;

  test('malformed events are recorded as protocol tripwires, oversized text is cut, HTML stays text', async () => {
    const r = await run({
      cells: ['1'],
      workerSource: hostile(
        `path[0] === 'runCell' ? { ok: true, ms: 1 } : path[0] === 'collectOutputs' ? [] : undefined`,
      ),
    });
    expect(r.status).toBe('ok');
    const names = r.tripwires.map((t) => `${t.name}: ${t.detail}`);
    expect(names).toContain('protocol: unknown event type');
    expect(names).toContain('protocol: progress fraction is not a number');
    expect(names).toContain('protocol: log cell is not an index');
    const long = r.logs.find((l) => l.text.startsWith('AAAA'))!;
    expect(long.text.length).toBeLessThan(17_000);
    expect(long.text).toContain('[cut: ');
    expect(await page.title()).not.toBe('pwned');
  });

  test('a malformed reply ends the run and is reported', async () => {
    const r = await run({ cells: ['1'], workerSource: hostile(`path[0] === 'runCell' ? { ok: 'yes' } : []`) });
    expect(r.status).toBe('crashed');
    expect(r.message).toBe('The sandbox sent a malformed reply (cell reply is malformed); the run was stopped.');
  });

  test('forged output paths that escape the folder are refused', async () => {
    for (const path of ['../escape.txt', '/etc/passwd', 'a/../../b', 'ok\\\\..\\\\x']) {
      const r = await run({
        cells: ['1'],
        workerSource: hostile(
          `path[0] === 'runCell' ? { ok: true, ms: 1 } : [{ path: ${JSON.stringify(path)}, bytes: new Uint8Array(3) }]`,
        ),
      });
      expect(r.status, path).toBe('crashed');
      expect(r.message).toContain('output path is not a plain relative path');
    }
  });

  test('a reply that claims more output than the cap is refused', async () => {
    const r = await run({
      cells: ['1'],
      limits: { maxOutputBytes: 10 },
      workerSource: hostile(`path[0] === 'runCell' ? { ok: true, ms: 1 } : [{ path: 'a', bytes: new Uint8Array(11) }]`),
    });
    expect(r.status).toBe('crashed');
    expect(r.message).toContain('outputs exceed the cap of 10 bytes');
  });

  test('a worker that never answers is stopped by the time limit, as a timeout of the run', async () => {
    // Python starting counts inside the run's time limit: a worker that never answers runs that limit out.
    const t0 = Date.now();
    const r = await run({ cells: ['1'], limits: { timeLimitMs: 3000 }, workerSource: 'self.onmessage = () => {}' });
    expect(r.status).toBe('timeout');
    expect(r.message).toContain('Python was still starting');
    expect(r.cells).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('the frame and its policy', () => {
  test('the sandbox frame has an opaque origin, scripts only, and the pinned CSP', async () => {
    const info = await page.evaluate(async () => {
      const p = (window as any).airlock.run({
        notebook: JSON.stringify({
          nbformat: 4,
          cells: [{ cell_type: 'code', source: 'import time\nt = time.time()\nwhile time.time() - t < 3: pass' }],
        }),
      });
      let frame: HTMLIFrameElement | null = null;
      for (let i = 0; i < 100 && !frame; i++) {
        await new Promise((r) => setTimeout(r, 50));
        frame = document.querySelector('iframe');
      }
      const result = {
        sandbox: frame!.getAttribute('sandbox'),
        csp: /content="([^"]+)"/.exec(frame!.srcdoc)?.[1]?.replace(/&#39;|&apos;/g, "'"),
        originReadable: (() => {
          try {
            return String(frame!.contentWindow!.document);
          } catch (e) {
            return (e as Error).name;
          }
        })(),
      };
      await p;
      return result;
    });
    expect(info.sandbox).toBe('allow-scripts');
    expect(info.originReadable).toBe('SecurityError');
    expect(info.csp).toMatch(/default-src 'none'/);
    expect(info.csp).toMatch(/connect-src 'none'/);
    expect(info.csp).toMatch(/worker-src blob:/);
    expect(info.csp).not.toMatch(/'unsafe-eval'/);
    expect(info.csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+' blob: 'wasm-unsafe-eval'/);
  });

  test('the worker inherits the frame CSP: a blocked connection from inside it raises a violation there', async () => {
    // With the tripwires off, `js` is the worker's real global scope; the fetch goes out to the CSP,
    // and the violation event fires inside the worker (only possible if the policy applies there).
    const r = await page.evaluate(async () => {
      const rep = await (window as any).airlock.run({
        tripwires: false,
        notebook: JSON.stringify({
          nbformat: 4,
          cells: [
            {
              cell_type: 'code',
              source:
                'import js\ntry:\n    await js.fetch("http://127.0.0.1:9/inherit")\nexcept Exception as e:\n    print(type(e).__name__)\nimport asyncio\nawait asyncio.sleep(0.2)',
            },
          ],
        }),
      });
      return rep;
    });
    expect(r.tripwires.map((t: { name: string }) => t.name)).toContain('csp:connect-src');
  });
});

describe('network', () => {
  test('a whole session of runs made no request to any host but the app’s own', () => {
    // Runs every test above in this page first (vitest runs this file's tests in order).
    expect(requests.length).toBeGreaterThan(5);
    const foreign = requests.filter(
      (u) =>
        !u.startsWith(server.origin + '/') &&
        !u.startsWith('blob:') &&
        !u.startsWith('data:') &&
        !u.startsWith('about:'),
    );
    expect(foreign).toEqual([]);
    const pyodide = requests.filter((u) => u.includes('/pyodide/'));
    expect(pyodide.length).toBeGreaterThanOrEqual(5);
  });
});
