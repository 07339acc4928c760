import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { rolldown } from 'rolldown';
import { readFileSync, createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';

const root = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const pyodideDir = join(root, 'node_modules', 'pyodide');
const pyodideVersion = (JSON.parse(readFileSync(join(pyodideDir, 'package.json'), 'utf8')) as { version: string })
  .version;

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
        const type = name.endsWith('.wasm')
          ? 'application/wasm'
          : name.endsWith('.mjs')
            ? 'text/javascript'
            : name.endsWith('.json')
              ? 'application/json'
              : 'application/zip';
        res.setHeader('content-type', type);
        createReadStream(join(pyodideDir, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const name of PYODIDE_FILES) {
        this.emitFile({
          type: 'asset',
          fileName: `pyodide/${pyodideVersion}/${name}`,
          source: readFileSync(join(pyodideDir, name)),
        });
      }
    },
  };
}

/** Bundles one entry into a single classic script (IIFE) and returns its text. */
async function bundleIife(entry: string): Promise<{ code: string; files: string[] }> {
  // The nested bundle has no Vite pipeline, so `?raw` (the sandbox's Python sources) is handled here.
  const raw = {
    name: 'raw',
    resolveId(source: string, importer?: string) {
      return source.endsWith('?raw') && importer ? join(dirname(importer), source.slice(0, -4)) + '?raw' : null;
    },
    load(id: string) {
      return id.endsWith('?raw') ? `export default ${JSON.stringify(readFileSync(id.slice(0, -4), 'utf8'))};` : null;
    },
  };
  const bundle = await rolldown({ input: entry, platform: 'browser', logLevel: 'silent', plugins: [raw] });
  try {
    const { output } = await bundle.generate({ format: 'iife', minify: false });
    const files = output
      .flatMap((c) => (c.type === 'chunk' ? c.moduleIds : []))
      .map((m) => m.replace(/\?raw$/, ''))
      .filter((m) => existsSync(m));
    return { code: output[0].code, files };
  } finally {
    await bundle.close();
  }
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
      const { code, files } = await bundleIife(id.slice('\0iife:'.length));
      for (const f of files) this.addWatchFile(f);
      return `export default ${JSON.stringify(code)};`;
    },
  };
}

/**
 * The sandbox frame is an srcdoc document, which inherits this page's CSP as well as carrying its
 * own; the app's policy must therefore allow the frame's bootstrap script by the same hash.
 */
function appCsp(): Plugin {
  return {
    name: 'airlock:app-csp',
    async transformIndexHtml(html) {
      const { code } = await bundleIife(join(root, 'src/lib/sandbox/frame.ts'));
      const hash = `'sha256-${createHash('sha256').update(code, 'utf8').digest('base64')}'`;
      return html.replace("'%SANDBOX_FRAME_HASH%'", hash);
    },
  };
}

/**
 * The app's service worker (src/app/offline/sw.js), written into the build with its version and the
 * files it keeps for offline use: every emitted file but source maps, the Python runtime included
 * (the page fetches it before the worker controls the page, so it is cached at install). The
 * sandbox is not affected (see sw.js).
 */
function offline(): Plugin {
  return {
    name: 'airlock:offline',
    apply: 'build',
    generateBundle(_options, bundle) {
      const shell = ['./', ...Object.keys(bundle).filter((f) => !f.endsWith('.map'))]
        .concat(['favicon.svg', 'manifest.webmanifest'])
        .filter((f, i, all) => all.indexOf(f) === i)
        .sort();
      const version = createHash('sha256')
        .update(JSON.stringify(shell))
        .update(pyodideVersion)
        .digest('hex')
        .slice(0, 12);
      const source = readFileSync(join(root, 'src/app/offline/sw.js'), 'utf8')
        .replace("'__AIRLOCK_SW_VERSION__'", JSON.stringify(version))
        .replace('const SHELL = __AIRLOCK_SW_SHELL__;', `const SHELL = ${JSON.stringify(shell)};`);
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [pyodideAssets(), iifeString(), appCsp(), svelte(), offline()],
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
