/**
 * Sealing and opening bundles: a zip (manifest, its SSH signature, the notebook, the wheels),
 * encrypted with age to the owner's room key. See docs/BUNDLE.md.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  AgeError,
  ageHeader,
  decryptAge,
  encryptPayload,
  fingerprint,
  formatPublicKey,
  parsePublicKey,
  verifySsh,
  SshError,
  signSsh,
  type ChunkLanes,
  type SshPrivateKey,
} from '../crypto/index.ts';
import { timed, type Trace } from '../workers/index.ts';
import { BundleError } from './errors.ts';
import { FORMAT, formatVersionFor, parseManifest, serializeManifest, type Manifest } from './manifest.ts';
import { crc32, readZip, zipPieces, ZipError } from '../zip/index.ts';

/** SSH signature namespace: a signature made for Airlock cannot be replayed as another tool's. */
export const NAMESPACE = 'airlock';
const AGE_MAGIC = new TextEncoder().encode('age-encryption.org/v1\n');

export interface NamedBytes {
  filename: string;
  bytes: Uint8Array;
}

export interface SealInput {
  /** The owner's `age1…` recipient. */
  recipient: string;
  signer: SshPrivateKey;
  name: string;
  version: string;
  notebook: NamedBytes;
  wheels: NamedBytes[];
  outputs?: string[];
  tables?: string[];
  inference?: { module: string; function: string };
  /** The column the model predicts (and a text column's positive value): with `inference`, the owner can audit membership. */
  label?: { column: string; positive?: string };
  /** Outputs that are tables of counts or aggregates. */
  aggregates?: string[];
  /** The expert's own age recipient, so the owner can encrypt the outputs to them. */
  replyTo?: string;
  created?: Date;
}

/**
 * Node's own SHA-256 (reached without importing `node:` modules, so the browser build is
 * unaffected): it hashes the caller's bytes where they are. Node's WebCrypto digest first copies
 * its input into fresh memory on the calling thread, and on the 2-core VMs of docs/BENCHMARKS.md
 * first touching 100 MB costs several times the hash itself.
 */
const nodeCrypto = (
  globalThis as {
    process?: {
      getBuiltinModule?: (
        m: string,
      ) => { createHash?: (a: string) => { update(d: Uint8Array): { digest(): Uint8Array } } } | undefined;
    };
  }
).process?.getBuiltinModule?.('node:crypto');

/**
 * SHA-256 in native code: Node's own where there is one, WebCrypto otherwise (in the browser it
 * runs ~8× faster than a JS one on the 100 MB files a bundle may carry, docs/BENCHMARKS.md).
 */
async function sha256Hex(bytes: Uint8Array, trace?: Trace): Promise<string> {
  const t = performance.now();
  if (nodeCrypto?.createHash) {
    const digest = nodeCrypto.createHash('sha256').update(bytes).digest();
    trace?.add('main', 'SHA-256', performance.now() - t);
    return bytesToHex(digest);
  }
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  // Elapsed, not busy: the digest runs beside the rest (after copying its input on this thread).
  trace?.add('WebCrypto', 'SHA-256 (elapsed)', performance.now() - t);
  return bytesToHex(new Uint8Array(digest));
}

const WHEEL_NAME =
  /^[A-Za-z0-9_.]+-[A-Za-z0-9_.!+]+(-[0-9][A-Za-z0-9_.]*)?-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+\.whl$/;

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** Where the work of sealing or opening runs. */
export interface LaneOptions {
  /** The caller's cipher lanes (the app's workers, the CLI's threads); without, this thread. */
  lanes?: ChunkLanes;
  /** Where the time went, stage by stage (the benchmarks' breakdown); nothing is measured without. */
  trace?: Trace;
}

/**
 * Builds, signs and encrypts a bundle. The result streams: nothing holds the whole ciphertext. The
 * manifest resolves once the files are hashed and it is signed (it goes last in the archive).
 * @throws {BundleError} `bad-input` for an unusable notebook, wheel name, name or version.
 */
export async function sealBundle(
  input: SealInput,
  options: LaneOptions = {},
): Promise<{ manifest: Promise<Manifest>; stream: ReadableStream<Uint8Array> }> {
  const nbName = baseName(input.notebook.filename);
  if (!nbName.endsWith('.ipynb'))
    throw new BundleError('bad-input', `the notebook must be an .ipynb file (got ${nbName})`);
  try {
    const nb = JSON.parse(new TextDecoder().decode(input.notebook.bytes)) as { nbformat?: unknown };
    if (nb.nbformat !== 4) throw new Error();
  } catch {
    throw new BundleError('bad-input', `${nbName} is not a Jupyter notebook (nbformat 4 JSON)`);
  }
  const wheels = input.wheels.map((w) => {
    const n = baseName(w.filename);
    if (!WHEEL_NAME.test(n))
      throw new BundleError('bad-input', `${n} is not a wheel file name (name-version-python-abi-platform.whl)`);
    if (!w.bytes.length) throw new BundleError('bad-input', `${n} is empty`);
    return { name: n, bytes: w.bytes };
  });
  const files = [
    { path: `notebook/${nbName}`, bytes: input.notebook.bytes },
    ...wheels.map((w) => ({ path: `wheels/${w.name}`, bytes: w.bytes })),
  ];
  const makeManifest = (sha256: string[]): Manifest => ({
    format: FORMAT,
    formatVersion: formatVersionFor(input),
    name: input.name,
    version: input.version,
    created: (input.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    author: {
      fingerprint: fingerprint(input.signer.publicKey),
      publicKey: formatPublicKey(input.signer.publicKey),
      ...(input.replyTo ? { recipient: input.replyTo } : {}),
    },
    notebook: { path: files[0]!.path, sha256: sha256[0]!, size: files[0]!.bytes.length },
    wheels: files.slice(1).map((f, i) => ({ path: f.path, sha256: sha256[i + 1]!, size: f.bytes.length })),
    outputs: input.outputs ?? [],
    tables: input.tables ?? [],
    ...(input.inference ? { inference: input.inference } : {}),
    ...(input.label ? { label: input.label } : {}),
    ...(input.aggregates?.length ? { aggregates: input.aggregates } : {}),
  });
  try {
    // The same checks the owner's side will apply, before any work: only the hashes are unknown yet.
    parseManifest(serializeManifest(makeManifest(files.map(() => '0'.repeat(64)))));
  } catch (e) {
    throw new BundleError('bad-input', (e as Error).message.replace("the bundle's manifest is invalid: ", ''));
  }
  let prefix: Uint8Array, key: Uint8Array;
  try {
    ({ prefix, key } = await ageHeader(input.recipient));
  } catch {
    throw new BundleError('bad-input', `${input.recipient.slice(0, 20)}… is not an age recipient (age1…)`);
  }
  // In the browser the files' SHA-256 run off this thread (WebCrypto) while their bytes are
  // already being encrypted: that is why the manifest and its signature come last in the archive.
  // (In Node they are hashed here, in place, which costs less than WebCrypto's copy.)
  const { trace } = options;
  // A task later: WebCrypto first copies its input on this thread (≈0.3 s per 100 MB of fresh
  // memory on the benchmarks' machine), and by then the first runs are on the lanes.
  const hashed = new Promise<void>((r) => setTimeout(r, 0)).then(() =>
    Promise.all(files.map((f) => sha256Hex(f.bytes, trace))),
  );
  const signed = hashed.then((sha256) => {
    const manifest = makeManifest(sha256);
    const bytes = serializeManifest(manifest);
    const signature = timed(trace, 'sign', () => signSsh(bytes, input.signer, NAMESPACE));
    return { manifest, bytes, signature: new TextEncoder().encode(signature) };
  });
  signed.catch(() => {}); // surfaced through the stream and `manifest`
  async function* entries() {
    // (the CRC here rather than in zipPieces only so that a trace can say what it cost)
    for (const f of files) yield { name: f.path, data: f.bytes, crc: timed(trace, 'CRC-32', () => crc32(f.bytes)) };
    const t = performance.now();
    const { bytes, signature } = await signed;
    trace?.add('main', 'wait for hashes and signature', performance.now() - t);
    yield { name: 'manifest.json', data: bytes };
    yield { name: 'manifest.json.sig', data: signature };
  }
  return {
    manifest: signed.then((s) => s.manifest),
    stream: encryptPayload(prefix, key, zipPieces(entries()), options.lanes, trace),
  };
}

/**
 * A sealed stream as a Blob made of its pieces. Chromium's `new Response(stream).arrayBuffer()`
 * costs as much as the encryption itself for 100 MB (measured in docs/BENCHMARKS.md); a Blob of
 * parts does not concatenate in JavaScript.
 */
export async function streamToBlob(
  stream: ReadableStream<Uint8Array>,
  type = 'application/octet-stream',
): Promise<Blob> {
  const parts: BlobPart[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value as Uint8Array<ArrayBuffer>);
  return new Blob(parts, { type });
}

export interface OpenedBundle {
  manifest: Manifest;
  /** The exact manifest bytes that were signed (hash them to cite the bundle). */
  manifestBytes: Uint8Array;
  signature: string;
  /** `SHA256:…` of the key that signed. */
  signer: string;
  notebook: Uint8Array;
  wheels: NamedBytes[];
}

/** An opened bundle with the result of `OpenOptions.prepareWheels`, when it was asked for. */
export type PreparedBundle<P> = OpenedBundle & { prepared: P };

/** A sealed bundle: its bytes, or a stream of them and its size. */
export type BundleInput = Uint8Array | { stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>; size: number };

export interface OpenOptions extends LaneOptions {
  /**
   * The expert's pinned key (`ssh-ed25519 …` line or `SHA256:` fingerprint). When given, a bundle
   * signed by any other key is refused.
   */
  expert?: string;
  /** Called as the bundle decrypts: plaintext bytes done, and in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface PrepareOptions<P> extends OpenOptions {
  /**
   * Host-side work on the wheels (checking and laying them out, wheel/unpack.ts) that starts while
   * their hashes against the signed manifest are still being computed, instead of after. It sees
   * bytes that are not yet checked, so it must only read them; its result is returned only once
   * every check has passed, and a failed check is reported before any error of its own.
   */
  prepareWheels: (wheels: NamedBytes[]) => Promise<P>;
}

function ageFailure(e: unknown): BundleError {
  if (!(e instanceof AgeError)) throw e;
  switch (e.code) {
    case 'not-age':
      return new BundleError('not-age', 'not an Airlock bundle: the file is not age-encrypted');
    case 'wrong-key':
      return new BundleError('wrong-key', 'the bundle was sealed for another room: none of your keys can open it');
    case 'trailing':
      return new BundleError(
        'tampered',
        'the bundle is longer than its encryption says: bytes were added after it was sealed',
      );
    case 'truncated':
      return new BundleError('truncated', 'the bundle is truncated or damaged; ask for it again');
    case 'bad-header':
      return new BundleError(
        'tampered',
        'the bundle was changed after it was sealed (its encryption header does not check out)',
      );
    case 'tampered':
      // A cut-off chunk and a changed one fail the same authentication: name both.
      return new BundleError(
        'tampered',
        'the bundle is damaged: it was truncated or changed after it was sealed; ask for it again',
      );
    case 'crashed':
      return new BundleError('crashed', `the bundle could not be opened: ${e.message}`);
    case 'failed':
      return new BundleError('tampered', `the bundle cannot be decrypted (${e.message.slice(0, 80)})`);
  }
}

/**
 * Decrypts a bundle, checks its archive, manifest, signature and every file's hash.
 * @param input the sealed bytes, or a stream (or any async iterable of chunks) with its byte length (so the plaintext buffer is
 *   allocated once, at its exact size).
 * @throws {BundleError} with a code and a one-line message; nothing is returned unless every check passed.
 */
export async function openBundle<P>(
  input: BundleInput,
  identity: string | CryptoKey,
  options: PrepareOptions<P>,
): Promise<PreparedBundle<P>>;
export async function openBundle(
  input: BundleInput,
  identity: string | CryptoKey,
  options?: OpenOptions,
): Promise<OpenedBundle>;
export async function openBundle<P>(
  input: BundleInput,
  identity: string | CryptoKey,
  options: OpenOptions & Partial<PrepareOptions<P>> = {},
): Promise<OpenedBundle | PreparedBundle<P>> {
  // The file's bytes in order, without a copy: the array itself, or the stream's chunks after the
  // first (read here to check the magic before any decryption is attempted).
  let head: Uint8Array | undefined;
  let chunks: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
  let size: number;
  let release = () => {};
  if (!(input instanceof Uint8Array) && input.stream instanceof ReadableStream) {
    // A stream (a Blob's, a File's) goes to decryptAge whole, which reads a byte stream into its
    // runs in place; the magic is checked there first ('not-age'), before any decryption.
    chunks = input.stream;
    size = input.size;
    release = () => void (input.stream as ReadableStream).cancel().catch(() => {});
  } else if (input instanceof Uint8Array) {
    head = input.subarray(0, AGE_MAGIC.length);
    chunks = (async function* () {
      yield input;
    })();
    size = input.length;
  } else {
    const it = (input.stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await it.next();
    head = (first.done ? new Uint8Array(0) : first.value).subarray(0, AGE_MAGIC.length);
    release = () => void it.return?.()?.catch(() => {});
    chunks = (async function* () {
      try {
        if (!first.done) yield first.value;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        release();
      }
    })();
    size = input.size;
  }
  if (size === 0) {
    release();
    throw new BundleError('empty', 'the bundle file is empty (0 bytes)');
  }
  if (head && (head.length < AGE_MAGIC.length || AGE_MAGIC.some((b, i) => head[i] !== b))) {
    release();
    throw new BundleError('not-age', 'not an Airlock bundle: the file is not age-encrypted');
  }
  let plain: Uint8Array;
  try {
    plain = await decryptAge(chunks, size, identity, {
      lanes: options.lanes,
      onProgress: options.onProgress,
      trace: options.trace,
    });
  } catch (e) {
    throw ageFailure(e);
  }

  let files: Map<string, Uint8Array>;
  try {
    files = timed(options.trace, 'unzip', () => readZip(plain));
  } catch (e) {
    if (e instanceof ZipError) throw new BundleError('bad-zip', `the bundle's archive is unusable: ${e.message}`);
    throw e;
  }
  const manifestBytes = files.get('manifest.json');
  if (!manifestBytes) throw new BundleError('missing-file', 'the bundle has no manifest.json');
  const manifest = parseManifest(manifestBytes);
  const sigBytes = files.get('manifest.json.sig');
  if (!sigBytes) throw new BundleError('unsigned', 'the bundle is not signed (no manifest.json.sig)');
  const signature = new TextDecoder().decode(sigBytes);
  let signerKey: Uint8Array;
  try {
    signerKey = timed(options.trace, 'verify signature', () => verifySsh(manifestBytes, signature, NAMESPACE));
  } catch (e) {
    throw new BundleError('bad-signature', `the bundle's signature is invalid: ${(e as SshError).message}`);
  }
  const signer = fingerprint(signerKey);
  if (signer !== manifest.author.fingerprint)
    throw new BundleError(
      'bad-signature',
      `the manifest names author ${manifest.author.fingerprint} but was signed by ${signer}`,
    );
  if (options.expert) {
    const pinned = options.expert.startsWith('SHA256:')
      ? options.expert.trim()
      : fingerprint(parsePublicKey(options.expert).key);
    if (pinned !== signer)
      throw new BundleError(
        'unknown-signer',
        `the bundle is signed by ${signer}, not by the expert you trust (${pinned}); do not run it unless you expected a new key`,
      );
  }

  const listed = new Set([
    'manifest.json',
    'manifest.json.sig',
    manifest.notebook.path,
    ...manifest.wheels.map((w) => w.path),
  ]);
  for (const name of files.keys())
    if (!listed.has(name))
      throw new BundleError('extra-file', `the bundle holds ${name}, which its manifest does not list`);
  const present = (ref: { path: string; sha256: string; size: number }) => {
    const bytes = files.get(ref.path);
    if (!bytes) throw new BundleError('missing-file', `the bundle lacks ${ref.path}, which its manifest lists`);
    if (bytes.length !== ref.size)
      throw new BundleError('hash-mismatch', `${ref.path} does not match the hash in the signed manifest`);
    return bytes;
  };
  const notebook = present(manifest.notebook);
  const wheels: NamedBytes[] = manifest.wheels.map((w) => ({
    filename: w.path.slice('wheels/'.length),
    bytes: present(w),
  }));
  const check = async (ref: { path: string; sha256: string }, bytes: Uint8Array) => {
    if ((await sha256Hex(bytes, options.trace)) !== ref.sha256)
      throw new BundleError('hash-mismatch', `${ref.path} does not match the hash in the signed manifest`);
  };
  // Every digest at once: in the browser WebCrypto runs them off this thread, beside the caller's
  // preparation (in Node they are hashed here, in place: see sha256Hex).
  const checks = Promise.all([
    check(manifest.notebook, notebook),
    ...manifest.wheels.map((w, i) => check(w, wheels[i]!.bytes)),
  ]);
  const prepare = options.prepareWheels;
  const prepared = prepare ? Promise.resolve().then(() => prepare(wheels)) : undefined; // (a throw becomes a rejection)
  prepared?.catch(() => {}); // a failed check is the error to report
  await checks;
  const opened: OpenedBundle = { manifest, manifestBytes, signature, signer, notebook, wheels };
  return prepared ? { ...opened, prepared: await prepared } : opened;
}
