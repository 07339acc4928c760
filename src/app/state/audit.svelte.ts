/** The audit log: its entries (every room's), whether the chain is intact, and its export. */
import { readAuditLog, verifyAuditLog, type AuditEntry } from '../../lib/audit/index.ts';
import type { Context } from './context.ts';
import { download } from './download.ts';

export class AuditState {
  #entries = $state.raw<AuditEntry[]>([]);
  #check = $state.raw<{ ok: boolean; text: string } | null>(null);
  readonly #ctx: Context;
  /** Which room's entries the Log tab shows ('all', or a room's id); kept across tab switches. */
  roomFilter = $state('all');

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  get entries(): AuditEntry[] {
    return this.#entries;
  }
  get check(): { ok: boolean; text: string } | null {
    return this.#check;
  }
  /** Whether the room's log has an entry of this action (the stepper's "done"). */
  has(room: string | undefined, action: string): boolean {
    return !!room && this.#entries.some((e) => e.room === room && e.action === action);
  }

  /** Reads the entries (for the steps); `verify` also checks the chain. */
  async load(verify = false): Promise<void> {
    if (!verify) {
      this.#entries = await readAuditLog();
      return;
    }
    try {
      const [entries, check] = await Promise.all([readAuditLog(), verifyAuditLog()]);
      this.#entries = entries;
      this.#check = check.ok
        ? { ok: true, text: `intact: ${check.entries} entries, every link checks out` }
        : { ok: false, text: `BROKEN at entry ${check.brokenAt}: ${check.reason}` };
    } catch (e) {
      this.#ctx.notices.fail(e);
    }
  }

  exportLog(): void {
    download('airlock-audit-log.json', JSON.stringify(this.#entries, null, 2) + '\n', 'application/json');
  }
}
