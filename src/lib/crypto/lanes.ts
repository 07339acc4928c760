/**
 * Cipher lanes: runs of consecutive age STREAM chunks sealed or opened on other threads.
 *
 * Each 64 KiB chunk of an age payload is an independent ChaCha20-Poly1305 message (its nonce is
 * its counter), so a run of chunks can be handled anywhere and put back in place. The app's lanes
 * are Web Workers of its own origin and the CLI's are Node threads, both a `WorkerPool` speaking
 * `CipherLaneApi` (`cipherLanes` turns one into `ChunkLanes`), passed to `encryptPayload` and
 * `decryptAge` by their callers; without lanes everything runs on the calling thread, with the
 * same results byte for byte.
 *
 * Runs are sealed and opened in place, in the buffer that carries them to the lane and back: no
 * buffer is allocated per run on either side. (Fresh memory is what costs most on some machines:
 * on the 2-core VMs of docs/BENCHMARKS.md, first touching a page costs about as much as
 * encrypting it.) A run to seal is laid out with room for each chunk's tag (`layRun`); an opened
 * run's plaintext ends up at the start of its buffer, which the caller then reuses.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { transfer, type Endpoint } from 'comlink';
import { PoolError, serveWorker, wallClock, type Trace, type WorkerPool } from '../workers/index.ts';
import { AgeError, type AgeErrorCode } from './age-error.ts';

export const CHUNK = 64 * 1024;
export const TAG = 16;
export const SEALED = CHUNK + TAG;

/** The 12-byte STREAM nonce: 11-byte big-endian counter, then the last-chunk flag. */
export function chunkNonce(counter: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  let c = counter;
  for (let i = 10; i >= 0 && c > 0; i--) {
    n[i] = c % 256;
    c = Math.floor(c / 256);
  }
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * Opens one sealed chunk into `out` (which may be `sealed` itself, or start before it).
 * @throws {AgeError} `tampered` when it fails authentication: changed, cut, moved, or the wrong last chunk
 */
export function openChunk(key: Uint8Array, counter: number, last: boolean, sealed: Uint8Array, out: Uint8Array): void {
  try {
    chacha20poly1305(key, chunkNonce(counter, last)).decrypt(sealed, out);
  } catch {
    throw new AgeError('tampered', `chunk ${counter} fails authentication (invalid tag)`);
  }
}

/**
 * Opens consecutive sealed chunks in place (`first` is the first one's counter; when `final`, the
 * last one is the payload's last): the plaintext is returned at the start of `sealed`'s own
 * memory, each chunk moved back over the tags before it. (@noble allows an output that starts at
 * or before its input.) Throws as `openChunk`.
 */
export function openRun(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean): Uint8Array {
  const count = Math.ceil(sealed.length / SEALED);
  for (let k = 0; k < count; k++) {
    const from = k * SEALED;
    const to = Math.min(sealed.length, from + SEALED);
    openChunk(
      key,
      first + k,
      final && k === count - 1,
      sealed.subarray(from, to),
      sealed.subarray(k * CHUNK, k * CHUNK + (to - from - TAG)),
    );
  }
  return sealed.subarray(0, sealed.length - count * TAG);
}

/** Opens consecutive sealed chunks into a new array (`openRun` without touching `sealed`). */
export function openChunks(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean): Uint8Array {
  return openRun(key, first, sealed.slice(), final).slice();
}

/** Bytes a run of `plain` plaintext bytes takes once sealed (an empty run is one empty final chunk). */
export function sealedLength(plain: number): number {
  return plain + Math.max(1, Math.ceil(plain / CHUNK)) * TAG;
}

/**
 * Seals a run laid out for sealing in place: chunk k's plaintext at `k * SEALED` of `laid`,
 * `plain` bytes in all (64 KiB a chunk but the payload's last; an empty run is the one empty
 * final chunk of an empty payload). Each chunk gets its tag after it, so the result is the sealed
 * run, on `laid`'s own memory.
 */
export function sealRun(key: Uint8Array, first: number, laid: Uint8Array, plain: number, final: boolean): Uint8Array {
  const count = Math.max(1, Math.ceil(plain / CHUNK));
  for (let k = 0; k < count; k++) {
    const n = Math.min(CHUNK, plain - k * CHUNK);
    const at = k * SEALED;
    chacha20poly1305(key, chunkNonce(first + k, final && k === count - 1)).encrypt(
      laid.subarray(at, at + n),
      laid.subarray(at, at + n + TAG),
    );
  }
  return laid.subarray(0, sealedLength(plain));
}

/** Seals consecutive plaintext chunks (64 KiB each but the payload's last) into a new array. */
export function sealChunks(key: Uint8Array, first: number, plain: Uint8Array, final: boolean): Uint8Array {
  const laid = new Uint8Array(sealedLength(plain.length));
  for (let o = 0, at = 0; o < plain.length; o += CHUNK, at += SEALED) laid.set(plain.subarray(o, o + CHUNK), at);
  return sealRun(key, first, laid, plain.length, final);
}

export interface ChunkLanes {
  /** How many runs may usefully be in flight at once. */
  readonly width: number;
  /**
   * `openRun` elsewhere: `sealed` must be a view from the start of its buffer, which travels to the
   * lane and back (the caller must use only the result, which is on that buffer, from its start).
   * @throws {AgeError} as `openRun`, or `crashed` when the lane stopped; {PoolError} `unavailable`
   *   when no lane could start, and then `sealed` is still the caller's (nothing was sent)
   */
  open(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean, trace?: Trace): Promise<Uint8Array>;
  /** `sealRun` elsewhere, on the same terms as `open`. */
  seal(
    key: Uint8Array,
    first: number,
    laid: Uint8Array,
    plain: number,
    final: boolean,
    trace?: Trace,
  ): Promise<Uint8Array>;
}

/** True for the error lanes give when none could start: the run was not sent, do it here. */
export function laneUnavailable(e: unknown): boolean {
  return e instanceof PoolError && e.code === 'unavailable';
}

/** One run of chunks as it travels to a lane: sealed chunks to open, or a laid-out run of `plain` bytes to seal. */
export interface RunRequest {
  key: Uint8Array;
  first: number;
  bytes: Uint8Array;
  plain?: number;
  final: boolean;
}

/**
 * A lane's answer, with how long the cipher took and when the answer left (`wallClock`), for
 * traces. Replies are results, not exceptions: comlink rethrows a worker's exception as a plain
 * Error, and an AgeError's code would be lost.
 */
export type RunReply =
  { ok: true; bytes: Uint8Array; ms: number; sent: number } | { ok: false; code: AgeErrorCode; message: string };

/** A cipher lane's RPC contract. */
export interface CipherLaneApi {
  open(req: RunRequest): RunReply;
  seal(req: RunRequest): RunReply;
}

/** The lane's side (the worker entry exposes it with `serveWorker`). */
export function cipherLaneApi(): CipherLaneApi {
  const reply = (f: () => Uint8Array): RunReply => {
    const t = performance.now();
    try {
      const bytes = f();
      return transfer({ ok: true, bytes, ms: performance.now() - t, sent: wallClock() }, [bytes.buffer as ArrayBuffer]);
    } catch (e) {
      return {
        ok: false,
        code: e instanceof AgeError ? e.code : 'failed',
        message: String((e as Error)?.message ?? e),
      };
    }
  };
  return {
    open: ({ key, first, bytes, final }) => reply(() => openRun(key, first, bytes, final)),
    seal: ({ key, first, bytes, plain, final }) => reply(() => sealRun(key, first, bytes, plain ?? 0, final)),
  };
}

/** A worker (or thread) that is a cipher lane and nothing else: the CLI's threads. */
export function serveCipherLane(endpoint?: Endpoint): void {
  serveWorker(cipherLaneApi(), endpoint);
}

/** `ChunkLanes` on a pool of workers that serve `cipherLaneApi`. */
export function cipherLanes(pool: WorkerPool<CipherLaneApi>): ChunkLanes {
  const send = async (op: 'open' | 'seal', req: RunRequest, trace: Trace | undefined) => {
    let reply: RunReply;
    let lane = 0;
    try {
      const sending = transfer(req, [req.bytes.buffer as ArrayBuffer]);
      // (comlink's Remote turns a union reply into a union of promises)
      reply = await pool.run(
        (api, worker) => (
          (lane = worker),
          (op === 'open' ? api.open(sending) : api.seal(sending)) as Promise<RunReply>
        ),
      );
    } catch (e) {
      if (e instanceof PoolError && e.code !== 'unavailable') throw new AgeError('crashed', `${e.message}; try again`);
      throw e;
    }
    if (!reply.ok) throw new AgeError(reply.code, reply.message);
    trace?.add(`lane ${lane}`, op, reply.ms);
    // Elapsed, not busy: a reply's message waits for this thread's event loop as well.
    trace?.add('messages', 'lane reply in transit (elapsed)', wallClock() - reply.sent);
    return reply.bytes;
  };
  return {
    width: pool.size,
    open: (key, first, bytes, final, trace) => send('open', { key, first, bytes, final }, trace),
    seal: (key, first, bytes, plain, final, trace) => send('seal', { key, first, bytes, plain, final }, trace),
  };
}
