/**
 * OpenSSH Ed25519 keys and SSH signatures, so an expert can sign with the key they already use and
 * an owner can check with `ssh-keygen -Y verify`.
 *
 * Formats: the wire encoding of RFC 4251 §5 (uint32, string); public keys per RFC 8709 §4
 * (`ssh-ed25519`); private key files per OpenSSH's PROTOCOL.key (`openssh-key-v1`); signatures per
 * OpenSSH's PROTOCOL.sshsig (`SSHSIG`, version 1, armored). Ed25519 itself is @noble/curves.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { base64, base64nopad } from '@scure/base';

export class SshError extends Error {
  override name = 'SshError';
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const KEY_TYPE = 'ssh-ed25519';

/** Writer for the SSH wire format. */
class Writer {
  private parts: Uint8Array[] = [];
  u32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  string(b: Uint8Array | string): this {
    const bytes = typeof b === 'string' ? enc.encode(b) : b;
    return this.u32(bytes.length).raw(bytes);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Reader for the SSH wire format; every read is bounds-checked. */
class Reader {
  private o = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {}
  u32(): number {
    if (this.o + 4 > this.b.length) throw new SshError(`${this.what} is truncated`);
    const n = new DataView(this.b.buffer, this.b.byteOffset + this.o, 4).getUint32(0);
    this.o += 4;
    return n;
  }
  raw(n: number): Uint8Array {
    if (n > this.b.length - this.o) throw new SshError(`${this.what} is truncated`);
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  string(): Uint8Array {
    return this.raw(this.u32());
  }
  text(): string {
    try {
      return dec.decode(this.string());
    } catch {
      throw new SshError(`${this.what} has a field that is not text`);
    }
  }
  get done(): boolean {
    return this.o === this.b.length;
  }
}

/** An Ed25519 public key as SSH knows it. */
export interface SshPublicKey {
  /** The 32-byte Ed25519 key. */
  key: Uint8Array;
  comment: string;
}

/** The public key blob: string "ssh-ed25519", string key (RFC 8709 §4). */
export function publicKeyBlob(key: Uint8Array): Uint8Array {
  return new Writer().string(KEY_TYPE).string(key).bytes();
}

function parseBlob(blob: Uint8Array, what: string): Uint8Array {
  const r = new Reader(blob, what);
  const type = r.text();
  if (type !== KEY_TYPE)
    throw new SshError(`${what} is a ${type} key; Airlock accepts ssh-ed25519 keys only (ssh-keygen -t ed25519)`);
  const key = r.string();
  if (key.length !== 32 || !r.done) throw new SshError(`${what} is not a valid ssh-ed25519 key`);
  return key;
}

/** `SHA256:…` exactly as `ssh-keygen -l` prints it. */
export function fingerprint(key: Uint8Array): string {
  return `SHA256:${base64nopad.encode(sha256(publicKeyBlob(key)))}`;
}

/** One line of an `authorized_keys`/`.pub` file. */
export function formatPublicKey(key: Uint8Array, comment = ''): string {
  return `${KEY_TYPE} ${base64.encode(publicKeyBlob(key))}${comment ? ` ${comment}` : ''}`;
}

/**
 * Parses `ssh-ed25519 AAAA… comment` (a `.pub` file or an allowed-signers style line).
 * @throws {SshError} naming what is wrong.
 */
export function parsePublicKey(text: string): SshPublicKey {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!line) throw new SshError('no public key found; expected a line starting with ssh-ed25519');
  const fields = line.split(/\s+/);
  const at = fields.indexOf(KEY_TYPE);
  if (at < 0) throw new SshError(`not an ssh-ed25519 public key (found ${fields[0]?.slice(0, 30) ?? 'nothing'})`);
  let blob: Uint8Array;
  try {
    blob = base64.decode(fields[at + 1] ?? '');
  } catch {
    throw new SshError('the public key is not valid base64');
  }
  return { key: parseBlob(blob, 'the public key'), comment: fields.slice(at + 2).join(' ') };
}

/** A signing key: the 32-byte Ed25519 seed and its public key. */
export interface SshPrivateKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  comment: string;
}

const PRIV_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const PRIV_END = '-----END OPENSSH PRIVATE KEY-----';
const AUTH_MAGIC = enc.encode('openssh-key-v1\0');

/**
 * Parses an unencrypted OpenSSH private key file holding one ssh-ed25519 key (PROTOCOL.key).
 * @throws {SshError} for other key types, passphrase-protected keys, and damaged files.
 */
export function parsePrivateKey(text: string): SshPrivateKey {
  const start = text.indexOf(PRIV_BEGIN);
  const end = text.indexOf(PRIV_END);
  if (start < 0 || end < start) {
    if (
      text.includes('BEGIN RSA PRIVATE KEY') ||
      text.includes('BEGIN EC PRIVATE KEY') ||
      text.includes('BEGIN PRIVATE KEY')
    ) {
      throw new SshError('this is a PEM key; Airlock needs an OpenSSH ed25519 key (ssh-keygen -t ed25519)');
    }
    throw new SshError('not an OpenSSH private key file (no BEGIN OPENSSH PRIVATE KEY line)');
  }
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(text.slice(start + PRIV_BEGIN.length, end).replace(/\s+/g, ''));
  } catch {
    throw new SshError('the private key file is not valid base64');
  }
  if (bytes.length < AUTH_MAGIC.length || AUTH_MAGIC.some((b, i) => bytes[i] !== b))
    throw new SshError('the private key file is not in openssh-key-v1 format');
  const r = new Reader(bytes.subarray(AUTH_MAGIC.length), 'the private key file');
  const cipher = r.text();
  const kdf = r.text();
  r.string(); // kdf options
  if (cipher !== 'none' || kdf !== 'none') {
    throw new SshError(
      'the key is passphrase-protected; sign with ssh-keygen -Y sign -n airlock instead, or use an unprotected key made for Airlock',
    );
  }
  const n = r.u32();
  if (n !== 1) throw new SshError(`the private key file holds ${n} keys; expected one`);
  const pub = parseBlob(r.string(), 'the private key file');
  const p = new Reader(r.string(), 'the private key file');
  if (p.u32() !== p.u32()) throw new SshError('the private key file is damaged (check bytes differ)');
  const type = p.text();
  if (type !== KEY_TYPE) throw new SshError(`the private key is a ${type} key; Airlock accepts ssh-ed25519 keys only`);
  const pub2 = p.string();
  const secret = p.string(); // seed || public key (64 bytes)
  const comment = p.text();
  if (secret.length !== 64 || pub2.length !== 32)
    throw new SshError('the private key file is damaged (bad key lengths)');
  const seed = secret.slice(0, 32);
  const derived = ed25519.getPublicKey(seed);
  if (!equal(derived, pub) || !equal(derived, pub2) || !equal(derived, secret.subarray(32)))
    throw new SshError('the private key does not match its public key');
  return { seed, publicKey: derived, comment };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A new Ed25519 key pair, as an OpenSSH private key file and a `.pub` line. */
export function generateSshKey(comment = 'airlock'): { privateKey: string; publicKey: string; key: SshPrivateKey } {
  const seed = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(seed);
  return {
    privateKey: formatPrivateKey({ seed, publicKey: pub, comment }),
    publicKey: `${formatPublicKey(pub, comment)}\n`,
    key: { seed, publicKey: pub, comment },
  };
}

/** An unencrypted OpenSSH private key file (PROTOCOL.key) holding one ssh-ed25519 key, as ssh-keygen writes it. */
export function formatPrivateKey(key: SshPrivateKey): string {
  const { seed, publicKey: pub, comment } = key;
  const check = crypto.getRandomValues(new Uint32Array(1))[0]!;
  const inner = new Writer()
    .u32(check)
    .u32(check)
    .string(KEY_TYPE)
    .string(pub)
    .string(concat(seed, pub))
    .string(comment)
    .bytes();
  const pad = new Uint8Array((8 - (inner.length % 8)) % 8).map((_, i) => i + 1);
  const body = new Writer()
    .raw(AUTH_MAGIC)
    .string('none')
    .string('none')
    .string(new Uint8Array(0))
    .u32(1)
    .string(publicKeyBlob(pub))
    .string(concat(inner, pad))
    .bytes();
  const b64 = base64
    .encode(body)
    .replace(/(.{70})/g, '$1\n')
    .trim();
  return `${PRIV_BEGIN}\n${b64}\n${PRIV_END}\n`;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const w = new Writer();
  for (const p of parts) w.raw(p);
  return w.bytes();
}

const SIG_MAGIC = enc.encode('SSHSIG');
const SIG_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const SIG_END = '-----END SSH SIGNATURE-----';

/** The bytes that are actually signed (PROTOCOL.sshsig, "Signed Data"). */
function signedData(namespace: string, message: Uint8Array): Uint8Array {
  return new Writer()
    .raw(SIG_MAGIC)
    .string(namespace)
    .string(new Uint8Array(0))
    .string('sha512')
    .string(sha512(message))
    .bytes();
}

/** Signs `message` as `ssh-keygen -Y sign -n <namespace>` would; returns the armored signature. */
export function signSsh(message: Uint8Array, key: SshPrivateKey, namespace: string): string {
  return armorSignature(key.publicKey, namespace, ed25519.sign(signedData(namespace, message), key.seed));
}

/**
 * The same, for a key that signs elsewhere (a non-extractable WebCrypto Ed25519 key): `sign`
 * receives the bytes to sign (PROTOCOL.sshsig "Signed Data") and returns the 64-byte signature.
 */
export async function signSshWith(
  message: Uint8Array,
  publicKey: Uint8Array,
  namespace: string,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
  return armorSignature(publicKey, namespace, await sign(signedData(namespace, message)));
}

function armorSignature(publicKey: Uint8Array, namespace: string, sig: Uint8Array): string {
  const blob = new Writer()
    .raw(SIG_MAGIC)
    .u32(1)
    .string(publicKeyBlob(publicKey))
    .string(namespace)
    .string(new Uint8Array(0))
    .string('sha512')
    .string(new Writer().string(KEY_TYPE).string(sig).bytes())
    .bytes();
  return `${SIG_BEGIN}\n${base64
    .encode(blob)
    .replace(/(.{70})/g, '$1\n')
    .trim()}\n${SIG_END}\n`;
}

/**
 * Checks an armored SSH signature over `message` in `namespace`. Returns the signer's public key;
 * whether that key is the expected one is the caller's decision.
 * @throws {SshError} when the signature is malformed, for another namespace, or does not verify.
 */
export function verifySsh(message: Uint8Array, armored: string, namespace: string): Uint8Array {
  const start = armored.indexOf(SIG_BEGIN);
  const end = armored.indexOf(SIG_END);
  if (start < 0 || end < start)
    throw new SshError('the signature is not an SSH signature (no BEGIN SSH SIGNATURE line)');
  let blob: Uint8Array;
  try {
    blob = base64.decode(armored.slice(start + SIG_BEGIN.length, end).replace(/\s+/g, ''));
  } catch {
    throw new SshError('the signature is not valid base64');
  }
  if (blob.length < 6 || !equal(blob.subarray(0, 6), SIG_MAGIC))
    throw new SshError('the signature is not in SSHSIG format');
  const r = new Reader(blob.subarray(6), 'the signature');
  if (r.u32() !== 1) throw new SshError('the signature has an unknown SSHSIG version');
  const pub = parseBlob(r.string(), 'the signing key');
  const ns = r.text();
  r.string(); // reserved
  const hash = r.text();
  const sr = new Reader(r.string(), 'the signature');
  if (!r.done) throw new SshError('the signature has trailing bytes');
  if (ns !== namespace) throw new SshError(`the signature is for namespace "${ns}", not "${namespace}"`);
  if (hash !== 'sha512' && hash !== 'sha256') throw new SshError(`the signature uses an unknown hash (${hash})`);
  if (sr.text() !== KEY_TYPE) throw new SshError('the signature is not an ssh-ed25519 signature');
  const sig = sr.string();
  const h = hash === 'sha512' ? sha512(message) : sha256(message);
  const data = new Writer().raw(SIG_MAGIC).string(ns).string(new Uint8Array(0)).string(hash).string(h).bytes();
  let ok: boolean;
  try {
    ok = sig.length === 64 && ed25519.verify(sig, data, pub);
  } catch {
    ok = false;
  }
  if (!ok) throw new SshError('the signature does not match: the signed file was changed or signed by another key');
  return pub;
}
