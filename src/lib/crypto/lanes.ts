/**
 * Lanes: runs of consecutive age STREAM chunks sealed or opened on other threads.
 * (`LaneRequest.sealed` carries the input bytes either way: sealed chunks to open, or plaintext.)
 *
 * Each 64 KiB chunk of an age payload is an independent ChaCha20-Poly1305 message (its nonce is
 * its counter), so a run of chunks can be handled anywhere and put back in place. The browser app
 * installs lanes backed by Web Workers from its own origin (see src/app/lanes.ts), which roughly
 * divides a large bundle's decryption time by the number of cores; without lanes (Node, tests of
 * the core) everything runs on the calling thread, with the same results byte for byte.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
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
  /** `openChunks` elsewhere; `sealed`'s buffer may be transferred (the caller must not reuse it). */
  open(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean): Promise<Uint8Array>;
  /** `sealChunks` elsewhere; `plain`'s buffer may be transferred. */
  seal(key: Uint8Array, first: number, plain: Uint8Array, final: boolean): Promise<Uint8Array>;
}

let installed: ChunkLanes | undefined;

/** Installs (or, with `undefined`, removes) the lanes that large payloads are opened on. */
export function useLanes(lanes: ChunkLanes | undefined): void {
  installed = lanes;
}

export function currentLanes(): ChunkLanes | undefined {
  return installed;
}

/** The message a lane worker receives, and what it answers. */
export interface LaneRequest {
  id: number;
  op: 'open' | 'seal';
  key: Uint8Array;
  first: number;
  sealed: Uint8Array;
  final: boolean;
}
export type LaneReply = { id: number; plain: Uint8Array } | { id: number; error: string; code: AgeErrorCode };

/** Lanes over workers that run `serveLane` (src/lib/crypto/lane-worker.ts). */
export function workerLanes(make: () => Worker, count: number): ChunkLanes {
  const workers: Worker[] = [];
  const waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  let next = 0;
  let id = 0;
  const worker = (i: number) => {
    if (!workers[i]) {
      const w = make();
      w.onmessage = (e: MessageEvent<LaneReply>) => {
        const p = waiting.get(e.data.id);
        if (!p) return;
        waiting.delete(e.data.id);
        if ('error' in e.data) p.reject(new AgeError(e.data.code, e.data.error));
        else p.resolve(e.data.plain);
      };
      w.onerror = (e) => {
        e.preventDefault();
        for (const p of waiting.values()) p.reject(new AgeError('failed', `a decryption worker failed: ${e.message}`));
        waiting.clear();
      };
      workers[i] = w;
    }
    return workers[i]!;
  };
  const send = (op: LaneRequest['op'], key: Uint8Array, first: number, bytes: Uint8Array, final: boolean) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const req: LaneRequest = { id: ++id, op, key, first, sealed: bytes, final };
      waiting.set(req.id, { resolve, reject });
      worker(next++ % count).postMessage(req, [bytes.buffer as ArrayBuffer]);
    });
  return {
    width: count,
    open: (key, first, sealed, final) => send('open', key, first, sealed, final),
    seal: (key, first, plain, final) => send('seal', key, first, plain, final),
  };
}

/** The worker side: answers each request with the opened chunks (or the error's message). */
export function serveLane(scope: {
  onmessage: ((e: MessageEvent<LaneRequest>) => void) | null;
  postMessage(m: LaneReply, t: Transferable[]): void;
}): void {
  scope.onmessage = (e) => {
    const { id, op, key, first, sealed, final } = e.data;
    try {
      const plain = op === 'seal' ? sealChunks(key, first, sealed, final) : openChunks(key, first, sealed, final);
      scope.postMessage({ id, plain }, [plain.buffer as ArrayBuffer]);
    } catch (err) {
      scope.postMessage({ id, error: (err as Error).message, code: err instanceof AgeError ? err.code : 'failed' }, []);
    }
  };
}
