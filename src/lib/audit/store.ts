/**
 * The audit log in IndexedDB: append-only through this module, each entry chained to the previous
 * one (chain.ts), so an edit made by other means is detected by verifyAuditLog.
 */
import type { DBSchema } from 'idb';
import { database } from '../storage/index.ts';
import { nextEntry, verifyChain, type AuditEntry } from './chain.ts';

interface AuditDB extends DBSchema {
  log: { key: number; value: AuditEntry };
}

export const AUDIT_DB = 'airlock-audit';

const db = database<AuditDB>(AUDIT_DB, 1, (d, old) => {
  if (old < 1) d.createObjectStore('log', { keyPath: 'seq' });
});

/**
 * Appends an entry. Reading the last entry and adding the next happen in one transaction, so two
 * tabs appending at once still form one chain.
 */
export async function appendAudit(
  action: string,
  detail: AuditEntry['detail'] = {},
  room?: string,
): Promise<AuditEntry> {
  return db.run(async (d) => {
    const tx = d.transaction('log', 'readwrite');
    const cursor = await tx.store.openCursor(null, 'prev');
    const entry = nextEntry(cursor?.value, action, detail, new Date(), room);
    await tx.store.add(entry);
    await tx.done;
    return entry;
  });
}

export async function readAuditLog(): Promise<AuditEntry[]> {
  return db.run((d) => d.getAll('log'));
}

export async function verifyAuditLog(): Promise<ReturnType<typeof verifyChain> & { entries: number }> {
  const entries = await readAuditLog();
  return { ...verifyChain(entries), entries: entries.length };
}
