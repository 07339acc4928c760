/**
 * age files (https://age-encryption.org/v1) whose header is made and read by `age-encryption`,
 * and whose payload STREAM is run here, directly on @noble/ciphers' ChaCha20-Poly1305.
 *
 * Why not the library's own stream: it pushes every 64 KiB chunk through a WHATWG
 * TransformStream, which costs about a quarter of the cipher's throughput (measured in
 * docs/BENCHMARKS.md), and it hands back fresh chunks that the caller must copy again. The STREAM
 * construction itself is small and fixed by the spec: the payload key is HKDF-SHA-256(file key,
 * salt = 16-byte nonce, info "payload"); chunk i (64 KiB of plaintext, the last one shorter or
 * full, empty only when it is the only one) is sealed with the 12-byte nonce
 * `big-endian 11-byte counter ‖ last-chunk flag`. Everything subtle — recipient stanzas, the file
 * key, the header MAC — stays in `age-encryption`: the header comes from `Encrypter` (the file key
 * is seen by a recipient object through the library's public `Recipient` interface) and is read by
 * `Decrypter.decryptHeader`, the library's entry point for delegated decryption. The interop tests
 * run both directions against the `age` program.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Decrypter, Encrypter, type Recipient, type Stanza } from 'age-encryption';
import { AgeError } from './age-error.ts';
import type { Trace } from '../workers/index.ts';
import { CHUNK, SEALED, TAG, laneUnavailable, openChunk, openRun, sealRun, type ChunkLanes } from './lanes.ts';

const NONCE = 16;
/** A header this long is junk: one X25519 stanza is about 150 bytes, a post-quantum one about 1.6 KB. */
const MAX_HEADER = 64 * 1024;
/** Chunks per run handed to a lane (2 MiB of plaintext). */
const LANE_RUN = 32;
/** Chunks decrypted between two yields to the event loop (8 MiB, ~80 ms here). */
const YIELD_EVERY = 128;
/** Plaintext chunks sealed per output piece on one thread (256 KiB): few stream chunks, little held. */
const BATCH = 4;

const PAYLOAD = new TextEncoder().encode('payload');
const MAGIC = new TextEncoder().encode('age-encryption.org/v1\n');
const MAC_LINE = new TextEncoder().encode('\n--- ');

/**
 * age-encryption throws plain Errors, so its header errors are classified by their wording here,
 * at the one call into it, and nowhere else (typage's messages: "no identity matched any of the
 * file's recipients", "invalid header HMAC", "invalid stanza", "invalid header", …).
 */
function headerFailure(e: unknown): AgeError {
  if (e instanceof AgeError) return e;
  const m = e instanceof Error ? e.message : String(e);
  if (/no identity matched/i.test(m)) return new AgeError('wrong-key', m);
  if (/HMAC|header|stanza|non-ASCII|base64|version/i.test(m)) return new AgeError('bad-header', m);
  return new AgeError('failed', m);
}

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return hkdf(sha256, fileKey, nonce, PAYLOAD, 32);
}

/**
 * Starts an age file to `recipient`: the header and payload nonce (the file's first bytes) and the
 * payload key. `Encrypter` writes the header for an empty file; a second, stanza-less recipient
 * sees the file key it wraps.
 */
export async function ageHeader(recipient: string | Recipient): Promise<{ prefix: Uint8Array; key: Uint8Array }> {
  let fileKey: Uint8Array | undefined;
  const witness: Recipient = {
    wrapFileKey(k: Uint8Array): Stanza[] {
      fileKey = k.slice();
      return [];
    },
  };
  const e = new Encrypter();
  e.addRecipient(recipient);
  e.addRecipient(witness);
  const empty = await e.encrypt(new Uint8Array(0));
  // header ‖ nonce ‖ the sealed empty final chunk (a bare tag): keep all but the tag.
  const prefix = empty.subarray(0, empty.length - TAG);
  if (!fileKey || prefix.length < MAGIC.length + NONCE) throw new AgeError('failed', 'could not start the age file');
  return { prefix, key: payloadKey(fileKey, prefix.subarray(prefix.length - NONCE)) };
}

/**
 * The plaintext cut into runs of whole chunks, copied out of the source's pieces and laid out for
 * sealing in place (chunk k at `k * SEALED`, see lanes.ts `sealRun`). Each run gets a buffer of its
 * own, which becomes the sealed piece the reader receives. A run is marked final only when the
 * source is exhausted; so the payload's last chunk may be full, as the spec allows, and an empty
 * payload is one empty final run.
 */
async function* plaintextRuns(
  it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>,
  runChunks: number,
  trace: Trace | undefined,
): AsyncGenerator<{ first: number; laid: Uint8Array; plain: number; final: boolean }> {
  const runBytes = runChunks * CHUNK;
  let pending: Uint8Array = new Uint8Array(0);
  const more = async () => {
    while (!pending.length) {
      const r = await it.next();
      if (r.done) return false;
      pending = r.value;
    }
    return true;
  };
  for (let first = 0; ; first += runChunks) {
    const laid = new Uint8Array(runChunks * SEALED);
    let used = 0;
    while (used < runBytes && (await more())) {
      const t = trace && performance.now();
      // Up to the end of the current chunk's slot.
      const n = Math.min(CHUNK - (used % CHUNK), pending.length);
      laid.set(pending.subarray(0, n), Math.floor(used / CHUNK) * SEALED + (used % CHUNK));
      used += n;
      pending = pending.subarray(n);
      if (trace) trace.add('main', 'copy into runs', performance.now() - t!);
    }
    if (used < runBytes || !(await more())) {
      yield { first, laid, plain: used, final: true };
      return;
    }
    yield { first, laid, plain: used, final: false };
  }
}

/**
 * Encrypts `source` (any chunking) as an age payload after `prefix`. Pull-based: a run of chunks
 * (256 KiB, or 2 MiB per lane on `lanes`, a few in flight) is sealed only when the reader asks, so
 * memory stays flat whatever the file size. Lanes that cannot start leave the rest of the payload
 * to this thread.
 */
export function encryptPayload(
  prefix: Uint8Array,
  key: Uint8Array,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  lanes?: ChunkLanes,
  trace?: Trace,
): ReadableStream<Uint8Array> {
  const it = (
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (source as Iterable<Uint8Array>)[Symbol.iterator]()
  ) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  const runs = plaintextRuns(it, lanes ? LANE_RUN : BATCH, trace);
  const queue: Promise<Uint8Array>[] = [];
  let exhausted = false;
  let sentPrefix = false;
  let here = !lanes;
  const sealHere = (first: number, laid: Uint8Array, plain: number, final: boolean) => {
    const t = performance.now();
    const sealed = sealRun(key, first, laid, plain, final);
    trace?.add('main', 'seal', performance.now() - t);
    return sealed;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentPrefix) {
        sentPrefix = true;
        controller.enqueue(prefix.slice());
        return;
      }
      if (!lanes) {
        const r = await runs.next();
        if (r.done) controller.close();
        else controller.enqueue(sealHere(r.value.first, r.value.laid, r.value.plain, r.value.final));
        return;
      }
      while (!exhausted && queue.length < 2 * lanes.width) {
        const r = await runs.next();
        if (r.done) exhausted = true;
        else {
          const { first, laid, plain, final } = r.value;
          const sealed = here
            ? Promise.resolve().then(() => sealHere(first, laid, plain, final))
            : lanes.seal(key, first, laid, plain, final, trace).catch((e: unknown) => {
                if (!laneUnavailable(e)) throw e;
                here = true; // (not sent: `laid` is still ours)
                return sealHere(first, laid, plain, final);
              });
          sealed.catch(() => {}); // reported when its turn comes
          queue.push(sealed);
        }
      }
      const next = queue.shift();
      if (!next) return controller.close();
      const t = trace && performance.now();
      const sealed = await next;
      if (trace) trace.add('main', 'wait for lanes', performance.now() - t!);
      controller.enqueue(sealed);
    },
    async cancel(reason) {
      await runs.return(undefined);
      await (it as AsyncIterator<Uint8Array>).return?.(reason);
    },
  });
}

/** The plaintext size of a STREAM payload of `n` bytes. Same rules (and messages) as age-encryption. */
export function payloadPlaintextSize(n: number): number {
  if (n < TAG) throw new AgeError('truncated', 'ciphertext is too small');
  if (n === TAG) return 0;
  const full = Math.floor(n / SEALED);
  const rest = n % SEALED;
  if (rest > 0 && rest <= TAG) throw new AgeError('truncated', 'ciphertext size is invalid');
  return n - full * TAG - (rest > 0 ? TAG : 0);
}

/** Bytes a byte stream's reader fills per `next` (the header, and runs opened on this thread). */
const READ_PIECE = 256 * 1024;

/**
 * Reads exactly the bytes a stream yields, in order, with a reader that can hand back leftovers.
 * A byte stream (a Blob's or a File's) is read with its BYOB reader into buffers given to it: the
 * runs for the lanes are filled in place, with no fresh buffer per chunk and no copy. (Fresh
 * memory is what costs most on some machines, see lanes.ts.) Any other stream, or iterable, is read
 * chunk by chunk.
 */
class Source {
  private it?: AsyncIterator<Uint8Array>;
  private byob?: ReadableStreamBYOBReader;
  private ended = false;
  /** Bytes handed back, next first. */
  private rest: Uint8Array[] = [];
  constructor(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>) {
    if (source instanceof ReadableStream) {
      try {
        this.byob = source.getReader({ mode: 'byob' });
      } catch {
        // Not a byte stream: its own chunks, below.
      }
    }
    if (!this.byob) this.it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  }
  /**
   * Reads into `view` (a byte stream): the filled part (possibly empty), on the view's memory, which
   * the read moved to a new ArrayBuffer object; null once the stream has ended or was cancelled.
   */
  private async fill(view: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
    if (this.ended) return null;
    const r = await this.byob!.read(view);
    if (r.done) this.ended = true;
    return r.value ?? null;
  }
  /** The next piece of the stream (possibly a leftover), or null at its end. */
  async next(): Promise<Uint8Array | null> {
    const r = this.rest.shift();
    if (r) return r;
    if (this.byob) {
      while (!this.ended) {
        const b = await this.fill(new Uint8Array(READ_PIECE));
        if (b?.length) return b;
      }
      return null;
    }
    for (;;) {
      const { done, value } = await this.it!.next();
      if (done) return null;
      if (value.length) return value;
    }
  }
  /**
   * Exactly `n` bytes, read into `into` (a buffer kept for the purpose) from its start; the result
   * may be on a new ArrayBuffer object over the same memory (a BYOB read moves it).
   * @throws {AgeError} `truncated` when the stream ends first
   */
  async readExactly(n: number, into: ArrayBuffer): Promise<Uint8Array> {
    let buf: Uint8Array<ArrayBuffer> = new Uint8Array(into, 0, n);
    let got = 0;
    // Leftovers first (the header's reads), then straight into the buffer.
    while (got < n && this.rest.length) {
      const b = this.rest.shift()!;
      const k = Math.min(n - got, b.length);
      buf.set(b.subarray(0, k), got);
      got += k;
      this.unread(b.subarray(k));
    }
    while (got < n) {
      if (this.byob) {
        const b = await this.fill(new Uint8Array(buf.buffer, got, n - got));
        if (!b) throw new AgeError('truncated', 'the file is truncated: unexpected EOF');
        // The read moved the memory to a new ArrayBuffer object: go on with that one.
        buf = new Uint8Array(b.buffer as ArrayBuffer, 0, n);
        got += b.length;
        if (got < n && this.ended) throw new AgeError('truncated', 'the file is truncated: unexpected EOF');
        continue;
      }
      const b = await this.next();
      if (!b) throw new AgeError('truncated', 'the file is truncated: unexpected EOF');
      const k = Math.min(n - got, b.length);
      buf.set(b.subarray(0, k), got);
      got += k;
      this.unread(b.subarray(k));
    }
    return buf;
  }
  /** Hands `b` back: the next call to `next` returns it before anything else. */
  unread(b: Uint8Array): void {
    if (b.length) this.rest.unshift(b);
  }
  cancel(): void {
    if (this.byob) void this.byob.cancel().catch(() => {});
    else void this.it!.return?.()?.catch(() => {});
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Reads the header (up to and including its MAC line) and hands the rest back to `src`.
 * @throws {AgeError} `not-age` when the file does not start with age's first line (before anything else is read)
 */
async function readHeader(src: Source): Promise<Uint8Array> {
  let buf = new Uint8Array(0);
  let searched = MAGIC.length;
  for (;;) {
    for (let i = 0; i < Math.min(buf.length, MAGIC.length); i++)
      if (buf[i] !== MAGIC[i]) throw new AgeError('not-age', 'the file is not age-encrypted');
    const mac = indexOf(buf, MAC_LINE, Math.max(MAGIC.length - 1, searched - MAC_LINE.length));
    if (mac >= 0) {
      const end = buf.indexOf(0x0a, mac + MAC_LINE.length);
      if (end >= 0) {
        src.unread(buf.subarray(end + 1));
        return buf.slice(0, end + 1);
      }
    }
    searched = buf.length;
    if (buf.length > MAX_HEADER) throw new AgeError('bad-header', 'invalid header: no MAC line in the first 64 KiB');
    const more = await src.next();
    if (!more) {
      if (buf.length < MAGIC.length) throw new AgeError('not-age', 'the file is not age-encrypted');
      throw new AgeError('truncated', 'invalid header: the file ends inside it (truncated?)');
    }
    const joined = new Uint8Array(buf.length + Math.min(more.length, MAX_HEADER + 1));
    joined.set(buf);
    joined.set(more.subarray(0, joined.length - buf.length), buf.length);
    if (joined.length - buf.length < more.length) src.unread(more.subarray(joined.length - buf.length));
    buf = joined;
  }
}

/**
 * True if `identity` opens the age file that starts with these bytes (only its header is read and
 * unwrapped, nothing is decrypted): which of several keys a file is sealed to.
 */
export async function opensWith(file: Uint8Array, identity: string | CryptoKey): Promise<boolean> {
  try {
    const header = await readHeader(
      new Source(
        (async function* () {
          yield file;
        })(),
      ),
    );
    const d = new Decrypter();
    d.addIdentity(identity);
    await d.decryptHeader(header);
    return true;
  } catch {
    return false;
  }
}

/**
 * The payload opened run by run on other threads, each result copied into its place in `out`.
 * At most two runs per lane are in flight, each in one of the buffers kept for them, which go to a
 * lane and come back with the plaintext in place: memory stays a few MiB above the plaintext, and
 * none of it is fresh after the first runs.
 */
async function openInLanes(
  lanes: ChunkLanes,
  src: Source,
  key: Uint8Array,
  payload: number,
  chunks: number,
  out: Uint8Array,
  onProgress: ((done: number, total: number) => void) | undefined,
  trace: Trace | undefined,
): Promise<void> {
  const inflight: Promise<void>[] = [];
  const spare: ArrayBuffer[] = [];
  let failure: Error | undefined;
  let done = 0;
  let here = false;
  const time = (stage: string, t: number | undefined) => trace?.add('main', stage, performance.now() - t!);
  // Copies into place (and runs opened here) happen while this thread awaits a read or the lanes:
  // those stages count without them.
  let busy = 0;
  const net = (stage: string, t: number | undefined, b: number) => time(stage, t! + (busy - b));
  const openHere = (first: number, sealed: Uint8Array, final: boolean) => {
    const t = trace && performance.now();
    const plain = openRun(key, first, sealed, final);
    if (trace) busy += performance.now() - t!;
    time('open', t);
    return plain;
  };
  for (let first = 0; first < chunks && !failure; first += LANE_RUN) {
    const count = Math.min(LANE_RUN, chunks - first);
    const final = first + count === chunks;
    const bytes = final ? payload - first * SEALED : count * SEALED;
    let t = trace && performance.now();
    let b = busy;
    const sealed = await src.readExactly(bytes, spare.pop() ?? new ArrayBuffer(LANE_RUN * SEALED));
    net('read the input into runs', t, b);
    const opened = here
      ? Promise.resolve().then(() => openHere(first, sealed, final))
      : lanes.open(key, first, sealed, final, trace).catch((e: unknown) => {
          if (!laneUnavailable(e)) throw e;
          here = true; // no lane could start: this run (not sent, still ours) and the rest here
          return openHere(first, sealed, final);
        });
    inflight.push(
      opened.then(
        (plain) => {
          const t = trace && performance.now();
          out.set(plain, first * CHUNK);
          spare.push(plain.buffer as ArrayBuffer);
          if (trace) busy += performance.now() - t!;
          time('copy into place', t);
          done += plain.length;
          onProgress?.(done, out.length);
        },
        (e: Error) => void (failure ??= e),
      ),
    );
    t = trace && performance.now();
    b = busy;
    if (inflight.length >= 2 * lanes.width) await inflight.shift();
    net('wait for lanes', t, b);
  }
  const t = trace && performance.now();
  const b = busy;
  await Promise.all(inflight);
  net('wait for lanes', t, b);
  if (failure) throw failure;
}

export interface DecryptOptions {
  /** Where runs of chunks are opened (other threads); without, on this one. */
  lanes?: ChunkLanes;
  /** Where the time went (the benchmarks' breakdown). */
  trace?: Trace;
  /** Plaintext bytes opened so far, and in all. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decrypts an age file into one buffer of the exact plaintext size: each chunk is opened straight
 * into its place, so the plaintext exists once and nothing is copied after decryption.
 * @param source the file's bytes in any chunking; a byte stream (a Blob's) is read into the runs in place.
 * @param size the file's length in bytes (the payload's length fixes the plaintext size and which
 *   chunk is the last).
 * @throws {AgeError} with its code (wrong key, bad header, truncated, trailing data, a chunk that fails
 *   authentication)
 */
export async function decryptAge(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  size: number,
  identity: string | CryptoKey,
  options: DecryptOptions = {},
): Promise<Uint8Array> {
  const { lanes, onProgress, trace } = options;
  const src = new Source(source);
  try {
    const header = await readHeader(src);
    const d = new Decrypter();
    d.addIdentity(identity);
    let fileKey: Uint8Array;
    try {
      fileKey = await d.decryptHeader(header);
    } catch (e) {
      throw headerFailure(e);
    }
    const nonce = new Uint8Array(NONCE);
    let got = 0;
    while (got < NONCE) {
      const b = await src.next();
      if (!b) throw new AgeError('truncated', 'ciphertext is too small');
      const n = Math.min(NONCE - got, b.length);
      nonce.set(b.subarray(0, n), got);
      got += n;
      if (n < b.length) src.unread(b.subarray(n));
    }
    const key = payloadKey(fileKey, nonce);
    const payload = size - header.length - NONCE;
    const out = new Uint8Array(payloadPlaintextSize(payload));
    const chunks = Math.max(1, Math.ceil(payload / SEALED));
    if (lanes && chunks >= 2 * LANE_RUN) {
      await openInLanes(lanes, src, key, payload, chunks, out, onProgress, trace);
      if (await src.next()) throw new AgeError('trailing', 'the file is longer than its size says: trailing data');
      return out;
    }
    const staged = new Uint8Array(SEALED);
    let used = 0;
    for (let counter = 0; counter < chunks;) {
      const last = counter === chunks - 1;
      const want = last ? payload - counter * SEALED : SEALED;
      const r = trace && performance.now();
      const b = await src.next();
      if (trace) trace.add('main', 'read the input', performance.now() - r!);
      if (!b) throw new AgeError('truncated', 'the file is truncated: unexpected EOF');
      let sealed: Uint8Array;
      if (used === 0 && b.length >= want) {
        // A whole sealed chunk straight from the source's buffer; no staging copy.
        sealed = b.subarray(0, want);
        src.unread(b.subarray(want));
      } else {
        const n = Math.min(want - used, b.length);
        staged.set(b.subarray(0, n), used);
        used += n;
        src.unread(b.subarray(n));
        if (used < want) continue;
        sealed = staged.subarray(0, want);
        used = 0;
      }
      const at = counter * CHUNK;
      const t = trace && performance.now();
      openChunk(key, counter, last, sealed, out.subarray(at, at + want - TAG));
      if (trace) trace.add('main', 'open', performance.now() - t!);
      counter++;
      if (counter % YIELD_EVERY === 0) {
        onProgress?.(Math.min(out.length, counter * CHUNK), out.length);
        // Let the page breathe (progress bars, a sandbox starting meanwhile): a bundle held in
        // memory would otherwise be decrypted in one uninterrupted task.
        const t = trace && performance.now();
        await new Promise((r) => setTimeout(r, 0));
        if (trace) trace.add('main', 'yield to the page', performance.now() - t!);
      }
    }
    onProgress?.(out.length, out.length);
    if (await src.next()) throw new AgeError('trailing', 'the file is longer than its size says: trailing data');
    return out;
  } finally {
    src.cancel();
  }
}
