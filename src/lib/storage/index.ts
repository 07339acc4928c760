/** Storage plumbing shared by every area that keeps something in IndexedDB. */
export { database, StorageError, type Database, type StorageErrorCode } from './idb.ts';
