import { existsSync, readFileSync, statSync } from 'node:fs';
import { ReceiptError, verifyReceipt } from '../../lib/receipt/index.ts';
import { checkOutputs, type OutputCheck } from '../export.ts';
import { CliError, EXIT, out, parse, type Command } from '../io.ts';
import { readText } from '../keys.ts';

/** Exit codes of `verify-receipt --outputs` (docs/CLI.md). */
export const VERIFY_EXIT = { outputsDiffer: 3, extraFiles: 4 } as const;

const usage = `usage: airlock verify-receipt <receipt.json> [--sig receipt.json.sig] [--owner owner.pub] [--outputs DIR] [--json]

Checks a run receipt's SSH signature (namespace "airlock-receipt") and that it was signed by the owner
it names; with --owner, that this owner is the one you expect. Prints what ran on what and what came
out, the room's policy, the rows held back for the membership audit, and every check of the gate
with its measure, threshold and verdict (and the owner's reason if it was overridden). --outputs DIR also checks the files: every output the receipt lists must be in DIR with its size
and SHA-256, and any other file there is reported. The signature check with OpenSSH:
  ssh-keygen -Y verify -f allowed_signers -I owner -n airlock-receipt -s receipt.json.sig < receipt.json
Exit codes: 0 verified, 1 the receipt is not valid, 2 usage; with --outputs, 3 an output is missing
or differs, 4 every output matches but DIR holds files the receipt does not list.`;

function outputsExit(c: OutputCheck): number {
  return c.missing.length || c.changed.length
    ? VERIFY_EXIT.outputsDiffer
    : c.extra.length
      ? VERIFY_EXIT.extraFiles
      : EXIT.ok;
}

export const verifyReceiptCommand: Command = {
  name: 'verify-receipt',
  summary: "check an owner's signed receipt of a run",
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { sig: { type: 'string' }, owner: { type: 'string' }, outputs: { type: 'string' }, json: { type: 'boolean' } },
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
    if (values.outputs && !(existsSync(values.outputs) && statSync(values.outputs).isDirectory()))
      throw new CliError(`--outputs ${values.outputs}: not a folder`);
    try {
      const r = verifyReceipt(readFileSync(path), readFileSync(sigPath, 'utf8'), {
        owner: values.owner ? readText(values.owner, 'owner key') : undefined,
      });
      if (values.outputs && !Array.isArray(r.outputs)) throw new ReceiptError('the receipt lists no outputs');
      const files = values.outputs ? await checkOutputs(values.outputs, r.outputs) : undefined;
      const code = files ? outputsExit(files) : EXIT.ok;
      if (values.json)
        return (out(JSON.stringify({ ok: code === EXIT.ok, receipt: r, ...(files ? { files } : {}) }, null, 2)), code);
      out(
        [
          `bundle    ${r.bundle.name} ${r.bundle.version} (manifest sha256 ${r.bundle.manifestSha256}), signed by ${r.bundle.signer}`,
          ...r.tables.map((t) => `table     ${t.as} ← ${t.name}: ${t.rows} rows, fingerprint ${t.fingerprint}`),
          `ran       ${r.started} → ${r.ended} on Airlock ${r.software.airlock}, Pyodide ${r.software.pyodide}`,
          ...r.outputs.map((o) => `output    ${o.path}  ${o.size} bytes  sha256 ${o.sha256}`),
          `policy    ${Object.entries(r.policy ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          ...(r.holdout
            ? [
                `held out  ${r.holdout.tables.map((t) => `${t.heldOut} of ${t.rows} rows of ${t.as}`).join(', ')} for the membership audit (share ${r.holdout.share}, seed ${r.holdout.seed})`,
              ]
            : []),
          `gate      ${r.gate.pass ? 'passed' : r.gate.overridden ? 'failed, overridden by the owner' : 'failed'}${r.gate.problems.length ? `: ${r.gate.problems.join('; ')}` : ''}`,
          ...(r.gate.overridden && r.gate.reason ? [`override  the owner's reason: ${r.gate.reason}`] : []),
          ...(r.gate.checks ?? []).map(
            (c) =>
              `check     ${c.verdict.padEnd(14)} ${c.file ? `${c.file}  ` : ''}${c.title}${c.measured ? `: ${c.measured}` : ''}${c.threshold ? `  (threshold: ${c.threshold})` : ''}`,
          ),
          `signed by ${r.owner.fingerprint}${values.owner ? ' (the owner you expect)' : ' — check this fingerprint with the owner'}`,
          ...(files
            ? [
                ...files.ok.map((p) => `present   ${p}  size and sha256 match`),
                ...files.missing.map((p) => `MISSING   ${p}`),
                ...files.changed.map((c) => `CHANGED   ${c.path} ${c.why}`),
                ...files.extra.map((p) => `EXTRA     ${p}  is not in the receipt`),
                code === EXIT.ok
                  ? `files     ${values.outputs} holds exactly the outputs the receipt lists`
                  : code === VERIFY_EXIT.extraFiles
                    ? `files     every output matches, but ${values.outputs} holds ${files.extra.length} file(s) the receipt does not list`
                    : `files     ${values.outputs} does not hold the outputs the receipt lists`,
              ]
            : []),
        ].join('\n'),
      );
      return code;
    } catch (e) {
      if (e instanceof ReceiptError) {
        if (values.json) return (out(JSON.stringify({ ok: false, error: e.message })), EXIT.failed);
        throw new CliError(e.message);
      }
      throw e;
    }
  },
};
