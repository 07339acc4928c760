/**
 * The owner's rooms as workflows: one owner, several collaborations, each with its own keys,
 * policy, trusted experts and granted tables, its own bundles and runs. The app, `window.airlock`
 * and (through it) `airlock run` call these; storage is store.ts, the backup format backup.ts.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { appendAudit } from '../audit/index.ts';
import {
  BundleError,
  deleteBundleVersion,
  deleteRoomBundles,
  forgetLegacyPinnedExpert,
  legacyPinnedExpert,
  openBundle,
  storeBundle,
  type LaneOptions,
  type StoredBundle,
} from '../bundle/index.ts';
import {
  fingerprint,
  formatPublicKey,
  generateOwnerKey,
  importAgeIdentity,
  importEd25519Seed,
  opensWith,
  parseIdentityFile,
  parsePublicKey,
  webCryptoSigner,
} from '../crypto/index.ts';
import {
  buildInvitation,
  deleteTable,
  listTables,
  loadFile,
  loadTable,
  renameTable,
  type IngestReport,
  type LoadOptions,
  type Invitation,
  type TableMeta,
} from '../data/index.ts';
import { BackupError, isBackupFile, openBackup, receiptKeyFile, sealBackup, type RoomIdentity } from './backup.ts';
import { DEFAULT_POLICY, deleteRoomRuns, policyProblems } from '../runs/index.ts';
import {
  addRoomRecord,
  deleteRoomRecord,
  getRoomRecord,
  getRoomRecords,
  migrateLegacyRoom,
  updateAllRoomRecords,
  updateRoomRecord,
  type Expert,
  type RoomPolicy,
  type RoomRecord,
} from './store.ts';

export type RoomErrorCode = 'no-room' | 'exists' | 'bad-input' | 'no-backup' | 'needs-trust';

export class RoomError extends Error {
  override name = 'RoomError';
  constructor(
    readonly code: RoomErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What the owner and the page see of a room: public halves only. */
export interface Room {
  id: string;
  name: string;
  createdAt: number;
  archived: boolean;
  /** `age1…`: what experts seal this room's bundles to. */
  recipient: string;
  /** The receipt-signing key's `SHA256:` fingerprint, which the expert finds in the invitation. */
  receiptFingerprint: string;
  /** The receipt-signing key as an `ssh-ed25519 …` line (the invitation's `owner`). */
  receiptPublicKey: string;
  /** A sealed backup of both keys is kept: a new backup can be made with its passphrase. */
  backedUp: boolean;
  policy: RoomPolicy;
  experts: Expert[];
  grants: string[];
}

function view(r: RoomRecord): Room {
  return {
    id: r.id,
    name: r.name,
    createdAt: r.createdAt,
    archived: r.archived,
    recipient: r.recipient,
    receiptFingerprint: fingerprint(r.receiptPublicKey),
    receiptPublicKey: formatPublicKey(r.receiptPublicKey, 'airlock-receipt'),
    backedUp: !!r.backup,
    // A room stored before a setting existed takes its default.
    policy: { ...DEFAULT_POLICY, ...r.policy },
    experts: r.experts.map((e) => ({ ...e })),
    grants: [...r.grants],
  };
}

let migrated: Promise<void> | undefined;

/** A browser of Airlock 0.1 held one room without an id: it becomes the first room, nothing lost. */
function migrate(): Promise<void> {
  migrated ??= migrateLegacyRoom(async () => {
    const [pinned, tables] = await Promise.all([legacyPinnedExpert().catch(() => undefined), listTables()]);
    return { ...(pinned ? { pinned } : {}), tables: tables.map((t) => t.name) };
  })
    .then(() => forgetLegacyPinnedExpert().catch(() => {}))
    .catch((e: unknown) => {
      migrated = undefined;
      throw e;
    });
  return migrated;
}

async function record(id: string): Promise<RoomRecord> {
  await migrate();
  const r = await getRoomRecord(id);
  if (!r) throw new RoomError('no-room', `there is no room ${JSON.stringify(id)} in this browser`);
  return r;
}

/** Every room, oldest first (archived ones included; the caller decides what to show). */
export async function listRooms(): Promise<Room[]> {
  await migrate();
  return (await getRoomRecords()).map(view);
}

export async function getRoom(id: string): Promise<Room> {
  return view(await record(id));
}

/** The room's age key, for opening the bundles sealed to it. */
export async function roomIdentity(id: string): Promise<{ recipient: string; key: CryptoKey }> {
  const r = await record(id);
  return { recipient: r.recipient, key: r.roomKey };
}

/** Signs the room's receipts with its non-extractable receipt key. */
export async function roomSigner(
  id: string,
): Promise<{ publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> }> {
  const r = await record(id);
  return webCryptoSigner(r.receiptKey, r.receiptPublicKey);
}

function newId(): string {
  return `room-${crypto.randomUUID().slice(0, 8)}`;
}

function cleanName(name: string | undefined, fallback: string): string {
  const n = (name ?? '').trim().replace(/\s+/g, ' ');
  // Names reach the screen, the invitation and file names: printable characters only.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(n)) {
    throw new RoomError('bad-input', 'a room name may not contain control or invisible characters');
  }
  if (n.length > 80) throw new RoomError('bad-input', 'a room name has at most 80 characters');
  return n || fallback;
}

/**
 * Makes a room: an age key and a receipt-signing key, stored non-extractable, and their backup
 * sealed under the passphrase — returned once for download and kept sealed for later backups.
 * @throws {BackupError} `weak-passphrase`; {RoomError} `bad-input` for a name that cannot be shown
 */
export async function createRoom(input: {
  name?: string;
  passphrase: string;
  policy?: Partial<RoomPolicy>;
  grants?: string[];
  workFactor?: number;
}): Promise<{ room: Room; backup: string }> {
  await migrate();
  const existing = await getRoomRecords();
  const name = cleanName(input.name, `Room ${existing.length + 1}`);
  const age = await generateOwnerKey();
  const seed = ed25519.utils.randomSecretKey();
  const receipt = { seed, publicKey: ed25519.getPublicKey(seed), comment: 'airlock-receipt' };
  const created = new Date();
  const policy = { ...DEFAULT_POLICY, ...input.policy };
  const identity: RoomIdentity = {
    name,
    created: created.toISOString(),
    identity: age.identity,
    recipient: age.recipient,
    receiptKey: receiptKeyFile(receipt),
    policy,
  };
  const backup = await sealBackup([identity], input.passphrase, { workFactor: input.workFactor, created });
  const rec: RoomRecord = {
    id: newId(),
    name,
    createdAt: created.getTime(),
    archived: false,
    recipient: age.recipient,
    roomKey: await importAgeIdentity(age.identity),
    receiptKey: await importEd25519Seed(seed, receipt.publicKey),
    receiptPublicKey: receipt.publicKey,
    backup,
    policy,
    experts: [],
    grants: [...(input.grants ?? [])],
  };
  seed.fill(0);
  await addRoomRecord(rec);
  await appendAudit(
    'room.created',
    { name, recipient: rec.recipient, receiptKey: fingerprint(rec.receiptPublicKey) },
    rec.id,
  );
  return { room: view(rec), backup };
}

/** What a restore did with each room of the file. */
export interface RestoreResult {
  restored: Room[];
  /** Rooms of the file this browser has already (same room key): never silently replaced. */
  skipped: Array<{ name: string; recipient: string; reason: string }>;
}

/**
 * Restores rooms from a backup (both keys, policy, experts and grants) or one room from a bare age
 * identity file (`airlock keygen`, or Airlock 0.1's backup: the room key only; the room gets a new
 * receipt key, which no backup holds). A room this browser has already is never replaced.
 * @param options.only restore only the rooms of the file with these names or recipients
 * @throws {BackupError} for a backup that does not open; KeyError (crypto) for a bad identity file
 */
export async function restoreRooms(
  text: string,
  options: { passphrase?: string; only?: string[]; name?: string } = {},
): Promise<RestoreResult> {
  await migrate();
  const result: RestoreResult = { restored: [], skipped: [] };
  const existing = await getRoomRecords();
  const add = async (rec: RoomRecord) => {
    const clash = existing.find((r) => r.recipient === rec.recipient);
    if (clash || (await addRoomRecord(rec)) === 'exists') {
      result.skipped.push({
        name: rec.name,
        recipient: rec.recipient,
        reason: `this browser has this room already${clash ? ` (as "${clash.name}")` : ''}; delete it first to restore it from the file`,
      });
      return;
    }
    existing.push(rec);
    result.restored.push(view(rec));
    await appendAudit(
      'room.restored',
      { name: rec.name, recipient: rec.recipient, receiptKey: fingerprint(rec.receiptPublicKey) },
      rec.id,
    );
  };
  if (!isBackupFile(text)) {
    const [k] = await parseIdentityFile(text);
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    await add({
      id: newId(),
      name: cleanName(options.name, `Room ${existing.length + 1}`),
      createdAt: Date.now(),
      archived: false,
      recipient: k!.recipient,
      roomKey: await importAgeIdentity(k!.identity),
      receiptKey: pair.privateKey,
      receiptPublicKey: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
      policy: { ...DEFAULT_POLICY },
      experts: [],
      grants: [],
    });
    return result;
  }
  if (!options.passphrase) throw new BackupError('wrong-passphrase', 'enter the passphrase the backup was made with');
  const opened = await openBackup(text, options.passphrase);
  const wanted = opened.rooms.filter(
    (r) => !options.only?.length || options.only.includes(r.name) || options.only.includes(r.recipient),
  );
  if (!wanted.length) {
    throw new RoomError(
      'bad-input',
      `the backup has no room named ${options.only!.map((n) => JSON.stringify(n)).join(' or ')}`,
    );
  }
  for (const r of wanted) {
    // Each room keeps a sealed backup of its own keys, under the same passphrase, for later backups.
    const own = opened.rooms.length === 1 ? text : await sealBackup([strip(r)], options.passphrase, { workFactor: 10 });
    await add({
      id: newId(),
      name: cleanName(r.name, `Room ${existing.length + 1}`),
      createdAt: Date.parse(r.created) || Date.now(),
      archived: !!r.archived,
      recipient: r.recipient,
      roomKey: await importAgeIdentity(r.identity),
      receiptKey: await importEd25519Seed(r.receipt.seed, r.receipt.publicKey),
      receiptPublicKey: r.receipt.publicKey,
      backup: own,
      policy: { ...DEFAULT_POLICY, ...r.policy },
      experts: (r.experts ?? []).map((e) => ({ ...e })),
      grants: [...(r.grants ?? [])],
    });
    r.receipt.seed.fill(0);
  }
  return result;
}

function strip(r: Awaited<ReturnType<typeof openBackup>>['rooms'][number]): RoomIdentity {
  const { receipt: _receipt, receiptFingerprint: _fp, ...rest } = r;
  return rest;
}

/**
 * One backup file of some rooms (or all), sealed with the passphrase. Each room's keys come from its
 * own sealed backup, which this passphrase must open (the keys in use cannot be read out); its name,
 * policy, experts and grants are today's.
 * @throws {BackupError} `wrong-passphrase` naming the rooms whose backup the passphrase does not open;
 *   {RoomError} `no-backup` naming rooms no backup holds (restored from a bare identity file)
 */
export async function backupRooms(
  ids: string[] | 'all',
  passphrase: string,
  options: { workFactor?: number } = {},
): Promise<string> {
  await migrate();
  const all = await getRoomRecords();
  const rooms = ids === 'all' ? all : ids.map((id) => all.find((r) => r.id === id));
  const missing = rooms.findIndex((r) => !r);
  if (missing >= 0) throw new RoomError('no-room', `there is no room ${JSON.stringify((ids as string[])[missing])}`);
  const unbacked = (rooms as RoomRecord[]).filter((r) => !r.backup);
  if (unbacked.length) {
    throw new RoomError(
      'no-backup',
      `no backup holds the keys of ${unbacked.map((r) => `"${r.name}"`).join(', ')} (restored from a bare identity file); back up the others`,
    );
  }
  const identities: RoomIdentity[] = [];
  const wrong: string[] = [];
  for (const r of rooms as RoomRecord[]) {
    try {
      const inner = (await openBackup(r.backup!, passphrase)).rooms.find((x) => x.recipient === r.recipient);
      if (!inner) throw new BackupError('damaged', `the kept backup of "${r.name}" does not hold its keys`);
      identities.push({
        ...strip(inner),
        name: r.name,
        archived: r.archived,
        policy: { ...r.policy },
        experts: r.experts.map((e) => ({ ...e })),
        grants: [...r.grants],
      });
    } catch (e) {
      if (e instanceof BackupError && e.code === 'wrong-passphrase') wrong.push(`"${r.name}"`);
      else throw e;
    }
  }
  if (wrong.length) {
    throw new BackupError(
      'wrong-passphrase',
      wrong.length === rooms.length
        ? "the passphrase does not open this room's backup"
        : `the passphrase does not open the backup of ${wrong.join(', ')} (made with another passphrase): back those up on their own`,
    );
  }
  const text = await sealBackup(identities, passphrase, options);
  for (const r of rooms as RoomRecord[]) await appendAudit('room.backup', { name: r.name, rooms: rooms.length }, r.id);
  return text;
}

export async function renameRoom(id: string, name: string): Promise<Room> {
  const before = await record(id);
  const clean = cleanName(name, before.name);
  const r = (await updateRoomRecord(id, (x) => ({ ...x, name: clean })))!;
  await appendAudit('room.renamed', { from: before.name, to: clean }, id);
  return view(r);
}

/** An archived room keeps everything but is out of the way: no imports or runs until it is restored. */
export async function archiveRoom(id: string, archived: boolean): Promise<Room> {
  await record(id);
  const r = (await updateRoomRecord(id, (x) => ({ ...x, archived })))!;
  await appendAudit(archived ? 'room.archived' : 'room.unarchived', { name: r.name }, id);
  return view(r);
}

/**
 * Deletes a room: its keys (bundles sealed to it can no longer be opened anywhere but from its
 * backup), its bundles and its runs. The tables stay: they are the owner's, and other rooms may use them.
 */
export async function deleteRoom(id: string): Promise<{ bundles: number; runs: number }> {
  const r = await record(id);
  const [bundles, runs] = await Promise.all([deleteRoomBundles(id), deleteRoomRuns(id)]);
  await deleteRoomRecord(id);
  await appendAudit('room.deleted', { name: r.name, recipient: r.recipient, bundles, runs }, id);
  return { bundles, runs };
}

export async function setPolicy(id: string, policy: Partial<RoomPolicy>): Promise<Room> {
  const next = { ...DEFAULT_POLICY, ...(await record(id)).policy, ...policy };
  const problems = policyProblems(next);
  if (problems.length) throw new RoomError('bad-input', problems.join('; '));
  const r = (await updateRoomRecord(id, (x) => ({ ...x, policy: next })))!;
  await appendAudit('room.policy', { ...next }, id);
  return view(r);
}

function toFingerprint(key: string): string {
  const k = key.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}$/.test(k)) return k;
  try {
    return fingerprint(parsePublicKey(k).key);
  } catch {
    throw new RoomError('bad-input', 'give the expert\'s key as an "ssh-ed25519 …" line or its SHA256: fingerprint');
  }
}

/** Trusts an expert in a room: bundles they sign may be imported. */
export async function trustExpert(id: string, key: string, name = 'expert'): Promise<Room> {
  const fp = toFingerprint(key);
  const label = cleanName(name, 'expert');
  const r = (await updateRoomRecord(id, (x) =>
    x.experts.some((e) => e.fingerprint === fp)
      ? x
      : { ...x, experts: [...x.experts, { fingerprint: fp, name: label, pinnedAt: Date.now() }] },
  ))!;
  if (!r) throw new RoomError('no-room', `there is no room ${JSON.stringify(id)} in this browser`);
  await appendAudit('expert.trusted', { fingerprint: fp, name: label }, id);
  return view(r);
}

export async function renameExpert(id: string, fp: string, name: string): Promise<Room> {
  const label = cleanName(name, 'expert');
  const r = await updateRoomRecord(id, (x) => ({
    ...x,
    experts: x.experts.map((e) => (e.fingerprint === fp ? { ...e, name: label } : e)),
  }));
  if (!r) throw new RoomError('no-room', `there is no room ${JSON.stringify(id)} in this browser`);
  return view(r);
}

/**
 * Stops trusting an expert: their next bundles are refused. Bundles of theirs already imported stay
 * (and can still run: they were checked when they came); delete them if they must not.
 */
export async function untrustExpert(id: string, fp: string): Promise<Room> {
  const r = await updateRoomRecord(id, (x) => ({ ...x, experts: x.experts.filter((e) => e.fingerprint !== fp) }));
  if (!r) throw new RoomError('no-room', `there is no room ${JSON.stringify(id)} in this browser`);
  await appendAudit('expert.untrusted', { fingerprint: fp }, id);
  return view(r);
}

/** Lets a room's invitation and runs see a table. */
export async function grantTable(id: string, table: string): Promise<Room> {
  const tables = await listTables();
  if (!tables.some((t) => t.name === table)) throw new RoomError('bad-input', `there is no table named "${table}"`);
  const r = (await updateRoomRecord(id, (x) =>
    x.grants.includes(table) ? x : { ...x, grants: [...x.grants, table] },
  ))!;
  if (!r) throw new RoomError('no-room', `there is no room ${JSON.stringify(id)} in this browser`);
  await appendAudit('table.granted', { table }, id);
  return view(r);
}

/** Takes a table away from a room: its next run cannot read it. */
export async function revokeTable(id: string, table: string): Promise<Room> {
  const r = await updateRoomRecord(id, (x) => ({ ...x, grants: x.grants.filter((g) => g !== table) }));
  if (!r) throw new RoomError('no-room', `there is no room ${JSON.stringify(id)} in this browser`);
  await appendAudit('table.revoked', { table }, id);
  return view(r);
}

/**
 * Loads a file as one of the owner's tables (on `options.lanes` when given), logs it, and grants it to
 * `grantTo` if given (the room the owner is working in). A replaced table keeps its grants.
 */
export async function addTable(
  file: File,
  options: LoadOptions & { grantTo?: string } = {},
): Promise<{ meta: TableMeta; report: IngestReport }> {
  const { grantTo, ...load } = options;
  const loaded = await loadFile(file, load);
  const { meta } = loaded;
  await appendAudit(
    options.replace ? 'table.replaced' : 'table.loaded',
    { name: meta.name, rows: meta.rowCount, fingerprint: meta.fingerprint, file: file.name },
    grantTo,
  );
  if (grantTo) await grantTable(grantTo, meta.name);
  return loaded;
}

/** Renames a table; every room's grant of it follows. */
export async function renameOwnerTable(from: string, to: string): Promise<void> {
  await migrate();
  await renameTable(from, to);
  await updateAllRoomRecords((r) => ({ ...r, grants: r.grants.map((g) => (g === from ? to : g)) }));
  await appendAudit('table.renamed', { from, to });
}

/** Deletes a table; no room keeps a grant of it (a new table of that name is not granted by accident). */
export async function deleteOwnerTable(name: string): Promise<void> {
  await migrate();
  await deleteTable(name);
  await updateAllRoomRecords((r) => ({ ...r, grants: r.grants.filter((g) => g !== name) }));
  await appendAudit('table.deleted', { name });
}

/** The room's invitation: what the expert may know (docs/INVITATION.md), and the key receipts are signed with. */
export type RoomInvitation = Omit<Invitation, 'policy'> & { policy: RoomPolicy; owner: string };

/**
 * The invitation for a room: its recipient, policy and trusted expert, and the tables granted to it
 * (names, types, counts and missing rates; k-anonymous statistics only for columns in `stats`).
 */
export async function roomInvitation(id: string, stats: Record<string, string[]> = {}): Promise<RoomInvitation> {
  const r = await record(id);
  const known = new Set((await listTables()).map((t) => t.name));
  const tables = [];
  for (const name of r.grants) {
    if (!known.has(name)) continue;
    const t = await loadTable(name);
    tables.push({ name, rowCount: t.rowCount, columns: t.columns });
  }
  const invitation = {
    ...buildInvitation({
      room: r.name,
      recipient: r.recipient,
      tables,
      stats,
      policy: r.policy,
      ...(r.experts[0] ? { expert: r.experts[0].fingerprint } : {}),
    }),
    // The whole policy, disclosure thresholds included: the expert sees what the outputs must pass.
    policy: { ...DEFAULT_POLICY, ...r.policy },
    owner: formatPublicKey(r.receiptPublicKey, 'airlock-receipt'),
  };
  await appendAudit(
    'invitation.exported',
    { room: r.name, tables: tables.length, statistics: Object.values(stats).flat().length },
    id,
  );
  return invitation;
}

export interface ImportResult {
  bundle: StoredBundle;
  replaced?: string;
}

/**
 * Imports a bundle into a room: opened with the room's key, signed by an expert the room trusts.
 * With no expert trusted yet, the owner must have seen the signer's fingerprint: `trust` trusts it
 * (the first bundle names its expert). A bundle sealed to another of the owner's rooms is refused
 * with that room's name.
 * @throws {BundleError} the bundle's own refusals, `needs-trust` (with the signer), `unknown-signer`,
 *   `wrong-key` naming the room it is for; {RoomError} `no-room`, or `bad-input` for an archived room
 */
export async function importBundle(
  id: string,
  sealed: Uint8Array,
  options: { trust?: boolean; expertName?: string; force?: boolean } & LaneOptions = {},
): Promise<ImportResult> {
  const r = await record(id);
  if (r.archived) throw new RoomError('bad-input', `"${r.name}" is archived: restore it to import bundles into it`);
  let opened;
  try {
    opened = await openBundle(sealed, r.roomKey, { lanes: options.lanes });
  } catch (e) {
    if (e instanceof BundleError && e.code === 'wrong-key') {
      const other = await roomOpening(sealed, id);
      if (other) {
        throw new BundleError(
          'wrong-key',
          `this bundle is sealed to your room "${other.name}", not to "${r.name}": import it there`,
        );
      }
    }
    throw e;
  }
  const trusted = r.experts.map((e) => e.fingerprint);
  if (trusted.length && !trusted.includes(opened.signer)) {
    throw new BundleError(
      'unknown-signer',
      `${opened.manifest.name} ${opened.manifest.version} is signed by ${opened.signer}, not by an expert "${r.name}" trusts`,
      opened.signer,
    );
  }
  if (!trusted.length) {
    if (!options.trust) {
      throw new BundleError(
        'needs-trust',
        `no expert is trusted in "${r.name}" yet: confirm that ${opened.signer} is your expert's key to import this bundle`,
        opened.signer,
      );
    }
    await trustExpert(id, opened.signer, options.expertName ?? 'expert');
  }
  const stored = await storeBundle(id, opened, sealed, { force: options.force });
  await appendAudit(
    'bundle.imported',
    {
      name: stored.bundle.name,
      version: stored.bundle.version,
      signer: stored.bundle.signer,
      ...(stored.replaced ? { replaces: stored.replaced } : {}),
    },
    id,
  );
  return stored;
}

/**
 * Deletes one imported version of a bundle from a room, and logs it. If it was the active version,
 * the newest remaining version of that name becomes active (returned). Its past runs stay.
 * @throws {RoomError} `bad-input` for a bundle of another room; {BundleError} `missing-file`
 */
export async function deleteRoomBundle(id: string, key: string): Promise<{ promoted?: StoredBundle }> {
  await record(id);
  if (!key.startsWith(`${id}/`)) throw new RoomError('bad-input', 'that bundle is not in this room');
  const promoted = await deleteBundleVersion(key);
  await appendAudit(
    'bundle.deleted',
    { bundle: key.slice(id.length + 1), ...(promoted ? { active: promoted.version } : {}) },
    id,
  );
  return promoted ? { promoted } : {};
}

/** Which other room of the owner's (if any) can open these sealed bytes (their header only). */
async function roomOpening(sealed: Uint8Array, except: string): Promise<RoomRecord | undefined> {
  for (const r of await getRoomRecords()) if (r.id !== except && (await opensWith(sealed, r.roomKey))) return r;
  return undefined;
}

export type { RoomPolicy, Expert };
