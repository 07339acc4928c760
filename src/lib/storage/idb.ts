/**
 * One IndexedDB database, opened once per page and shared by every call — the `dbPromise` of idb's
 * README (https://github.com/jakearchibald/idb#examples) — with the events that end a connection
 * handled in one place:
 *
 * - `blocking`: another tab opens a newer version, or deletes the database. This connection is
 *   closed at once (the very connection the event names, not a new one) and the next call opens
 *   afresh, so the other tab is never stuck behind this one.
 * - `terminated`: the browser closed the connection (storage cleared, disk error); the next call
 *   opens afresh.
 *
 * A tab that meets a database newer than its code (another tab of a newer Airlock upgraded it) gets
 * a {@link StorageError} `newer-version` that says to reload, instead of idb's bare VersionError.
 */
import { openDB, type DBSchema, type IDBPDatabase, type OpenDBCallbacks } from 'idb';

export type StorageErrorCode = 'newer-version' | 'unavailable';

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Database<S extends DBSchema> {
  readonly name: string;
  /** The shared connection, opened on first use (and again after it was closed under us). */
  open(): Promise<IDBPDatabase<S>>;
  /**
   * Runs `f` on the connection; if another tab closed it under us mid-way (InvalidStateError), once
   * more on a fresh one. `f` must be safe to repeat: a transaction that failed committed nothing.
   */
  run<T>(f: (db: IDBPDatabase<S>) => Promise<T>): Promise<T>;
  /** Closes the connection (tests, and before deleting the database). */
  close(): void;
}

/**
 * Describes a database; nothing is opened until the first call.
 * @param upgrade numbered steps: each `if (old < N)` block brings version N-1 to N. Add steps; never edit a released one.
 */
export function database<S extends DBSchema>(
  name: string,
  version: number,
  upgrade: NonNullable<OpenDBCallbacks<S>['upgrade']>,
): Database<S> {
  let opening: Promise<IDBPDatabase<S>> | undefined;
  const forget = (p: Promise<IDBPDatabase<S>> | undefined) => {
    if (opening === p) opening = undefined;
  };
  const open = (): Promise<IDBPDatabase<S>> => {
    if (opening) return opening;
    const p: Promise<IDBPDatabase<S>> = openDB<S>(name, version, {
      upgrade,
      blocking(_current, _next, event) {
        (event.target as IDBDatabase).close();
        forget(p);
      },
      terminated() {
        forget(p);
      },
    }).catch((e: unknown) => {
      forget(p);
      if ((e as DOMException)?.name === 'VersionError') {
        throw new StorageError(
          'newer-version',
          `a newer version of Airlock changed its storage (${name}) in another tab: reload this page`,
        );
      }
      if ((e as DOMException)?.name === 'InvalidStateError' || (e as DOMException)?.name === 'UnknownError') {
        throw new StorageError(
          'unavailable',
          `the browser's storage (IndexedDB) is unavailable: ${(e as Error).message || 'private browsing, or a full disk'}`,
        );
      }
      throw e;
    });
    opening = p;
    return p;
  };
  return {
    name,
    open,
    async run(f) {
      const p = open();
      const d = await p;
      try {
        return await f(d);
      } catch (e) {
        if ((e as DOMException)?.name !== 'InvalidStateError') throw e;
        // Closed under us by another tab's upgrade or delete (see `blocking`): once more, afresh.
        forget(p);
        return f(await open());
      }
    },
    close() {
      const p = opening;
      opening = undefined;
      void p?.then(
        (d) => d.close(),
        () => {},
      );
    },
  };
}
