/** The append-only, hash-chained audit log (chain logic; the IndexedDB store comes with runs). */
export { nextEntry, verifyChain, entryHash, GENESIS, type AuditEntry } from './chain.ts';
