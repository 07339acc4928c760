/**
 * The current room's bundles: the list (newest first), importing one (with the trust prompt when the
 * room trusts no expert yet), deleting a version, which one is selected (kept in the URL), and the
 * room's past runs.
 */
import { BundleError, listBundles, type StoredBundle } from '../../lib/bundle/index.ts';
import { deleteRoomBundle, importBundle } from '../../lib/rooms/index.ts';
import { listRuns, type RunSummary } from '../../lib/runs/index.ts';
import type { Context } from './context.ts';
import { fileKind } from './tables.svelte.ts';
import { lanes } from '../lanes.ts';

export class BundlesState {
  #bundles = $state.raw<StoredBundle[]>([]);
  #runs = $state.raw<RunSummary[]>([]);
  #pending = $state.raw<{ file: File; signer: string } | null>(null);
  #importing = $state.raw(false);
  /**
   * Per table name a bundle reads, the local table the owner chose for it: kept here, so a tab
   * switch loses nothing; a room's own (another room's tables are other data).
   */
  #mapping = $state.raw<{ room: string | null; map: Record<string, string> }>({ room: null, map: {} });
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  get list(): StoredBundle[] {
    return this.#bundles;
  }
  get runs(): RunSummary[] {
    return this.#runs;
  }
  /** A bundle waiting for the owner to confirm its signer (the room trusts no expert yet). */
  get pending(): { file: File; signer: string } | null {
    return this.#pending;
  }
  get importing(): boolean {
    return this.#importing;
  }
  /** The local table chosen for each table name a bundle reads (none chosen: absent). */
  get mapping(): Readonly<Record<string, string>> {
    return this.#mapping.map;
  }

  mapTable(name: string, table: string): void {
    this.#mapping = { ...this.#mapping, map: { ...this.#mapping.map, [name]: table } };
  }
  /** The bundle the URL selects, else the newest active one. */
  get selected(): StoredBundle | null {
    const nav = this.#ctx.nav;
    const want = nav.tab === 'bundles' ? nav.item : null;
    return (
      (want ? this.#bundles.find((b) => b.key === want) : undefined) ??
      this.#bundles.find((b) => b.active) ??
      this.#bundles[0] ??
      null
    );
  }

  async load(room: string | null): Promise<void> {
    [this.#bundles, this.#runs] = room ? await Promise.all([listBundles(room), listRuns(room)]) : [[], []];
    if (this.#mapping.room !== room) this.#mapping = { room, map: {} };
    if (this.#pending && !room) this.#pending = null;
  }

  select(key: string): void {
    this.#ctx.nav.go('bundles', key);
  }

  async import(room: string | null, file: File, options: { trust?: boolean; force?: boolean } = {}): Promise<void> {
    if (!room) return this.#ctx.notices.say('Create or restore a room first: bundles are sealed to a room.', 'error');
    const kind = fileKind(file.name);
    if (kind === 'table') return this.#ctx.notices.say(`${file.name} is a table: load it in the Tables tab.`, 'error');
    if (kind === 'backup')
      return this.#ctx.notices.say(`${file.name} looks like a room backup: restore it in the Room tab.`, 'error');
    this.#importing = true;
    try {
      const r = await importBundle(room, new Uint8Array(await file.arrayBuffer()), { ...options, lanes });
      this.#pending = null;
      this.#ctx.notices.say(
        `Imported ${r.bundle.name} ${r.bundle.version} from ${r.bundle.signer}${r.replaced ? ` (replaces ${r.replaced} as the active version)` : ''}.`,
      );
      this.#ctx.nav.go('bundles', r.bundle.key);
      await this.#ctx.refresh();
    } catch (e) {
      if (e instanceof BundleError && e.code === 'needs-trust' && e.signer) {
        this.#pending = { file, signer: e.signer };
        return;
      }
      this.#ctx.notices.fail(e);
    } finally {
      this.#importing = false;
    }
  }

  /** Trusts the pending bundle's signer in the room and imports it. */
  async trustPending(room: string | null): Promise<void> {
    const p = this.#pending;
    if (p) await this.import(room, p.file, { trust: true });
  }

  dismissPending(): void {
    this.#pending = null;
  }

  async remove(room: string, key: string): Promise<void> {
    const b = this.#bundles.find((x) => x.key === key);
    try {
      const { promoted } = await deleteRoomBundle(room, key);
      if (this.#ctx.nav.item === key) this.#ctx.nav.go('bundles');
      await this.#ctx.refresh();
      this.#ctx.notices.say(
        `Deleted ${b ? `${b.name} ${b.version}` : key}.${promoted ? ` ${promoted.version} is now the active version.` : ''} Its past runs stay in the history.`,
      );
    } catch (e) {
      this.#ctx.notices.fail(e);
    }
  }
}
