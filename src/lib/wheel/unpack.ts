/**
 * Checking and unpacking a pure-Python wheel in the host, before the sandbox sees it.
 *
 * There is no pip in the sandbox, and none is needed: a wheel is a zip (PEP 427) whose
 * `*.dist-info/RECORD` lists every file with `sha256=<urlsafe base64, no padding>` and its size
 * (PEP 376, PEP 627). Everything is checked here, on the trusted side and with the platform's
 * native SHA-256 (WebCrypto, all files at once, off the main thread), so that the sandbox only
 * writes files: a file missing from RECORD, a hash or size mismatch, a path that escapes the
 * install folder, compiled code or a non-pure wheel are refused before anything is installed.
 */
import { base64urlnopad } from '@scure/base';
import { readZip, ZipError } from '../zip/index.ts';
import { WheelError } from './build.ts';

/** Files laid out in one buffer, so a single transfer moves them all to the sandbox. */
export interface UnpackedWheel {
  filename: string;
  name: string;
  version: string;
  /** Paths relative to site-packages, each a byte range of `data`. */
  files: { path: string; offset: number; length: number }[];
  data: ArrayBuffer;
}

const UNHASHED = new Set(['RECORD', 'RECORD.jws', 'RECORD.p7s']);
const COMPILED = /\.(so|pyd|dylib|dll)$/i;

/** RECORD is CSV (PEP 376): a path with a comma or quote is quoted, quotes doubled. */
function recordRows(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    const row: string[] = [];
    let i = 0;
    for (;;) {
      let field = '';
      if (line[i] === '"') {
        for (i++; i < line.length; i++) {
          if (line[i] === '"') {
            if (line[i + 1] === '"') {
              field += '"';
              i++;
            } else break;
          } else field += line[i];
        }
        i++; // past the closing quote
      } else {
        const end = line.indexOf(',', i);
        field = line.slice(i, end < 0 ? line.length : end);
        i = end < 0 ? line.length : end;
      }
      row.push(field);
      if (line[i] !== ',') break;
      i++;
    }
    rows.push(row);
  }
  return rows;
}

function safe(path: string): boolean {
  if (!path || path.startsWith('/') || path.includes('\\') || path.split('/')[0]!.includes(':')) return false;
  return path.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

/**
 * Checks a wheel against its RECORD and lays out the files to install.
 * @throws {WheelError} `<wheel file name>: <what is wrong>`, one line.
 */
export async function unpackWheel(filename: string, bytes: Uint8Array): Promise<UnpackedWheel> {
  const fail = (why: string) => new WheelError(`${filename}: ${why}`);
  let entries: Map<string, Uint8Array>;
  try {
    entries = readZip(bytes);
  } catch (e) {
    if (!(e instanceof ZipError)) throw e;
    if (e.code === 'unsafe-name') throw fail(`unsafe path in archive: ${e.message.replace(/^unsafe path /, '')}`);
    if (e.code === 'not-zip') throw fail('not a zip file; rebuild the wheel');
    throw fail(`not a usable wheel archive: ${e.message}`);
  }
  const names = [...entries.keys()];
  const distInfos = new Set(names.map((n) => n.split('/')[0]!).filter((top) => top.endsWith('.dist-info')));
  if (distInfos.size !== 1) throw fail(`expected one .dist-info folder, found ${distInfos.size}`);
  const distInfo = [...distInfos][0]!;
  const utf8 = (path: string) => {
    const b = entries.get(path);
    if (!b) throw fail(`missing ${path}`);
    return new TextDecoder().decode(b);
  };
  if (!/^Root-Is-Purelib: true$/m.test(utf8(`${distInfo}/WHEEL`).replace(/\r/g, '')))
    throw fail('not a pure-Python wheel (Root-Is-Purelib is not true)');
  const recorded = new Map<string, { digest: string; size: string }>();
  for (const row of recordRows(utf8(`${distInfo}/RECORD`))) {
    if (row.length !== 3) throw fail(`malformed RECORD line: ${JSON.stringify(row.join(',')).slice(0, 120)}`);
    recorded.set(row[0]!, { digest: row[1]!, size: row[2]! });
  }

  const hashed: Promise<void>[] = [];
  for (const n of names) {
    if (COMPILED.test(n)) throw fail(`contains compiled code (${n}); only pure-Python wheels run here`);
    if (n.startsWith(`${distInfo}/`) && UNHASHED.has(n.slice(distInfo.length + 1))) continue;
    const r = recorded.get(n);
    if (!r) throw fail(`${n} is not listed in RECORD`);
    if (!r.digest.startsWith('sha256=')) throw fail(`${n} has no sha256 hash in RECORD`);
    const body = entries.get(n)!;
    if (r.size && Number(r.size) !== body.length)
      throw fail(
        `${n} does not match its RECORD size (${body.length} bytes, RECORD says ${r.size}); the wheel was altered`,
      );
    hashed.push(
      crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>).then((d) => {
        if (base64urlnopad.encode(new Uint8Array(d)) !== r.digest.slice('sha256='.length))
          throw fail(`${n} does not match its RECORD hash; the wheel was altered`);
      }),
    );
  }
  for (const path of recorded.keys()) {
    const base = path.split('/').pop()!;
    if (!entries.has(path) && !UNHASHED.has(base)) throw fail(`RECORD lists ${path}, which is not in the archive`);
  }
  await Promise.all(hashed);

  // Where each file goes: `<name>.data/purelib|platlib/…` joins the rest in site-packages; scripts,
  // headers and data files have no place in the sandbox.
  const dataDir = `${distInfo.slice(0, -'.dist-info'.length)}.data/`;
  const placed: { path: string; body: Uint8Array }[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    let path = n;
    if (n.startsWith(dataDir)) {
      const [scheme, ...rest] = n.slice(dataDir.length).split('/');
      if ((scheme !== 'purelib' && scheme !== 'platlib') || !rest.length) continue;
      path = rest.join('/');
    }
    if (!safe(path)) throw fail(`unsafe path in archive: ${JSON.stringify(n.slice(0, 80))}`);
    if (seen.has(path)) throw fail(`two files would be installed as ${path}`);
    seen.add(path);
    placed.push({ path, body: entries.get(n)! });
  }
  const data = new Uint8Array(placed.reduce((s, f) => s + f.body.length, 0));
  const files: UnpackedWheel['files'] = [];
  let offset = 0;
  for (const f of placed) {
    data.set(f.body, offset);
    files.push({ path: f.path, offset, length: f.body.length });
    offset += f.body.length;
  }

  let name = distInfo.slice(0, -'.dist-info'.length);
  let version = '';
  const dash = name.lastIndexOf('-');
  if (dash > 0) [name, version] = [name.slice(0, dash), name.slice(dash + 1)];
  const meta = entries.has(`${distInfo}/METADATA`) ? utf8(`${distInfo}/METADATA`) : '';
  for (const line of meta.split(/\r?\n/)) {
    if (!line.trim()) break; // the headers end at the first blank line; the description follows
    if (line.startsWith('Name: ')) name = line.slice(6).trim();
    else if (line.startsWith('Version: ')) version = line.slice(9).trim();
  }
  return { filename, name, version, files, data: data.buffer };
}

/**
 * `unpackWheel` for each wheel of an opened bundle, begun at once and handed back as a promise, for
 * `openBundle`'s `prepareWheels`: the checks run beside the bundle's own hash checks, and a refused
 * wheel is reported when the run takes the wheels (as it would be had they been checked later).
 */
export async function prepareWheels(
  wheels: { filename: string; bytes: Uint8Array }[],
): Promise<{ wheels: Promise<UnpackedWheel[]> }> {
  const unpacked = Promise.all(wheels.map((w) => unpackWheel(w.filename, w.bytes)));
  unpacked.catch(() => {}); // reported by whoever awaits it
  return { wheels: unpacked };
}
