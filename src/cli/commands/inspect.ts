import { statSync } from 'node:fs';
import { BundleError, openBundle } from '../../lib/bundle/index.ts';
import { CliError, EXIT, out, parse, readFileChunks, type Command } from '../io.ts';
import { startNodeLanes } from '../lanes.ts';
import { mustExist, readIdentity, readText } from '../keys.ts';

const usage = `usage: airlock inspect <bundle.airlock> -i owner.key [--expert expert.pub] [--json]

Opens a bundle with the owner's key and checks it: decryption, archive, manifest, signature, and
every file's hash. Prints what the bundle is (name, version, author, files, sizes, hashes), never
its code. --expert refuses a bundle signed by any other key. Exit 0 if every check passed.`;

export const inspect: Command = {
  name: 'inspect',
  summary: 'check a bundle and show its manifest (never its code)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { identity: { type: 'string', short: 'i' }, expert: { type: 'string' }, json: { type: 'boolean' } },
      usage,
      true,
    );
    if (values.help) return (out(usage), EXIT.ok);
    if (positionals.length !== 1 || !values.identity)
      throw new CliError(`give one bundle and -i owner.key\n\n${usage}`, EXIT.usage);
    const path = positionals[0]!;
    mustExist(path, 'bundle');
    const identity = await readIdentity(values.identity);
    const expert = values.expert ? readText(values.expert, 'expert key') : undefined;
    const threads = startNodeLanes(statSync(path).size);
    try {
      const b = await openBundle({ stream: readFileChunks(path), size: statSync(path).size }, identity, {
        expert,
        lanes: threads.lanes,
      });
      const m = b.manifest;
      if (values.json) {
        out(JSON.stringify({ ok: true, signer: b.signer, pinned: !!expert, manifest: m }, null, 2));
        return EXIT.ok;
      }
      const lines = [
        `bundle     ${m.name} ${m.version} (format ${m.formatVersion}), created ${m.created}`,
        `signed by  ${b.signer}${expert ? ' (the pinned expert)' : ' — not pinned: check this fingerprint with the expert'}`,
        `notebook   ${m.notebook.path}  ${m.notebook.size} bytes  sha256 ${m.notebook.sha256}`,
        ...m.wheels.map((w) => `wheel      ${w.path}  ${w.size} bytes  sha256 ${w.sha256}`),
        `outputs    ${m.outputs.length ? m.outputs.join(', ') : 'any file in the output folder (none declared)'}`,
        `tables     ${m.tables.length ? m.tables.join(', ') : 'not declared'}`,
        ...(m.inference ? [`inference  ${m.inference.module}.${m.inference.function}`] : []),
        'check      ok: decrypted, signature valid, every file matches its hash',
      ];
      out(lines.join('\n'));
      return EXIT.ok;
    } catch (e) {
      if (e instanceof BundleError) {
        if (values.json) {
          out(JSON.stringify({ ok: false, code: e.code, error: e.message }));
          return EXIT.failed;
        }
        throw new CliError(e.message);
      }
      throw e;
    } finally {
      await threads.end();
    }
  },
};
