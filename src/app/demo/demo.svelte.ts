/**
 * The demo as the real flow, end to end: the expert's notebook and wheel run on a synthetic table in
 * the sandbox, the outputs pass the same output gate, leave with a receipt signed by a throwaway
 * owner key, and the receipt is checked as the expert would check it. Nothing is stored.
 */
import { fingerprint, generateSshKey, formatPublicKey, type SshPrivateKey } from '../../lib/crypto/index.ts';
import { fingerprintColumns } from '../../lib/data/index.ts';
import { reviewOutputs, type GateReport } from '../../lib/gate/index.ts';
import { sha256Hex } from '../../lib/preview/index.ts';
import {
  checkReceiptFiles,
  exportRun,
  verifyReceipt,
  type Receipt,
  type ReceiptFilesCheck,
} from '../../lib/receipt/index.ts';
import { DEFAULT_POLICY, SOFTWARE } from '../../lib/runs/index.ts';
import { runNotebook, runtimeAssets, type RunReport } from '../../lib/sandbox/index.ts';
import { RunState } from '../run/run.svelte.ts';
import { download } from '../state/download.ts';
import { errorText } from '../state/format.ts';
import { DEMO_NOTEBOOK_CELLS, demoNotebookJson, demoTable, demoWheel } from './index.ts';

export const DEMO_BUNDLE = { name: 'readmission-demo', version: '1.0.0', outputs: ['model.json'] } as const;

export class DemoState {
  readonly run = new RunState();
  #gate = $state.raw<GateReport | null>(null);
  #hashes = $state.raw<Record<string, string>>({});
  #receipt = $state.raw<{ receipt: Receipt; check: ReceiptFilesCheck } | null>(null);
  #error = $state.raw<string | null>(null);
  #started = '';
  /** The throwaway key that plays the owner's receipt-signing key (made once per page). */
  readonly #owner: SshPrivateKey = generateSshKey('airlock-demo-owner').key;
  readonly #expert = generateSshKey('airlock-demo-expert').key;
  readonly table = demoTable();
  readonly wheel = demoWheel();
  readonly cells = DEMO_NOTEBOOK_CELLS.length;

  get gate(): GateReport | null {
    return this.#gate;
  }
  get hashes(): Record<string, string> {
    return this.#hashes;
  }
  get receipt(): { receipt: Receipt; check: ReceiptFilesCheck } | null {
    return this.#receipt;
  }
  get error(): string | null {
    return this.#error;
  }

  async start(): Promise<void> {
    this.#gate = null;
    this.#receipt = null;
    this.#error = null;
    this.#hashes = {};
    this.#started = new Date().toISOString();
    try {
      const report = await this.run.track(
        (hooks) =>
          runNotebook({
            notebook: demoNotebookJson(),
            wheels: [demoWheel()],
            tables: [demoTable()],
            limits: { timeLimitMs: 120_000 },
            assets: runtimeAssets(),
            ...hooks,
          }).then(async (r) => {
            if (r.status === 'ok') {
              hooks.onEvent({ type: 'review' });
              await new Promise((res) => setTimeout(res, 0));
              this.#gate = reviewOutputs(
                r.outputs,
                [demoTable()],
                {
                  maxOutputBytes: DEFAULT_POLICY.maxOutputBytes,
                  declared: [...DEMO_BUNDLE.outputs],
                },
                r.tripwires,
              );
            }
            return r;
          }),
        (r: RunReport) => r,
      );
      const hashes: Record<string, string> = {};
      for (const o of report.outputs) hashes[o.path] = await sha256Hex(o.bytes);
      this.#hashes = hashes;
    } catch (e) {
      this.#error = errorText(e);
    }
  }

  /** Exports as the owner would (outputs, receipt.json, receipt.json.sig), then checks the receipt as the expert would. */
  async export(): Promise<void> {
    const report = this.run.report;
    const gate = this.#gate;
    if (!report || !gate) return;
    try {
      const table = demoTable();
      const notebook = new TextEncoder().encode(demoNotebookJson());
      const exported = await exportRun(
        {
          report,
          gate,
          bundle: DEMO_BUNDLE,
          receipt: {
            bundle: {
              name: DEMO_BUNDLE.name,
              version: DEMO_BUNDLE.version,
              manifestSha256: await sha256Hex(notebook),
              signer: fingerprint(this.#expert.publicKey),
            },
            tables: [
              {
                name: 'encounters (synthetic)',
                as: 'encounters',
                fingerprint: await fingerprintColumns(table.rowCount, table.columns),
                rows: table.rowCount,
              },
            ],
            software: { ...SOFTWARE, pyodide: report.pyodideVersion ?? SOFTWARE.pyodide },
            policy: { timeLimitSeconds: 120, maxOutputBytes: DEFAULT_POLICY.maxOutputBytes },
            started: this.#started,
            ended: new Date().toISOString(),
          },
        },
        this.#owner,
      );
      for (const f of exported.files) download(f.name, f.bytes, f.type);
      // The expert's side: the signature against the owner key from the invitation, the outputs against the hashes.
      const receipt = verifyReceipt(exported.receiptBytes, exported.signature, {
        owner: formatPublicKey(this.#owner.publicKey),
      });
      const check = await checkReceiptFiles(receipt, exported.files);
      this.#receipt = { receipt, check };
    } catch (e) {
      this.#error = errorText(e);
    }
  }
}
