import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildWheel, readPyproject, WheelError } from '../../lib/wheel/index.ts';
import { CliError, EXIT, out, parse, type Command } from '../io.ts';

const usage = `usage: airlock build-wheel <dir> [-o <outdir>]

Builds a pure-Python wheel from <dir>, which holds a pyproject.toml with [project] name and version.
Packages are found as src/<pkg>/ or <pkg>/ folders with an __init__.py; every file in them is
included (except __pycache__ and .pyc). Writes <outdir>/<name>-<version>-py3-none-any.whl
(default <dir>/dist) and prints its path.`;

function walk(dir: string, base: string, files: Record<string, Uint8Array>): void {
  for (const name of readdirSync(dir).sort()) {
    if (name === '__pycache__' || name.endsWith('.pyc') || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, base, files);
    else files[relative(base, p).split('\\').join('/')] = readFileSync(p);
  }
}

export const buildWheelCommand: Command = {
  name: 'build-wheel',
  summary: 'build a pure-Python wheel from a folder with a pyproject.toml',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { output: { type: 'string', short: 'o' } }, usage, true);
    if (values.help) return (out(usage), EXIT.ok);
    if (positionals.length !== 1) throw new CliError(`give one source folder\n\n${usage}`, EXIT.usage);
    const dir = resolve(positionals[0]!);
    const pyproject = join(dir, 'pyproject.toml');
    if (!existsSync(pyproject))
      throw new CliError(`${pyproject} not found: build-wheel needs a pyproject.toml with [project] name and version`);
    try {
      const meta = readPyproject(readFileSync(pyproject, 'utf8'));
      const root = existsSync(join(dir, 'src')) ? join(dir, 'src') : dir;
      const files: Record<string, Uint8Array> = {};
      for (const name of readdirSync(root).sort()) {
        const p = join(root, name);
        if (statSync(p).isDirectory() && existsSync(join(p, '__init__.py')) && name !== 'tests') walk(p, root, files);
      }
      if (!Object.keys(files).length)
        throw new CliError(`no package found in ${root}: expected a folder with an __init__.py`);
      const wheel = buildWheel({ ...meta, files });
      const outDir = resolve(values.output ?? join(dir, 'dist'));
      mkdirSync(outDir, { recursive: true });
      const path = join(outDir, wheel.filename);
      writeFileSync(path, wheel.bytes);
      out(path);
      return EXIT.ok;
    } catch (e) {
      if (e instanceof WheelError) throw new CliError(e.message);
      throw e;
    }
  },
};
