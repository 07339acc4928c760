/**
 * The export of a run's outputs, written once: hash every output, decide what leaves (each file, or
 * one zip age-encrypted to the expert so only the two of them can read the model), and sign the
 * receipt of which code ran on which data with the owner's key. The app downloads the files (through
 * lib/runs, which also logs the export); the CLI writes them to disk (src/cli/export.ts, after
 * planExport); the receipt is the same either way. Node-safe: no storage, no sandbox.
 */
import { Encrypter } from 'age-encryption';
import { zipSync } from 'fflate';
import type { SshPrivateKey } from '../crypto/index.ts';
import { gateProblems, type GateReport } from '../gate/index.ts';
import type { OutputFile, RunStatus } from '../sandbox/index.ts';
import { ExportError, RECEIPT_FILES } from './export.ts';
import { signReceipt, signReceiptWith, type Receipt, type ReceiptBody } from './receipt.ts';

/** What an export needs of a finished run (lib/runs' OwnerRun is one). */
export interface RunToExport {
  report: { status: RunStatus; outputs: OutputFile[] };
  gate: (Pick<GateReport, 'pass' | 'files' | 'tripwires'> & Partial<Pick<GateReport, 'checks'>>) | null;
  /** Everything the receipt says but the export's own part. */
  receipt: Omit<ReceiptBody, 'outputs' | 'gate'>;
  bundle: { name: string; version: string };
}

/** Signs with a key held as bytes (the CLI's key file) or through a non-extractable key (the app). */
export type ReceiptSigner = SshPrivateKey | { publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> };

export interface ExportFile {
  /** A plain relative path (`model/weights.npy`), or the receipt's names. */
  name: string;
  bytes: Uint8Array;
  type: string;
}

export interface ExportedRun {
  /** The outputs (or their one encrypted zip), then `receipt.json` and `receipt.json.sig`. */
  files: ExportFile[];
  receipt: Receipt;
  receiptBytes: Uint8Array;
  signature: string;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Exports a finished run.
 * @param options.override the owner's written reason to export although the gate did not pass
 *   (recorded in the receipt); without it a blocked run is refused
 * @param options.encryptTo the expert's age recipient: the outputs leave as one encrypted zip
 * @throws {ExportError} `not-run` when the notebook did not finish, `blocked` when the gate did not
 *   pass and no reason was given
 */
export async function exportRun(
  run: RunToExport,
  signer: ReceiptSigner,
  options: { override?: { reason: string }; encryptTo?: string } = {},
): Promise<ExportedRun> {
  const { report, gate } = run;
  if (report.status !== 'ok' || !gate) throw new ExportError('not-run', 'only a run that finished can be exported');
  const reason = options.override?.reason.trim();
  if (!gate.pass && !reason) {
    throw new ExportError(
      'blocked',
      'the output gate blocked these outputs: review its problems, and give a reason to export anyway',
    );
  }
  const outputs = await Promise.all(
    report.outputs.map(async (o) => ({ path: o.path, sha256: await sha256(o.bytes), size: o.bytes.byteLength })),
  );
  const body: ReceiptBody = {
    ...run.receipt,
    outputs,
    gate: {
      pass: gate.pass,
      overridden: !gate.pass,
      ...(gate.pass ? {} : { reason: reason! }),
      problems: gateProblems({ files: gate.files, checks: gate.checks ?? [] }),
      tripwires: gate.tripwires.map((t) => t.name),
      ...(gate.checks
        ? {
            checks: gate.checks.map((c) => ({
              id: c.id,
              ...(c.file !== undefined ? { file: c.file } : {}),
              title: c.title,
              verdict: c.verdict,
              ...(c.measured !== undefined ? { measured: c.measured } : {}),
              ...(c.threshold !== undefined ? { threshold: c.threshold } : {}),
              reason: c.reason,
              ...(c.figures ? { figures: c.figures } : {}),
            })),
          }
        : {}),
    },
  };
  const signed =
    'seed' in signer ? signReceipt(body, signer) : await signReceiptWith(body, signer.publicKey, signer.sign);
  let files: ExportFile[];
  if (options.encryptTo) {
    const e = new Encrypter();
    e.addRecipient(options.encryptTo);
    const zip = zipSync(Object.fromEntries(report.outputs.map((o) => [o.path, o.bytes])));
    files = [
      {
        name: `${run.bundle.name}-${run.bundle.version}-outputs.zip.age`,
        bytes: await e.encrypt(zip),
        type: 'application/octet-stream',
      },
    ];
  } else {
    files = report.outputs.map((o) => ({ name: o.path, bytes: o.bytes, type: 'application/octet-stream' }));
  }
  files.push(
    { name: RECEIPT_FILES[0], bytes: signed.bytes, type: 'application/json' },
    { name: RECEIPT_FILES[1], bytes: new TextEncoder().encode(signed.signature), type: 'text/plain' },
  );
  return { files, receipt: signed.receipt, receiptBytes: signed.bytes, signature: signed.signature };
}
