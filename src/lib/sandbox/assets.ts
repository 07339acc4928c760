/**
 * The Pyodide runtime files, fetched once from this site (same origin, self-hosted by the build
 * under `pyodide/<version>/`) and kept for the page's lifetime. Each sandbox gets copies.
 */
import type { PyodideAssets } from './protocol.ts';

const FILES = {
  pyodideMjs: 'pyodide.mjs',
  pyodideAsmMjs: 'pyodide.asm.mjs',
  pyodideAsmWasm: 'pyodide.asm.wasm',
  pythonStdlibZip: 'python_stdlib.zip',
  pyodideLockJson: 'pyodide-lock.json',
} as const satisfies Record<Exclude<keyof PyodideAssets, 'snapshot'>, string>;

let cached: Promise<PyodideAssets> | undefined;

/** The directory the build puts Pyodide in, relative to the page. */
export function pyodideBaseUrl(base: string = document.baseURI): string {
  return new URL(`pyodide/${__PYODIDE_VERSION__}/`, base).href;
}

/**
 * Loads the runtime files once per page.
 * @throws Error naming the file that could not be loaded.
 */
export function loadPyodideAssets(base = pyodideBaseUrl()): Promise<PyodideAssets> {
  cached ??= (async () => {
    const entries = await Promise.all(
      Object.entries(FILES).map(async ([key, file]) => {
        const res = await fetch(new URL(file, base));
        if (!res.ok)
          throw new Error(
            `could not load the Python runtime file ${file} (HTTP ${res.status}); is the site deployed whole?`,
          );
        return [key, await res.arrayBuffer()] as const;
      }),
    );
    return Object.fromEntries(entries) as unknown as PyodideAssets;
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
