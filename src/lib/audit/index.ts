/** The append-only, hash-chained audit log: chain logic (pure) and its IndexedDB store. */
export { nextEntry, verifyChain, entryHash, GENESIS, type AuditEntry } from './chain.ts';
export { appendAudit, readAuditLog, verifyAuditLog, AUDIT_DB } from './store.ts';
