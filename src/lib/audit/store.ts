/**
 * The audit log in IndexedDB: append-only through this module, each entry chained to the previous
 * one (chain.ts), so an edit made by other means is detected by verifyAuditLog.
 */
import { openDB, type DBSchema } from 'idb';
import { nextEntry, verifyChain, type AuditEntry } from './chain.ts';

interface AuditDB extends DBSchema {
  log: { key: number; value: AuditEntry };
}

export const AUDIT_DB = 'airlock-audit';

function db() {
  return openDB<AuditDB>(AUDIT_DB, 1, {
    upgrade(d, old) {
      if (old < 1) d.createObjectStore('log', { keyPath: 'seq' });
    },
  });
}

/**
 * Appends an entry. Reading the last entry and adding the next happen in one transaction, so two
 * tabs appending at once still form one chain.
 */
export async function appendAudit(action: string, detail: AuditEntry['detail'] = {}): Promise<AuditEntry> {
  const d = await db();
  try {
    const tx = d.transaction('log', 'readwrite');
    const cursor = await tx.store.openCursor(null, 'prev');
    const entry = nextEntry(cursor?.value, action, detail);
    await tx.store.add(entry);
    await tx.done;
    return entry;
  } finally {
    d.close();
  }
}

export async function readAuditLog(): Promise<AuditEntry[]> {
  const d = await db();
  try {
    return await d.getAll('log');
  } finally {
    d.close();
  }
}

export async function verifyAuditLog(): Promise<ReturnType<typeof verifyChain> & { entries: number }> {
  const entries = await readAuditLog();
  return { ...verifyChain(entries), entries: entries.length };
}
