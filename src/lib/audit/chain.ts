/**
 * The audit log's hash chain: each entry commits to the one before it, so editing, removing or
 * reordering any past entry breaks every hash after it. Pure; storage is store.ts.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export interface AuditEntry {
  seq: number;
  /** ISO 8601 time. */
  at: string;
  /** e.g. `table.loaded`, `bundle.imported`, `run.started`, `output.exported`. */
  action: string;
  detail: Record<string, string | number | boolean>;
  /** The room the action belongs to (absent for actions of no room, and in entries made before rooms). */
  room?: string;
  /** Hash of the previous entry; 64 zeros for the first. */
  prev: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

/**
 * The hash an entry must carry: SHA-256 over its other fields, serialised in a fixed order. The room
 * is hashed when the entry has one, so entries written before rooms keep their hashes.
 */
export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const detail = Object.fromEntries(Object.entries(e.detail).sort(([a], [b]) => (a < b ? -1 : 1)));
  const fields: unknown[] = [e.seq, e.at, e.action, detail, e.prev];
  if (e.room !== undefined) fields.push(e.room);
  return bytesToHex(sha256(new TextEncoder().encode(JSON.stringify(fields))));
}

export function nextEntry(
  last: AuditEntry | undefined,
  action: string,
  detail: AuditEntry['detail'],
  at = new Date(),
  room?: string,
): AuditEntry {
  const e = {
    seq: last ? last.seq + 1 : 1,
    at: at.toISOString(),
    action,
    detail,
    ...(room !== undefined ? { room } : {}),
    prev: last ? last.hash : GENESIS,
  };
  return { ...e, hash: entryHash(e) };
}

/** Checks the chain; `brokenAt` is the first entry whose content or link does not match. */
export function verifyChain(entries: AuditEntry[]): { ok: true } | { ok: false; brokenAt: number; reason: string } {
  let prev = GENESIS;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.seq !== i + 1) return { ok: false, brokenAt: e.seq, reason: `entry ${i + 1} is missing or out of order` };
    if (e.prev !== prev)
      return { ok: false, brokenAt: e.seq, reason: `entry ${e.seq} does not follow entry ${e.seq - 1}` };
    if (entryHash(e) !== e.hash)
      return { ok: false, brokenAt: e.seq, reason: `entry ${e.seq} was changed after it was written` };
    prev = e.hash;
  }
  return { ok: true };
}
