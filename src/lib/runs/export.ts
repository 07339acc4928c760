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
