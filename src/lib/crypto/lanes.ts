/**
 * Cipher lanes: runs of consecutive age STREAM chunks sealed or opened on other threads.
 *
 * Each 64 KiB chunk of an age payload is an independent ChaCha20-Poly1305 message (its nonce is
 * its counter), so a run of chunks can be handled anywhere and put back in place. The app's lanes
 * are Web Workers of its own origin and the CLI's are Node threads, both a `WorkerPool` speaking
 * `CipherLaneApi` (`cipherLanes` turns one into `ChunkLanes`), passed to `encryptPayload` and
 * `decryptAge` by their callers; without lanes everything runs on the calling thread, with the
 * same results byte for byte.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { transfer, type Endpoint } from 'comlink';
import { PoolError, serveWorker, type WorkerPool } from '../workers/index.ts';
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
 * Opens consecutive sealed chunks (`first` is the first one's counter; when `final`, the last one
 * is the payload's last). Throws noble's authentication error for a changed or misplaced chunk.
 */
export function openChunks(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean): Uint8Array {
  const count = Math.ceil(sealed.length / SEALED);
  const out = new Uint8Array(sealed.length - count * TAG);
  for (let k = 0; k < count; k++) {
    const from = k * SEALED;
    const to = Math.min(sealed.length, from + SEALED);
    openChunk(
      key,
      first + k,
      final && k === count - 1,
      sealed.subarray(from, to),
      out.subarray(k * CHUNK, k * CHUNK + (to - from - TAG)),
    );
  }
  return out;
}

/**
 * Opens one sealed chunk into `out`.
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
 * Seals consecutive plaintext chunks (64 KiB each but the payload's last; an empty run is the one
 * empty final chunk of an empty payload).
 */
export function sealChunks(key: Uint8Array, first: number, plain: Uint8Array, final: boolean): Uint8Array {
  const count = Math.max(1, Math.ceil(plain.length / CHUNK));
  const out = new Uint8Array(plain.length + count * TAG);
  for (let k = 0; k < count; k++) {
    const from = k * CHUNK;
    const to = Math.min(plain.length, from + CHUNK);
    chacha20poly1305(key, chunkNonce(first + k, final && k === count - 1)).encrypt(
      plain.subarray(from, to),
      out.subarray(k * SEALED, k * SEALED + (to - from) + TAG),
    );
  }
  return out;
}

export interface ChunkLanes {
  /** How many runs may usefully be in flight at once. */
  readonly width: number;
  /**
   * `openChunks` elsewhere; `sealed`'s buffer may be transferred (the caller must not reuse it).
   * @throws {AgeError} as `openChunks`, or `crashed` when the lane stopped; {PoolError} `unavailable`
   *   when no lane could start, and then `sealed` is still the caller's (nothing was sent)
   */
  open(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean): Promise<Uint8Array>;
  /** `sealChunks` elsewhere; `plain`'s buffer may be transferred. Throws as `open`. */
  seal(key: Uint8Array, first: number, plain: Uint8Array, final: boolean): Promise<Uint8Array>;
}

/** True for the error lanes give when none could start: the run was not sent, do it here. */
export function laneUnavailable(e: unknown): boolean {
  return e instanceof PoolError && e.code === 'unavailable';
}

/** One run of chunks as it travels to a lane: `bytes` are sealed chunks to open, or plaintext to seal. */
export interface RunRequest {
  key: Uint8Array;
  first: number;
  bytes: Uint8Array;
  final: boolean;
}

/**
 * A lane's answer. Replies are results, not exceptions: comlink rethrows a worker's exception as a
 * plain Error, and an AgeError's code would be lost.
 */
export type RunReply = { ok: true; bytes: Uint8Array } | { ok: false; code: AgeErrorCode; message: string };

/** A cipher lane's RPC contract. */
export interface CipherLaneApi {
  open(req: RunRequest): RunReply;
  seal(req: RunRequest): RunReply;
}

/** The lane's side (the worker entry exposes it with `serveWorker`). */
export function cipherLaneApi(): CipherLaneApi {
  const reply = (f: () => Uint8Array): RunReply => {
    try {
      const bytes = f();
      return transfer({ ok: true, bytes }, [bytes.buffer as ArrayBuffer]);
    } catch (e) {
      return {
        ok: false,
        code: e instanceof AgeError ? e.code : 'failed',
        message: String((e as Error)?.message ?? e),
      };
    }
  };
  return {
    open: ({ key, first, bytes, final }) => reply(() => openChunks(key, first, bytes, final)),
    seal: ({ key, first, bytes, final }) => reply(() => sealChunks(key, first, bytes, final)),
  };
}

/** A worker (or thread) that is a cipher lane and nothing else: the CLI's threads. */
export function serveCipherLane(endpoint?: Endpoint): void {
  serveWorker(cipherLaneApi(), endpoint);
}

/** `ChunkLanes` on a pool of workers that serve `cipherLaneApi`. */
export function cipherLanes(pool: WorkerPool<CipherLaneApi>): ChunkLanes {
  const send = async (op: 'open' | 'seal', key: Uint8Array, first: number, bytes: Uint8Array, final: boolean) => {
    let reply: RunReply;
    try {
      const req = transfer({ key, first, bytes, final }, [bytes.buffer as ArrayBuffer]);
      // (comlink's Remote turns a union reply into a union of promises)
      reply = await pool.run((api) => (op === 'open' ? api.open(req) : api.seal(req)) as Promise<RunReply>);
    } catch (e) {
      if (e instanceof PoolError && e.code !== 'unavailable') {
        throw new AgeError('crashed', `${e.message}; try again`);
      }
      throw e;
    }
    if (!reply.ok) throw new AgeError(reply.code, reply.message);
    return reply.bytes;
  };
  return {
    width: pool.size,
    open: (key, first, sealed, final) => send('open', key, first, sealed, final),
    seal: (key, first, plain, final) => send('seal', key, first, plain, final),
  };
}
