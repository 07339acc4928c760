/**
 * The owner's rooms: which exist, which one is current (kept in the URL), and every change to them —
 * each a call of lib/rooms, the same code `window.airlock` and the CLI use.
 */
import {
  archiveRoom,
  backupRooms,
  createRoom,
  deleteRoom,
  grantTable,
  listRooms,
  renameExpert,
  renameRoom,
  restoreRooms,
  revokeTable,
  roomInvitation,
  setPolicy,
  trustExpert,
  untrustExpert,
  type Room,
  type RoomPolicy,
} from '../../lib/rooms/index.ts';
import type { Context } from './context.ts';
import { download, slug } from './download.ts';

/** The backup's file name: the room's name, made safe for any file system. */
export function backupName(room: string): string {
  const s = slug(room);
  return `airlock-room${s ? '-' + s : ''}.age`;
}

/**
 * What the owner has typed or chosen in the Room tab and not yet acted on, kept in RoomsState so a
 * tab switch loses nothing. Passphrases are not kept: they stay in their form and go with it.
 */
export interface RoomDraft {
  /** The new room's name. */
  name: string;
  /** The "new room" form is open (with rooms already made). */
  creating: boolean;
  /** The backup or identity file chosen to restore, and whether it needs a passphrase. */
  restoreFile: File | null;
  restoreNeedsPassphrase: boolean;
  /** The room being renamed, and the name typed. */
  renaming: string | null;
  renameTo: string;
}

const BLANK_DRAFT: RoomDraft = {
  name: 'readmission study',
  creating: false,
  restoreFile: null,
  restoreNeedsPassphrase: false,
  renaming: null,
  renameTo: '',
};

export class RoomsState {
  #rooms = $state.raw<Room[]>([]);
  #draft = $state.raw<RoomDraft>({ ...BLANK_DRAFT });
  /** Per room, per granted table: the columns opted in to the invitation's k-anonymous statistics. */
  #stats = $state.raw<Record<string, Record<string, string[]>>>({});
  /** Per room, per setting: what the owner typed in the policy editor and has not saved. */
  #policyEdits = $state.raw<Record<string, Record<string, string>>>({});
  #loaded = $state.raw(false);
  /** A room operation that takes seconds (scrypt) is under way: what it is. */
  #busy = $state.raw<string | null>(null);
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  get list(): Room[] {
    return this.#rooms;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get busy(): string | null {
    return this.#busy;
  }
  /** The room the owner works in: the URL's, else the first one not archived. */
  get current(): Room | null {
    const want = this.#ctx.nav.room;
    return this.#rooms.find((r) => r.id === want) ?? this.#rooms.find((r) => !r.archived) ?? this.#rooms[0] ?? null;
  }

  get draft(): RoomDraft {
    return this.#draft;
  }

  editDraft(patch: Partial<RoomDraft>): void {
    this.#draft = { ...this.#draft, ...patch };
  }

  /** The current room's columns opted in to statistics, per table. */
  get stats(): Record<string, string[]> {
    return this.#stats[this.current?.id ?? ''] ?? {};
  }

  shareStats(table: string, column: string, on: boolean): void {
    const id = this.current?.id;
    if (!id) return;
    const cur = this.stats[table] ?? [];
    const next = on ? [...cur.filter((c) => c !== column), column] : cur.filter((c) => c !== column);
    this.#stats = { ...this.#stats, [id]: { ...this.stats, [table]: next } };
  }

  /** The current room's unsaved policy edits, per setting, as typed. */
  get policyEdits(): Record<string, string> {
    return this.#policyEdits[this.current?.id ?? ''] ?? {};
  }

  editPolicy(key: string, typed: string): void {
    const id = this.current?.id;
    if (id) this.#policyEdits = { ...this.#policyEdits, [id]: { ...this.policyEdits, [key]: typed } };
  }

  /** Re-reads the rooms (Context.refresh calls this first). */
  async load(): Promise<void> {
    this.#rooms = await listRooms();
    this.#loaded = true;
    this.#ctx.nav.settleRoom(this.current?.id ?? null);
  }

  select(id: string): void {
    this.#ctx.nav.setRoom(id);
  }

  /** Runs a change, reports a failure as a message, and re-reads everything after. */
  async #change<T>(work: () => Promise<T>, busy?: string): Promise<T | undefined> {
    if (busy) {
      this.#busy = busy;
      // Let the note paint before scrypt takes the thread's attention.
      await new Promise((r) => setTimeout(r, 30));
    }
    try {
      const result = await work();
      await this.#ctx.refresh();
      return result;
    } catch (e) {
      this.#ctx.notices.fail(e);
      return undefined;
    } finally {
      if (busy) this.#busy = null;
    }
  }

  async create(name: string, passphrase: string): Promise<boolean> {
    const made = await this.#change(async () => {
      const { room, backup } = await createRoom({ name, passphrase });
      this.#ctx.nav.go('room', null, room.id);
      download(backupName(room.name), backup, 'application/octet-stream');
      return room;
    }, "Making the room's keys and sealing their backup…");
    if (made) {
      this.#ctx.notices.say(
        `Room "${made.name}" created. Its backup was downloaded, sealed with your passphrase: keep both safe — together they are the only way to move this room (its key and its receipt-signing key) to another browser.`,
      );
    }
    return !!made;
  }

  async restore(file: File, passphrase: string): Promise<boolean> {
    const result = await this.#change(async () => {
      const r = await restoreRooms(await file.text(), passphrase ? { passphrase } : {});
      if (r.restored[0]) this.#ctx.nav.go('room', null, r.restored[0].id);
      return r;
    }, 'Opening the backup…');
    if (!result) return false;
    const { restored, skipped } = result;
    const parts: string[] = [];
    if (restored.length) {
      parts.push(
        `Restored ${restored.map((r) => `"${r.name}"`).join(', ')}${restored.length === 1 ? ` with its receipt-signing key ${restored[0]!.receiptFingerprint}` : ''}.`,
      );
      if (!restored.every((r) => r.backedUp)) {
        parts.push(
          'An identity file holds no receipt-signing key: receipts are signed by a new key, so send your expert a new invitation.',
        );
      }
    }
    for (const s of skipped) parts.push(`"${s.name}" was not restored: ${s.reason}.`);
    this.#ctx.notices.say(parts.join(' '), restored.length ? 'ok' : 'error');
    return restored.length > 0;
  }

  async backup(which: 'current' | 'all', passphrase: string): Promise<boolean> {
    const room = this.current;
    if (!room) return false;
    const text = await this.#change(
      () => backupRooms(which === 'all' ? 'all' : [room.id], passphrase),
      'Sealing a new backup…',
    );
    if (text === undefined) return false;
    download(which === 'all' ? 'airlock-rooms.age' : backupName(room.name), text, 'application/octet-stream');
    this.#ctx.notices.say(
      which === 'all'
        ? `A backup of all ${this.#rooms.length} rooms was downloaded, sealed with the same passphrase.`
        : `A new backup of "${room.name}" was downloaded, sealed with the same passphrase.`,
    );
    return true;
  }

  async rename(id: string, name: string): Promise<boolean> {
    return !!(await this.#change(() => renameRoom(id, name)));
  }

  async archive(id: string, archived: boolean): Promise<void> {
    const r = await this.#change(() => archiveRoom(id, archived));
    if (r)
      this.#ctx.notices.say(
        archived
          ? `"${r.name}" is archived: it keeps everything, and takes no bundles or runs until you bring it back.`
          : `"${r.name}" is back in use.`,
      );
  }

  async remove(id: string): Promise<void> {
    const name = this.#rooms.find((r) => r.id === id)?.name ?? id;
    const r = await this.#change(async () => {
      const removed = await deleteRoom(id);
      if (this.#ctx.nav.room === id) this.#ctx.nav.go('room', null, null);
      return removed;
    });
    if (r)
      this.#ctx.notices.say(
        `Deleted "${name}" with its keys, ${r.bundles} bundle version(s) and ${r.runs} run(s). Your tables stay.`,
      );
  }

  async setPolicy(policy: Partial<RoomPolicy>): Promise<boolean> {
    const room = this.current;
    if (!room) return false;
    const r = await this.#change(() => setPolicy(room.id, policy));
    if (r) this.#policyEdits = { ...this.#policyEdits, [room.id]: {} };
    if (r) this.#ctx.notices.say(`The policy of "${r.name}" is saved; the next run and the next invitation follow it.`);
    return !!r;
  }

  async trust(key: string, name: string): Promise<boolean> {
    const room = this.current;
    if (!room) return false;
    const r = await this.#change(() => trustExpert(room.id, key, name));
    if (r) this.#ctx.notices.say(`Bundles signed by that key may now be imported into "${r.name}".`);
    return !!r;
  }

  async renameExpert(fingerprint: string, name: string): Promise<boolean> {
    const room = this.current;
    return !!room && !!(await this.#change(() => renameExpert(room.id, fingerprint, name)));
  }

  async untrust(fingerprint: string): Promise<void> {
    const room = this.current;
    if (!room) return;
    const r = await this.#change(() => untrustExpert(room.id, fingerprint));
    if (r) {
      this.#ctx.notices.say(
        r.experts.length
          ? `${fingerprint} is no longer trusted in "${r.name}": their next bundles are refused.`
          : `${fingerprint} is no longer trusted in "${r.name}". No expert is trusted now: the next bundle you import asks you to confirm its signer.`,
      );
    }
  }

  async setGrant(table: string, granted: boolean): Promise<void> {
    const room = this.current;
    if (!room) return;
    await this.#change(() => (granted ? grantTable : revokeTable)(room.id, table));
  }

  /** Downloads the room's invitation (with the k-anonymous statistics chosen per table). */
  async invitation(): Promise<void> {
    const room = this.current;
    if (!room) return this.#ctx.notices.say('Create a room first.', 'error');
    // Only tables still granted: a revoked table's choices stay for if it is granted again.
    const stats = Object.fromEntries(Object.entries(this.stats).filter(([t]) => room.grants.includes(t)));
    const inv = await this.#change(() => roomInvitation(room.id, stats));
    if (!inv) return;
    download('invitation.json', JSON.stringify(inv, null, 2) + '\n', 'application/json');
    this.#ctx.notices.say(
      `Invitation for "${room.name}" downloaded: ${inv.tables.length} granted table(s), names, types, counts and missing rates only` +
        (Object.values(stats).flat().length ? ', plus the k-anonymous statistics you chose.' : '.') +
        ' It also carries the room’s policy and the fingerprint your expert checks receipts against.',
    );
  }
}
