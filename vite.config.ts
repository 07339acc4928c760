import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { rolldown } from 'rolldown';
import { readFileSync, createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const pyodideDir = join(root, 'node_modules', 'pyodide');
const pyodideVersion = (JSON.parse(readFileSync(join(pyodideDir, 'package.json'), 'utf8')) as { version: string }).version;

/** The Pyodide files the sandbox needs; the host fetches them same-origin and transfers the bytes in. */
export const PYODIDE_FILES = [
  'pyodide.mjs',
  'pyodide.asm.mjs',
  'pyodide.asm.wasm',
  'python_stdlib.zip',
  'pyodide-lock.json',
] as const;

/**
 * Self-host Pyodide from the npm package: served from node_modules in dev, emitted into
 * `dist/pyodide/<version>/` in a build. Nothing is ever loaded from a CDN.
 */
function pyodideAssets(): Plugin {
  const prefix = `/pyodide/${pyodideVersion}/`;
  return {
    name: 'airlock:pyodide-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = req.url?.split('?')[0] ?? '';
        const name = url.startsWith(prefix) ? url.slice(prefix.length) : '';
        if (!(PYODIDE_FILES as readonly string[]).includes(name)) return next();
        const type = name.endsWith('.wasm') ? 'application/wasm' : name.endsWith('.mjs') ? 'text/javascript' : name.endsWith('.json') ? 'application/json' : 'application/zip';
        res.setHeader('content-type', type);
        createReadStream(join(pyodideDir, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const name of PYODIDE_FILES) {
        this.emitFile({ type: 'asset', fileName: `pyodide/${pyodideVersion}/${name}`, source: readFileSync(join(pyodideDir, name)) });
      }
    },
  };
}

/**
 * `import source from './entry.ts?iife'` bundles `entry.ts` into one classic script and gives its text.
 * The sandbox needs code as text: the frame's bootstrap is inlined into `srcdoc` and pinned by its
 * CSP hash, and the worker is started from a blob: URL so that it inherits the frame's CSP (a worker
 * loaded by URL would take its policy from response headers, which a static host cannot set).
 */
function iifeString(): Plugin {
  return {
    name: 'airlock:iife-string',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (!source.endsWith('?iife') || !importer) return null;
      const resolved = await this.resolve(source.slice(0, -'?iife'.length), importer, { skipSelf: true });
      return resolved ? `\0iife:${resolved.id}` : null;
    },
    async load(id) {
      if (!id.startsWith('\0iife:')) return null;
      const entry = id.slice('\0iife:'.length);
      const bundle = await rolldown({ input: entry, platform: 'browser', logLevel: 'silent' });
      try {
        const { output } = await bundle.generate({ format: 'iife', minify: false });
        for (const chunk of output) if (chunk.type === 'chunk' && chunk.moduleIds) for (const m of chunk.moduleIds) if (existsSync(m)) this.addWatchFile(m);
        const code = output[0].code;
        return `export default ${JSON.stringify(code)};`;
      } finally {
        await bundle.close();
      }
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [pyodideAssets(), iifeString(), svelte()],
  define: {
    __AIRLOCK_VERSION__: JSON.stringify(pkg.version),
    __PYODIDE_VERSION__: JSON.stringify(pyodideVersion),
  },
  build: {
    target: 'es2022',
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  worker: { format: 'es' },
});
