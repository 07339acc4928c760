/**
 * Sealing and opening bundles: a zip (manifest, its SSH signature, the notebook, the wheels),
 * encrypted with age to the owner's room key. See docs/BUNDLE.md.
 */
import { Decrypter, Encrypter } from 'age-encryption';
import { bytesToHex } from '@noble/hashes/utils.js';
import { fingerprint, formatPublicKey, parsePublicKey, verifySsh, SshError, signSsh, type SshPrivateKey } from '../crypto/index.ts';
import { BundleError } from './errors.ts';
import { FORMAT, FORMAT_VERSION, parseManifest, serializeManifest, type Manifest } from './manifest.ts';
import { readZip, zipStream } from './zip.ts';

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
  /** The expert's own age recipient, so the owner can encrypt the outputs to them. */
  replyTo?: string;
  created?: Date;
}

/**
 * SHA-256 through WebCrypto: the platform's native digest runs ~8× faster than a JS one on the
 * 100 MB files a bundle may carry (measured in docs/BENCHMARKS.md), in Node and browsers alike.
 */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

const WHEEL_NAME = /^[A-Za-z0-9_.]+-[A-Za-z0-9_.!+]+(-[0-9][A-Za-z0-9_.]*)?-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+\.whl$/;

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/**
 * Builds, signs and encrypts a bundle. The result streams: nothing holds the whole ciphertext.
 * @throws {BundleError} `bad-input` for an unusable notebook, wheel name, name or version.
 */
export async function sealBundle(input: SealInput): Promise<{ manifest: Manifest; stream: ReadableStream<Uint8Array> }> {
  const nbName = baseName(input.notebook.filename);
  if (!nbName.endsWith('.ipynb')) throw new BundleError('bad-input', `the notebook must be an .ipynb file (got ${nbName})`);
  try {
    const nb = JSON.parse(new TextDecoder().decode(input.notebook.bytes)) as { nbformat?: unknown };
    if (nb.nbformat !== 4) throw new Error();
  } catch {
    throw new BundleError('bad-input', `${nbName} is not a Jupyter notebook (nbformat 4 JSON)`);
  }
  const wheels = input.wheels.map((w) => {
    const n = baseName(w.filename);
    if (!WHEEL_NAME.test(n)) throw new BundleError('bad-input', `${n} is not a wheel file name (name-version-python-abi-platform.whl)`);
    if (!w.bytes.length) throw new BundleError('bad-input', `${n} is empty`);
    return { name: n, bytes: w.bytes };
  });
  const ref = async (dir: string, name: string, bytes: Uint8Array) => ({ path: `${dir}${name}`, sha256: await sha256Hex(bytes), size: bytes.length });
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    name: input.name,
    version: input.version,
    created: (input.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    author: { fingerprint: fingerprint(input.signer.publicKey), publicKey: formatPublicKey(input.signer.publicKey), ...(input.replyTo ? { recipient: input.replyTo } : {}) },
    notebook: await ref('notebook/', nbName, input.notebook.bytes),
    wheels: await Promise.all(wheels.map((w) => ref('wheels/', w.name, w.bytes))),
    outputs: input.outputs ?? [],
    tables: input.tables ?? [],
    ...(input.inference ? { inference: input.inference } : {}),
  };
  const manifestBytes = serializeManifest(manifest);
  try {
    parseManifest(manifestBytes); // the same checks the owner's side will apply
  } catch (e) {
    throw new BundleError('bad-input', (e as Error).message.replace("the bundle's manifest is invalid: ", ''));
  }
  const signature = new TextEncoder().encode(signSsh(manifestBytes, input.signer, NAMESPACE));
  const zip = zipStream([
    { name: 'manifest.json', data: manifestBytes },
    { name: 'manifest.json.sig', data: signature },
    { name: manifest.notebook.path, data: input.notebook.bytes },
    ...wheels.map((w) => ({ name: `wheels/${w.name}`, data: w.bytes })),
  ]);
  const e = new Encrypter();
  try {
    e.addRecipient(input.recipient);
  } catch {
    throw new BundleError('bad-input', `${input.recipient.slice(0, 20)}… is not an age recipient (age1…)`);
  }
  return { manifest, stream: await e.encrypt(zip) };
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

export interface OpenOptions {
  /**
   * The expert's pinned key (`ssh-ed25519 …` line or `SHA256:` fingerprint). When given, a bundle
   * signed by any other key is refused.
   */
  expert?: string;
}

async function readAll(stream: ReadableStream<Uint8Array>, size?: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  if (size !== undefined) {
    // One buffer of the exact plaintext size: the only copy of the bundle held in memory.
    const out = new Uint8Array(size);
    let o = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (o + value.length > size) throw new BundleError('tampered', 'the bundle is longer than its encryption says');
      out.set(value, o);
      o += value.length;
    }
    if (o !== size) throw new BundleError('truncated', 'the bundle is truncated; ask for it again');
    return out;
  }
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function ageFailure(e: unknown): BundleError {
  const m = e instanceof Error ? e.message : String(e);
  if (/no identity matched/.test(m)) return new BundleError('wrong-key', 'the bundle was sealed for another room: none of your keys can open it');
  if (/too small|size is invalid|final chunk|EOF|truncat/i.test(m)) return new BundleError('truncated', 'the bundle is truncated or damaged; ask for it again');
  if (/HMAC|invalid header|stanza|non-ASCII/i.test(m)) return new BundleError('tampered', 'the bundle was changed after it was sealed (its encryption header does not check out)');
  // A cut-off chunk and a changed one fail the same authentication: name both.
  if (/tag/i.test(m)) return new BundleError('tampered', 'the bundle is damaged: it was truncated or changed after it was sealed; ask for it again');
  return new BundleError('tampered', `the bundle cannot be decrypted (${m.slice(0, 80)})`);
}

/**
 * Decrypts a bundle, checks its archive, manifest, signature and every file's hash.
 * @param input the sealed bytes, or a stream with its byte length (so the plaintext buffer is
 *   allocated once, at its exact size).
 * @throws {BundleError} with a code and a one-line message; nothing is returned unless every check passed.
 */
export async function openBundle(input: Uint8Array | { stream: ReadableStream<Uint8Array>; size: number }, identity: string | CryptoKey, options: OpenOptions = {}): Promise<OpenedBundle> {
  let head: Uint8Array;
  let stream: ReadableStream<Uint8Array>;
  let size: number;
  if (input instanceof Uint8Array) {
    head = input.subarray(0, AGE_MAGIC.length);
    stream = new Blob([input as BlobPart]).stream();
    size = input.length;
  } else {
    const [a, b] = input.stream.tee();
    const r = a.getReader();
    const first = await r.read();
    void r.cancel();
    head = (first.value ?? new Uint8Array(0)).subarray(0, AGE_MAGIC.length);
    stream = b;
    size = input.size;
  }
  if (size === 0) throw new BundleError('empty', 'the bundle file is empty (0 bytes)');
  if (head.length < AGE_MAGIC.length || AGE_MAGIC.some((b, i) => head[i] !== b)) {
    throw new BundleError('not-age', 'not an Airlock bundle: the file is not age-encrypted');
  }
  const d = new Decrypter();
  d.addIdentity(identity);
  let plain: Uint8Array;
  try {
    const out = await d.decrypt(stream);
    let expected: number | undefined;
    try {
      expected = out.size(size);
    } catch (e) {
      throw ageFailure(e);
    }
    plain = await readAll(out, expected);
  } catch (e) {
    throw e instanceof BundleError ? e : ageFailure(e);
  }

  const files = readZip(plain);
  const manifestBytes = files.get('manifest.json');
  if (!manifestBytes) throw new BundleError('missing-file', 'the bundle has no manifest.json');
  const manifest = parseManifest(manifestBytes);
  const sigBytes = files.get('manifest.json.sig');
  if (!sigBytes) throw new BundleError('unsigned', 'the bundle is not signed (no manifest.json.sig)');
  const signature = new TextDecoder().decode(sigBytes);
  let signerKey: Uint8Array;
  try {
    signerKey = verifySsh(manifestBytes, signature, NAMESPACE);
  } catch (e) {
    throw new BundleError('bad-signature', `the bundle's signature is invalid: ${(e as SshError).message}`);
  }
  const signer = fingerprint(signerKey);
  if (signer !== manifest.author.fingerprint) throw new BundleError('bad-signature', `the manifest names author ${manifest.author.fingerprint} but was signed by ${signer}`);
  if (options.expert) {
    const pinned = options.expert.startsWith('SHA256:') ? options.expert.trim() : fingerprint(parsePublicKey(options.expert).key);
    if (pinned !== signer) throw new BundleError('unknown-signer', `the bundle is signed by ${signer}, not by the expert you trust (${pinned}); do not run it unless you expected a new key`);
  }

  const listed = new Set(['manifest.json', 'manifest.json.sig', manifest.notebook.path, ...manifest.wheels.map((w) => w.path)]);
  for (const name of files.keys()) if (!listed.has(name)) throw new BundleError('extra-file', `the bundle holds ${name}, which its manifest does not list`);
  const check = async (ref: { path: string; sha256: string; size: number }) => {
    const bytes = files.get(ref.path);
    if (!bytes) throw new BundleError('missing-file', `the bundle lacks ${ref.path}, which its manifest lists`);
    if (bytes.length !== ref.size || (await sha256Hex(bytes)) !== ref.sha256) throw new BundleError('hash-mismatch', `${ref.path} does not match the hash in the signed manifest`);
    return bytes;
  };
  const notebook = await check(manifest.notebook);
  const wheels: NamedBytes[] = [];
  for (const w of manifest.wheels) wheels.push({ filename: w.path.slice('wheels/'.length), bytes: await check(w) });
  return { manifest, manifestBytes, signature, signer, notebook, wheels };
}
