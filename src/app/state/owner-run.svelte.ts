/**
 * The owner's run of a bundle and what follows it: the run (lib/runs runBundle, followed by a
 * RunState), the gate's report, each output's hash, the export with a signed receipt, and scoring
 * tables with the model the owner approved. Lives as long as the page, so a run survives tab switches.
 */
import type { GateReport } from '../../lib/gate/index.ts';
import { sha256Hex } from '../../lib/preview/index.ts';
import type { Receipt } from '../../lib/receipt/index.ts';
import { getRoom, roomIdentity, roomSigner } from '../../lib/rooms/index.ts';
import { exportOwnerRun, runBundle, scoreTable, type OwnerRun } from '../../lib/runs/index.ts';
import { runtimeAssets } from '../../lib/sandbox/index.ts';
import { RunState } from '../run/run.svelte.ts';
import type { Context } from './context.ts';
import { download } from './download.ts';
import { lanes } from '../lanes.ts';

export class OwnerRunState {
  readonly run = new RunState();
  readonly scoreRun = new RunState();
  #last = $state.raw<OwnerRun | null>(null);
  #hashes = $state.raw<Record<string, string>>({});
  #exported = $state.raw<{ receipt: Receipt; files: string[] } | null>(null);
  #approved = $state.raw<{ room: string; key: string; files: Array<{ path: string; bytes: Uint8Array }> } | null>(null);
  /** The table chosen to score with the approved model: kept here, so a tab switch loses nothing. */
  #scoreTable = $state.raw('');
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** The last run that finished in this page, with what its receipt will say. */
  get last(): OwnerRun | null {
    return this.#last;
  }
  get gate(): GateReport | null {
    return this.#last?.gate ?? null;
  }
  get hashes(): Record<string, string> {
    return this.#hashes;
  }
  get exported(): { receipt: Receipt; files: string[] } | null {
    return this.#exported;
  }
  get approved(): { room: string; key: string } | null {
    return this.#approved;
  }
  get scoreTable(): string {
    return this.#scoreTable;
  }

  chooseScoreTable(name: string): void {
    this.#scoreTable = name;
  }

  /** Forgets the last run when the owner changes room. */
  forget(room: string | null): void {
    if (this.#last && this.#last.room !== room && this.run.phase !== 'running') {
      this.#last = null;
      this.#exported = null;
      this.run.reset();
    }
  }

  async start(roomId: string, bundleKey: string, mapping: Record<string, string>): Promise<void> {
    this.#last = null;
    this.#exported = null;
    this.#hashes = {};
    try {
      const [room, identity] = await Promise.all([getRoom(roomId), roomIdentity(roomId)]);
      const result = await this.run.track(
        (hooks) =>
          runBundle({
            room: { id: room.id, identity: identity.key, grants: room.grants, policy: room.policy },
            bundle: { key: bundleKey },
            mapping,
            assets: runtimeAssets(),
            record: true,
            lanes,
            ...hooks,
          }),
        (r) => (r.ok ? r.report : null),
      );
      if (!result.ok) {
        this.#ctx.notices.say(result.refused.message, 'error');
        return;
      }
      this.#last = result;
      const hashes: Record<string, string> = {};
      for (const o of result.report.outputs) hashes[o.path] = await sha256Hex(o.bytes);
      this.#hashes = hashes;
    } catch (e) {
      this.#ctx.notices.fail(e);
    } finally {
      await this.#ctx.refresh();
    }
  }

  /**
   * Exports the last run's outputs with a receipt signed by its room's key. A run the gate blocked
   * leaves only with the owner's written reason, which the receipt records.
   */
  async export(override: { reason: string } | undefined, encryptTo?: string): Promise<void> {
    const run = this.#last;
    if (!run) return;
    try {
      const exported = await exportOwnerRun(run, await roomSigner(run.room), {
        ...(override ? { override } : {}),
        ...(encryptTo ? { encryptTo } : {}),
      });
      for (const f of exported.files) download(f.name, f.bytes, f.type);
      if (run.bundle.key) {
        this.#approved = {
          room: run.room,
          key: run.bundle.key,
          files: run.report.outputs.map((o) => ({ path: o.path, bytes: o.bytes })),
        };
      }
      this.#exported = { receipt: exported.receipt, files: exported.files.map((f) => f.name) };
      this.#ctx.notices.say(
        `Exported ${exported.receipt.outputs.length} file(s)${encryptTo ? ', encrypted to the expert,' : ''} with a receipt signed by ${exported.receipt.owner.fingerprint}. Send all ${exported.files.length} files to your expert.`,
      );
      await this.#ctx.refresh();
    } catch (e) {
      this.#ctx.notices.fail(e);
    }
  }

  /**
   * Scores a local table with the approved model, through the bundle's inference entry point, in a
   * fresh sandbox. The scores stay in this browser unless the owner downloads them.
   */
  async score(table: string): Promise<void> {
    const approved = this.#approved;
    if (!approved) return this.#ctx.notices.say('Export a model first: only an approved model scores tables.', 'error');
    try {
      const [room, identity] = await Promise.all([getRoom(approved.room), roomIdentity(approved.room)]);
      const result = await this.scoreRun.track(
        (hooks) =>
          scoreTable({
            room: { id: room.id, identity: identity.key, grants: room.grants, policy: room.policy },
            bundleKey: approved.key,
            model: approved.files,
            table,
            assets: runtimeAssets(),
            lanes,
            ...hooks,
          }),
        (r) => (r.ok ? r.report : null),
      );
      if (!result.ok) this.#ctx.notices.say(result.refused, 'error');
    } catch (e) {
      this.#ctx.notices.fail(e);
    }
  }
}
