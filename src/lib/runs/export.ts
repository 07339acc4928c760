/**
 * The owner's export of a run, as the app and `window.airlock` make it: lib/receipt's exportRun
 * (hash, encrypt to the expert if asked, sign the receipt), then every output that left is written
 * to the room's audit log, with the owner's reason when the gate was overridden.
 */
import { appendAudit } from '../audit/index.ts';
import { exportRun, type ExportedRun, type ReceiptSigner } from '../receipt/index.ts';
import type { OwnerRun } from './owner-run.ts';

export async function exportOwnerRun(
  run: OwnerRun,
  signer: ReceiptSigner,
  options: { override?: { reason: string }; encryptTo?: string } = {},
): Promise<ExportedRun> {
  const exported = await exportRun(run, signer, options);
  const { gate } = exported.receipt;
  if (gate.overridden) {
    // The override is for this run only; the log says which checks it set aside, and why.
    await appendAudit(
      'gate.overridden',
      {
        bundle: `${run.bundle.name}@${run.bundle.version}`,
        reason: gate.reason ?? '',
        failed: (gate.checks ?? [])
          .filter((c) => c.verdict === 'failed')
          .map((c) => (c.file ? `${c.file}: ${c.id}` : c.id))
          .join(', '),
        problems: gate.problems.length,
      },
      run.room,
    );
  }
  for (const o of exported.receipt.outputs) {
    await appendAudit(
      'output.exported',
      {
        path: o.path,
        sha256: o.sha256,
        gate: gate.pass ? 'passed' : 'overridden',
        ...(gate.reason ? { reason: gate.reason } : {}),
      },
      run.room,
    );
  }
  if (options.encryptTo) await appendAudit('output.encrypted', { to: options.encryptTo }, run.room);
  return exported;
}
