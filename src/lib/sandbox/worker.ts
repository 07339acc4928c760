/**
 * The sandbox worker: Pyodide, the expert's wheels and notebook, the owner's tables.
 *
 * Bundled into one classic script (`?iife`) and started by the frame from a blob: URL, so it
 * inherits the frame's Content-Security-Policy (a worker loaded by URL would take its policy from
 * HTTP headers, which a static host cannot set). A module-type blob worker fails inside the opaque
 * frame; a classic one can still `import()` blob: modules, which is how Pyodide is loaded.
 *
 * Start-up is a sequence of named stages, as in Pyodide's own loader: load runtime → lock down →
 * install wheels → mount tables → run cells → collect outputs. Everything this worker receives
 * arrives as bytes; nothing here fetches. The host trusts nothing this file sends back, because
 * once the expert's code runs it controls this whole realm.
 */
import { expose, transfer } from 'comlink';
import type { PyodideAPI } from 'pyodide';
// One airlock module for the sandbox and for local development (python/airlock_local).
import airlockPy from '../../../python/airlock_local/airlock/__init__.py?raw';
import {
  encodeEvent,
  isSafeOutputPath,
  type BootOptions,
  type CellResult,
  type InstalledWheel,
  type OutputFile,
  type PyodideAssets,
  type SandboxEvent,
  type SandboxTable,
  type SandboxWorkerApi,
} from './protocol.ts';
import type { UnpackedWheel } from '../wheel/index.ts';
import { installTripwires, TRIPWIRE_GLOBALS } from './tripwires.ts';

declare const self: DedicatedWorkerGlobalScope;

/** Never contacted: Pyodide wants an index URL, and every file under it is served from memory. */
const FAKE_INDEX = 'https://pyodide.airlock.invalid/';
const OUTPUT_DIR = '/airlock/output';
const INPUT_DIR = '/airlock/input';

let port: MessagePort;
let py: PyodideAPI | undefined;
let nbGlobals: ReturnType<PyodideAPI['toPy']> | undefined;
let currentCell = -1;
/** Set when Pyodide reports a fatal error: the runtime is unusable from then on. */
let fatal: unknown;
const onFatal = new Set<(e: unknown) => void>();
const tables = new Map<string, SandboxTable>();

function emit(event: SandboxEvent): void {
  port.postMessage(encodeEvent(event));
}

function blobUrl(bytes: ArrayBuffer, type: string): string {
  return URL.createObjectURL(new Blob([bytes], { type }));
}

function requirePython(): PyodideAPI {
  if (!py) throw new Error('python is not running; boot first');
  if (fatal !== undefined) throw new Error(`the Python runtime stopped after a fatal error: ${describeError(fatal)}`);
  return py;
}

/** Settles with the fatal error if Pyodide dies while `work` is pending. */
function unlessFatal<T>(work: Promise<T>): Promise<T> {
  let off = () => {};
  const died = new Promise<never>((_, reject) => {
    const f = (e: unknown) => reject(e);
    onFatal.add(f);
    off = () => onFatal.delete(f);
  });
  return Promise.race([work, died]).finally(off);
}

/**
 * Boot-time shims, removed again before any of the expert's code runs: `fetch` serves the
 * transferred runtime files and nothing else; `importScripts` throws so that Pyodide's
 * classic-worker probe (`importScripts("data:…")`) answers "module worker" whether or not a CSP
 * blocks data: scripts (it does in the frame; it does not in the unprotected test control).
 */
function withBootShims<T>(files: Map<string, ArrayBuffer>, body: () => Promise<T>): Promise<T> {
  const g = self as unknown as Record<string, unknown>;
  g.fetch = async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    const name = url.startsWith(FAKE_INDEX) ? url.slice(FAKE_INDEX.length) : '';
    const bytes = files.get(name);
    if (!bytes) throw new TypeError(`airlock: the sandbox has no network (asked for ${url.slice(0, 200)})`);
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    return new Response(bytes, { status: 200, headers: { 'content-type': type } });
  };
  g.importScripts = () => {
    throw new TypeError('importScripts is not available');
  };
  return body().finally(() => {
    delete g.fetch;
    delete g.importScripts;
  });
}

/**
 * The object Python sees as `js`: nothing useful in it. Names that lead out (network, storage,
 * workers, eval, the global object) are getters that record the attempt; everything else is simply
 * absent. (A Proxy that records every lookup would also record Pyodide's own probing of the object.)
 */
function minimalJsGlobals(): object {
  const js = Object.create(null) as Record<string, unknown>;
  for (const name of [
    ...TRIPWIRE_GLOBALS,
    'self',
    'globalThis',
    'window',
    'location',
    'navigator',
    'eval',
    'Function',
    'postMessage',
    'close',
  ]) {
    Object.defineProperty(js, name, {
      get() {
        emit({ type: 'tripwire', name: `js.${name}`, detail: `Python looked up js.${name}` });
        return undefined;
      },
    });
  }
  return Object.freeze(js);
}

/**
 * Columns as Python receives them: the typed array itself (Python copies it into an `array.array`
 * of the same format in one memcpy); missing numbers become NaN in a Float64Array.
 */
function prepareColumn(col: SandboxTable['columns'][number]): {
  kind: string;
  values: Int32Array | Float64Array | Uint8Array;
  byteLength: number;
  dictionary?: string[];
} {
  const kindOf = (a: ArrayBufferView) =>
    a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : 'uint8';
  if (col.type === 'string')
    return { kind: 'int32', values: col.values, byteLength: col.values.byteLength, dictionary: col.dictionary ?? [] };
  let values = col.values;
  if (col.valid && !(values instanceof Float64Array)) {
    const out = new Float64Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = col.valid[i] ? values[i]! : NaN;
    values = out;
  } else if (col.valid && values instanceof Float64Array) {
    for (let i = 0; i < values.length; i++) if (!col.valid[i]) values[i] = NaN;
  }
  return { kind: kindOf(values), values, byteLength: values.byteLength };
}

/** Loads Pyodide from the transferred bytes (and memory snapshot, if given). */
async function startPython(assets: PyodideAssets, jsglobals: object, makeSnapshot: boolean): Promise<PyodideAPI> {
  const files = new Map<string, ArrayBuffer>([
    ['pyodide.asm.wasm', assets.pyodideAsmWasm],
    ['python_stdlib.zip', assets.pythonStdlibZip],
  ]);
  const lockFileContents = new TextDecoder().decode(assets.pyodideLockJson);
  // Compile the 10 MB module while the 1.2 MB loader script is parsed, instead of after it:
  // Pyodide asks for `instantiateStreaming` only once its loader has run.
  const compiled = WebAssembly.compile(assets.pyodideAsmWasm);
  compiled.catch(() => {}); // a failure surfaces through instantiate below
  const wasm = WebAssembly as unknown as Record<string, unknown>;
  const instantiateStreaming = wasm.instantiateStreaming;
  wasm.instantiateStreaming = async (_response: unknown, imports: WebAssembly.Imports) => {
    const module = await compiled;
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  };
  try {
    return await withBootShims(files, async () => {
      const asm = await import(/* @vite-ignore */ blobUrl(assets.pyodideAsmMjs, 'text/javascript'));
      const { loadPyodide } = (await import(
        /* @vite-ignore */ blobUrl(assets.pyodideMjs, 'text/javascript')
      )) as typeof import('pyodide');
      return loadPyodide({
        indexURL: FAKE_INDEX,
        packageBaseUrl: FAKE_INDEX,
        lockFileContents,
        createPyodideModule: asm.default,
        jsglobals,
        env: { HOME: '/home/pyodide', PYTHONHASHSEED: '0' },
        stdout: (text) => emit({ type: 'log', cell: -1, stream: 'stdout', text }),
        stderr: (text) => emit({ type: 'log', cell: -1, stream: 'stderr', text }),
        ...(makeSnapshot ? { _makeSnapshot: true } : {}),
        ...(assets.snapshot ? { _loadSnapshot: new Uint8Array(assets.snapshot) } : {}),
      });
    });
  } finally {
    files.clear();
    wasm.instantiateStreaming = instantiateStreaming;
  }
}

const api: SandboxWorkerApi = {
  async snapshot(assets: PyodideAssets) {
    // The same `js` object shape as a normal boot, so the image matches what boot() restores into.
    const p = await startPython({ ...assets, snapshot: undefined }, minimalJsGlobals(), true);
    const image = p.makeMemorySnapshot();
    return transfer(image.buffer as ArrayBuffer, [image.buffer as ArrayBuffer]);
  },

  async boot(assets: PyodideAssets, options: BootOptions) {
    const t0 = performance.now();
    emit({ type: 'stage', stage: 'load runtime' });
    py = await startPython(assets, options.tripwires ? minimalJsGlobals() : self, false);
    const p = py;
    // A fatal error leaves the pending promise unsettled forever; surface it instead (pyodide
    // calls API.on_fatal from its fatal_error handler).
    (p as unknown as { _api: { on_fatal?: (e: unknown) => void } })._api.on_fatal = (e) => {
      fatal = e;
      for (const f of onFatal) f(e);
    };
    p.setStdout({ batched: (text) => emit({ type: 'log', cell: currentCell, stream: 'stdout', text }) });
    p.setStderr({ batched: (text) => emit({ type: 'log', cell: currentCell, stream: 'stderr', text }) });

    p.registerJsModule('_airlock_host', {
      names: () => [...tables.keys()],
      describe: (name: string) => {
        const t = tables.get(name);
        // undefined (not null) so that Python sees None
        return t
          ? {
              rowCount: t.rowCount,
              heldOut: t.heldOut ?? 0,
              columns: t.columns.map((c) => c.name),
              types: t.columns.map((c) => c.type),
            }
          : undefined;
      },
      column: (table: string, column: string) => {
        const col = tables.get(table)?.columns.find((c) => c.name === column);
        if (!col) throw new Error(`no column ${column} in ${table}`);
        return prepareColumn(col);
      },
      // Metrics come as JSON text from airlock.progress; anything else (a notebook calling this
      // module directly) is dropped here, and the host checks what remains (protocol.ts).
      progress: (fraction: number, message: string, metrics?: unknown) => {
        let parsed: unknown;
        if (typeof metrics === 'string' && metrics.length <= 4096) {
          try {
            parsed = JSON.parse(metrics);
          } catch {
            parsed = undefined;
          }
        }
        emit({
          type: 'progress',
          fraction,
          message,
          ...(parsed === undefined ? {} : { metrics: parsed as Record<string, number> }),
        });
      },
    });
    p.FS.mkdirTree(OUTPUT_DIR);
    p.FS.mkdirTree('/airlock/lib');
    p.FS.writeFile('/airlock/lib/airlock.py', airlockPy, { encoding: 'utf8' } as never);
    p.runPython(`import sys; sys.path.insert(0, '/airlock/lib')`);
    nbGlobals = p.toPy({ __name__: '__main__' });
    const pythonVersion = String(p.runPython('import sys; sys.version.split()[0]'));

    if (options.tripwires) {
      emit({ type: 'stage', stage: 'lock down' });
      installTripwires(self, (name, detail) => emit({ type: 'tripwire', name, detail }));
    }
    return { pythonVersion, pyodideVersion: p.version, ms: performance.now() - t0 };
  },

  async installWheels(wheels: UnpackedWheel[]): Promise<InstalledWheel[]> {
    const p = requirePython();
    emit({ type: 'stage', stage: 'install wheels' });
    const site = String(p.runPython('import site; site.getsitepackages()[0]'));
    const out: InstalledWheel[] = [];
    for (const w of wheels) {
      // The host checked everything; the paths are checked again because this is where they are used.
      for (const f of w.files) {
        if (!isSafeOutputPath(f.path)) throw new Error(`${w.filename}: unsafe path in archive: ${f.path.slice(0, 80)}`);
        const path = `${site}/${f.path}`;
        p.FS.mkdirTree(path.slice(0, path.lastIndexOf('/')));
        // canOwn: the file system keeps this view of the transferred buffer instead of copying it.
        p.FS.writeFile(path, new Uint8Array(w.data, f.offset, f.length), { canOwn: true });
      }
      out.push({ filename: w.filename, name: w.name, version: w.version, files: w.files.length });
    }
    // Only site-packages' finder forgets what it listed: importlib.invalidate_caches() would also
    // make the standard library's zip importer re-read its directory (~0.25 s here).
    p.runPython(
      `import sys\nsys.path_importer_cache.pop(${JSON.stringify(site)}, None)\nif ${JSON.stringify(site)} not in sys.path: sys.path.append(${JSON.stringify(site)})`,
    );
    return out;
  },

  async mountTables(list: SandboxTable[]) {
    emit({ type: 'stage', stage: 'mount tables' });
    for (const t of list) tables.set(t.name, t);
  },

  async writeInputs(files: OutputFile[]) {
    const p = requirePython();
    for (const f of files) {
      // Same rule as outputs: plain relative paths only.
      if (!isSafeOutputPath(f.path)) throw new Error(`unsafe input path ${f.path.slice(0, 80)}`);
      const path = `${INPUT_DIR}/${f.path}`;
      p.FS.mkdirTree(path.slice(0, path.lastIndexOf('/')));
      p.FS.writeFile(path, f.bytes);
    }
  },

  async runCell(index: number, code: string): Promise<CellResult> {
    const p = requirePython();
    currentCell = index;
    const t0 = performance.now();
    try {
      const value = await unlessFatal(
        p.runPythonAsync(code, { globals: nbGlobals as never, filename: `<cell ${index + 1}>` }),
      );
      if (value !== undefined && value !== null) {
        const text = typeof value === 'object' && 'toString' in value ? String(value) : String(value);
        emit({ type: 'log', cell: index, stream: 'stdout', text });
        if (typeof value === 'object' && 'destroy' in value) (value as { destroy(): void }).destroy();
      }
      return { ok: true, ms: performance.now() - t0 };
    } catch (err) {
      return { ok: false, error: describeError(err), ms: performance.now() - t0 };
    } finally {
      try {
        if (fatal === undefined) p.runPython('import sys; sys.stdout.flush(); sys.stderr.flush()');
      } catch {
        /* the runtime may be gone after a fatal error; the reply below says so */
      }
    }
  },

  async collectOutputs(limits): Promise<OutputFile[]> {
    const p = requirePython();
    emit({ type: 'stage', stage: 'collect outputs' });
    const FS = p.FS;
    const out: OutputFile[] = [];
    let total = 0;
    const walk = (dir: string, rel: string) => {
      for (const name of FS.readdir(dir) as string[]) {
        if (name === '.' || name === '..') continue;
        const path = `${dir}/${name}`;
        const relPath = rel ? `${rel}/${name}` : name;
        const st = FS.lstat(path);
        if (FS.isDir(st.mode)) walk(path, relPath);
        else if (FS.isFile(st.mode)) {
          if (out.length >= limits.maxFiles)
            throw new Error(`the notebook wrote more than ${limits.maxFiles} output files`);
          total += st.size;
          if (total > limits.maxBytes)
            throw new Error(`the notebook's outputs are larger than the cap of ${limits.maxBytes} bytes`);
          out.push({ path: relPath, bytes: FS.readFile(path) as Uint8Array });
        }
        // Symlinks and devices are skipped: only regular files inside the folder count.
      }
    };
    walk(OUTPUT_DIR, '');
    return out;
  },
};

function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) {
    const msg = String((err as Error).message);
    if (/RangeError: .*memory|Out of memory|Aborted\(OOM\)|MemoryError/i.test(msg) && fatal !== undefined) {
      return 'MemoryError: the notebook ran out of memory and the Python runtime stopped';
    }
    if (fatal !== undefined && err === fatal) {
      const cause = msg.split('\n').find((l) => l.trim()) ?? 'unknown cause';
      return `RuntimeError: the Python runtime stopped after a fatal error (${cause.slice(0, 200)})`;
    }
    return msg;
  }
  return String(err);
}

// The frame hands over one port; everything after that goes through it.
self.addEventListener(
  'message',
  (event: MessageEvent) => {
    const p = (event.data as { port?: unknown } | null)?.port;
    if (!(p instanceof MessagePort)) return;
    port = p;
    expose(api, port);
  },
  { once: true },
);
// Content-Security-Policy violations inside this worker are evidence of an attempt to get out.
self.addEventListener('securitypolicyviolation', (ev: Event) => {
  const e = ev as SecurityPolicyViolationEvent;
  if (port)
    emit({ type: 'tripwire', name: `csp:${e.effectiveDirective}`, detail: `blocked ${e.blockedURI.slice(0, 200)}` });
});
