import { existsSync, readFileSync } from 'node:fs';
import { ReceiptError, verifyReceipt } from '../../lib/receipt/index.ts';
import { CliError, EXIT, out, parse, type Command } from '../io.ts';
import { readText } from '../keys.ts';

const usage = `usage: airlock verify-receipt <receipt.json> [--sig receipt.json.sig] [--owner owner.pub] [--json]

Checks a run receipt's SSH signature (namespace "airlock-receipt") and that it was signed by the owner
it names; with --owner, that this owner is the one you expect. Prints what ran on what and what came
out. The same check with OpenSSH:
  ssh-keygen -Y verify -f allowed_signers -I owner -n airlock-receipt -s receipt.json.sig < receipt.json`;

export const verifyReceiptCommand: Command = {
  name: 'verify-receipt',
  summary: "check an owner's signed receipt of a run",
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { sig: { type: 'string' }, owner: { type: 'string' }, json: { type: 'boolean' } },
      usage,
      true,
    );
    if (values.help) return (out(usage), EXIT.ok);
    if (positionals.length !== 1) throw new CliError(`give one receipt file\n\n${usage}`, EXIT.usage);
    const path = positionals[0]!;
    const sigPath = values.sig ?? `${path}.sig`;
    readText(path, 'receipt');
    if (!existsSync(sigPath))
      throw new CliError(`${sigPath} not found: a receipt comes with its signature (receipt.json.sig)`);
    try {
      const r = verifyReceipt(readFileSync(path), readFileSync(sigPath, 'utf8'), {
        owner: values.owner ? readText(values.owner, 'owner key') : undefined,
      });
      if (values.json) return (out(JSON.stringify({ ok: true, receipt: r }, null, 2)), EXIT.ok);
      out(
        [
          `bundle    ${r.bundle.name} ${r.bundle.version} (manifest sha256 ${r.bundle.manifestSha256}), signed by ${r.bundle.signer}`,
          ...r.tables.map((t) => `table     ${t.as} ← ${t.name}: ${t.rows} rows, fingerprint ${t.fingerprint}`),
          `ran       ${r.started} → ${r.ended} on Airlock ${r.software.airlock}, Pyodide ${r.software.pyodide}`,
          ...r.outputs.map((o) => `output    ${o.path}  ${o.size} bytes  sha256 ${o.sha256}`),
          `gate      ${r.gate.pass ? 'passed' : r.gate.overridden ? 'failed, overridden by the owner' : 'failed'}${r.gate.problems.length ? `: ${r.gate.problems.join('; ')}` : ''}`,
          `signed by ${r.owner.fingerprint}${values.owner ? ' (the owner you expect)' : ' — check this fingerprint with the owner'}`,
        ].join('\n'),
      );
      return EXIT.ok;
    } catch (e) {
      if (e instanceof ReceiptError) {
        if (values.json) return (out(JSON.stringify({ ok: false, error: e.message })), EXIT.failed);
        throw new CliError(e.message);
      }
      throw e;
    }
  },
};
