/**
 * A bounded pool of workers that each speak one typed comlink contract (`Api`), for the app's lanes
 * (Web Workers of its own origin) and the CLI's (Node worker threads) alike.
 *
 * - Lazy and bounded: a worker starts on the first request that finds none idle, up to `size`.
 * - A worker says when it is ready (`serveWorker` posts {@link READY} once its contract is exposed),
 *   and nothing is sent to it before. So a worker that cannot start (its script 404s, fails to
 *   parse, or throws while loading) fails its requests with {@link PoolError} `unavailable` while
 *   their data (buffers meant to be transferred) is still the caller's: the caller can do the work
 *   on its own thread instead, as the lanes do.
 * - A worker that fails once started (an `error` or `messageerror` event, a thread that exits) is
 *   ended, and each of its requests fails with `crashed` and a one-line reason; later requests go
 *   to the other workers or to a fresh one.
 *
 * Cancelling is the contract's business (the ingest lanes have a `cancel` of their own): the pool
 * only moves requests and notices deaths.
 */
import { expose, wrap, type Endpoint, type Remote } from 'comlink';

export type PoolErrorCode = 'unavailable' | 'crashed' | 'closed';

/** A request the pool could not carry out: the worker never started, stopped, or the pool was closed. */
export class PoolError extends Error {
  override name = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    /** Why, in a few words ("its script did not load"), for a caller's own message. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a worker posts once its contract is exposed. (Comlink ignores messages without its ids.) */
export const READY = 'airlock:worker-ready';

/** A started worker as the pool sees it. */
export interface PoolWorker {
  /** What comlink talks over. */
  endpoint: Endpoint;
  /**
   * Calls `fail` with a short reason when the worker cannot load, fails outside a request, or ends.
   * (It may call it more than once; the pool takes the first.)
   */
  watch(fail: (why: string) => void): void;
  terminate(): void;
}

/** The worker's side: exposes `api` on `endpoint` (the worker's global scope by default), then says it is ready. */
export function serveWorker(api: object, endpoint: Endpoint = globalThis as unknown as Endpoint): void {
  expose(api, endpoint);
  endpoint.postMessage(READY);
}

/** A Web Worker for the pool: its `error` and `messageerror` events are its failures. */
export function webWorker(worker: Worker): PoolWorker {
  return {
    endpoint: worker,
    watch(fail) {
      worker.addEventListener('error', (e) => {
        e.preventDefault(); // reported through the requests, not as an uncaught error of the page
        // A script that does not load fires a plain Event; an uncaught exception an ErrorEvent.
        fail((e as ErrorEvent).message || 'its script did not load');
      });
      worker.addEventListener('messageerror', () => fail('a message could not be read'));
    },
    terminate: () => worker.terminate(),
  };
}

interface Slot<Api> {
  /** The worker's number in this pool (1, 2, …; a replacement gets a new one), for traces. */
  id: number;
  api: Remote<Api>;
  /** Requests sent or waiting to be sent. */
  busy: number;
  /** Resolves when the worker has said it is ready. */
  ready: Promise<void>;
  /** Rejects (with the reason) when the worker fails or is ended; never resolves. */
  dead: Promise<never>;
  /** Ends the worker (once) and fails its requests with `why`. */
  end(why: string): void;
}

/** Up to `size` workers made by `make`, started on demand and kept until `close`. */
export class WorkerPool<Api> {
  #slots: Slot<Api>[] = [];
  #closed = false;
  #made = 0;

  /**
   * @param make starts one worker (called lazily, again after a worker failed).
   * @param size the most workers at once (at least one).
   * @param what the worker in the pool's messages ("a cipher worker").
   */
  constructor(
    private readonly make: () => PoolWorker,
    readonly size: number,
    private readonly what = 'a worker',
  ) {
    if (!(size >= 1)) throw new RangeError('a worker pool needs at least one worker');
  }

  /** Workers started and not failed. */
  get started(): number {
    return this.#slots.length;
  }

  /**
   * Runs `task` with one worker's contract (and its number): the first idle worker, a new one
   * while fewer than `size` run, otherwise the least busy.
   * @throws {PoolError} `unavailable` when the worker could not start (nothing was sent to it),
   *   `crashed` when it stopped before `task` settled, `closed` after `close`.
   */
  async run<T>(task: (api: Remote<Api>, worker: number) => Promise<T>): Promise<T> {
    if (this.#closed)
      throw new PoolError('closed', 'the pool was closed', `${this.what} was asked for after its pool was closed`);
    const slot = this.#pick();
    slot.busy++;
    try {
      await Promise.race([slot.ready, slot.dead]).catch((why: string) => {
        throw new PoolError(this.#closed ? 'closed' : 'unavailable', why, `${this.what} could not start (${why})`);
      });
      return await Promise.race([task(slot.api, slot.id), slot.dead.catch((why: string) => this.#stopped(why))]);
    } finally {
      slot.busy--;
    }
  }

  #stopped(why: string): never {
    throw new PoolError(this.#closed ? 'closed' : 'crashed', why, `${this.what} stopped (${why})`);
  }

  #pick(): Slot<Api> {
    const idle = this.#slots.find((s) => s.busy === 0);
    if (idle) return idle;
    if (this.#slots.length < this.size) return this.#start();
    return this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  #start(): Slot<Api> {
    let fail!: (why: string) => void;
    const dead = new Promise<never>((_, reject) => (fail = reject));
    dead.catch(() => {}); // awaited by the requests, if there are any
    let worker: PoolWorker | undefined;
    let refused = '';
    try {
      worker = this.make();
    } catch (e) {
      // (new Worker throws at once for a URL it refuses, another origin's say.)
      refused = String((e as Error)?.message ?? e);
    }
    let ready!: () => void;
    let gone = false;
    const slot: Slot<Api> = {
      id: ++this.#made,
      api: wrap<Api>(worker?.endpoint ?? { postMessage() {}, addEventListener() {}, removeEventListener() {} }),
      busy: 0,
      ready: new Promise<void>((r) => (ready = r)),
      dead,
      end: (why) => {
        if (gone) return;
        gone = true;
        this.#slots = this.#slots.filter((s) => s !== slot);
        worker?.terminate();
        fail(why);
      },
    };
    this.#slots.push(slot);
    if (!worker) {
      slot.end(refused);
      return slot;
    }
    const onMessage = (e: Event) => {
      if ((e as MessageEvent).data !== READY) return;
      worker.endpoint.removeEventListener('message', onMessage);
      ready();
    };
    worker.endpoint.addEventListener('message', onMessage);
    worker.watch(slot.end);
    return slot;
  }

  /**
   * Starts every worker now instead of on demand, for a caller that knows work is coming and has
   * something else to do meanwhile (the CLI reads and hashes its files while its threads load).
   */
  prestart(): void {
    if (this.#closed) return;
    // (Counted, not `while`: a worker that fails at once leaves its slot at once.)
    for (let n = this.#slots.length; n < this.size; n++) this.#start();
  }

  /** Ends every worker; requests in flight fail with `closed`. */
  close(): void {
    this.#closed = true;
    for (const s of [...this.#slots]) s.end('the pool was closed');
  }
}
