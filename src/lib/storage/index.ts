/** Storage plumbing shared by every area that keeps something in IndexedDB. */
export { database, StorageError, type Database, type StorageErrorCode } from './idb.ts';

/**
 * The id of the room that a browser of Airlock 0.1 (one room, no ids) becomes on upgrade: its bundles
 * and runs are tagged with it by their own databases' upgrades, its keys by lib/rooms.
 */
export const MIGRATED_ROOM = 'room-1';
