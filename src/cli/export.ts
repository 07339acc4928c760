/**
 * Saving approved outputs and their receipt to the owner's disk, all or nothing. Which names may be
 * written is decided first, for the whole set (planExport, src/lib/receipt/export.ts); the files are
 * then written into a temporary folder on the same disk — which also tries every name against the
 * real file system's limits — and moved into place only once all of them are complete. A failure
 * leaves no output and no half an export behind, and nothing of the owner's is ever replaced.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExportError, planExport } from '../lib/receipt/index.ts';
import { visibleText } from '../lib/text/index.ts';

/**
 * The longest absolute path, in bytes, that the platform's programs handle: PATH_MAX less its NUL
 * (Linux 4096, macOS 1024), and Windows' MAX_PATH, which Explorer and most programs still keep to.
 */
const PATH_MAX = process.platform === 'win32' ? 259 : process.platform === 'darwin' ? 1023 : 4095;

const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');
const codeOf = (e: unknown) => (e as NodeJS.ErrnoException)?.code;

/**
 * Checks the output folder before anything runs: it may be missing (it is created) or empty; one
 * that holds files is refused unless `force`, which adds beside them and still replaces nothing.
 * @throws {ExportError} `not-empty`, or `exists` when the path is a file.
 */
export async function checkTarget(target: string, force: boolean): Promise<void> {
  let st;
  try {
    st = await stat(target);
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return;
    throw new ExportError('write-failed', `${visibleText(target)} cannot be read (${codeOf(e)})`);
  }
  if (!st.isDirectory()) throw new ExportError('exists', `${visibleText(target)} is a file, not a folder`, [target]);
  const entries = await readdir(target);
  if (entries.length && !force) {
    const shown = entries.slice(0, 3).map(visibleText).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new ExportError(
      'not-empty',
      `${visibleText(target)} is not empty (it holds ${shown}): give a new or empty folder, or --force to save beside what is there (nothing is ever replaced)`,
      entries.slice(0, 100),
    );
  }
}

/** What in the folder an export would replace: files where outputs go, non-folders (links too) where folders go. */
async function clashes(target: string, dirs: string[], files: string[]): Promise<string[]> {
  const found: string[] = [];
  const kind = (p: string) =>
    lstat(join(target, p)).then(
      (s) => (s.isDirectory() ? 'dir' : 'other'),
      () => undefined,
    );
  for (const d of dirs) if ((await kind(d)) === 'other') found.push(d);
  for (const f of files) if (await kind(f)) found.push(f);
  return found;
}

function failure(e: unknown, target: string): ExportError {
  if (e instanceof ExportError) return e;
  const code = codeOf(e);
  if (code === 'ENAMETOOLONG')
    return new ExportError('too-long', 'an output name is longer than this disk allows; nothing was written');
  if (code === 'EEXIST' || code === 'ENOTEMPTY')
    return new ExportError(
      'exists',
      `something appeared in ${visibleText(target)} while saving; nothing was replaced or left behind`,
    );
  if (code === 'EILSEQ' || code === 'EINVAL')
    return new ExportError('bad-name', 'this disk refuses an output name; nothing was written');
  if (code === 'ENOSPC') return new ExportError('write-failed', 'the disk is full; nothing was written');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new ExportError('write-failed', `no permission to write to ${visibleText(target)}; nothing was written`);
  return new ExportError('write-failed', `saving failed (${code ?? (e as Error)?.message}); nothing was written`);
}

/** A hard link is a move that never replaces; disks without links (FAT) get an exclusive copy. */
async function place(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(codeOf(e) ?? '')) throw e;
    await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}

/**
 * Writes `outputs` and the receipt (`receipt.json`, `receipt.json.sig`) to `target`.
 * @returns the relative paths written, the receipt's last.
 * @throws {ExportError} with nothing written: a name refused by planExport or by the disk, a folder
 *   that is not empty (without `force`), or a file already where an output would go.
 */
export async function saveExport(
  target: string,
  outputs: Array<{ path: string; bytes: Uint8Array }>,
  receipt: { json: Uint8Array; sig: string },
  options: { force?: boolean } = {},
): Promise<string[]> {
  target = resolve(target);
  await checkTarget(target, !!options.force);
  const existed = await stat(target).then(
    () => true,
    () => false,
  );
  // The temporary folder: beside a new target (one rename puts it in place), inside an existing one
  // (so every file is moved within one disk). A dot-name, removed before this returns.
  const tmp = join(existed ? target : dirname(target), `.airlock-export-${randomBytes(6).toString('hex')}`);
  const plan = planExport(
    outputs.map((o) => o.path),
    { maxPathBytes: PATH_MAX - Math.max(bytesOf(tmp), bytesOf(target)) - 1 },
  );
  const files = [...plan.files, ...plan.receipt];
  if (existed) {
    const found = await clashes(target, plan.dirs, files);
    if (found.length)
      throw new ExportError(
        'exists',
        `${visibleText(target)} already holds ${found.map(visibleText).join(', ')}; refusing to replace the owner's files (choose another folder)`,
        found,
      );
  }
  const bytes = new Map<string, Uint8Array>(outputs.map((o) => [o.path, o.bytes]));
  bytes.set('receipt.json', receipt.json);
  bytes.set('receipt.json.sig', new TextEncoder().encode(receipt.sig));
  try {
    await mkdir(dirname(tmp), { recursive: true });
    await mkdir(tmp);
  } catch (e) {
    throw failure(e, target);
  }
  const placed: string[] = [];
  try {
    for (const d of plan.dirs) await mkdir(join(tmp, d));
    for (const f of files) await writeFile(join(tmp, f), bytes.get(f)!, { flag: 'wx' });
    if (!existed) {
      try {
        await rename(tmp, target);
        return files;
      } catch (e) {
        // The folder appeared meanwhile: add to it as to any existing folder, replacing nothing.
        if (!['EEXIST', 'ENOTEMPTY', 'EPERM', 'EISDIR', 'ENOTDIR'].includes(codeOf(e) ?? '')) throw e;
      }
    }
    for (const d of plan.dirs) {
      try {
        await mkdir(join(target, d));
        placed.push(d);
      } catch (e) {
        if (codeOf(e) !== 'EEXIST' || !(await lstat(join(target, d))).isDirectory()) throw e;
      }
    }
    for (const f of files) {
      await place(join(tmp, f), join(target, f));
      placed.push(f);
    }
    return files;
  } catch (e) {
    for (const p of placed.reverse()) await (plan.dirs.includes(p) ? rmdir : unlink)(join(target, p)).catch(() => {});
    throw failure(e, target);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface OutputCheck {
  /** Listed, present, with the listed size and SHA-256. */
  ok: string[];
  /** Listed, not there. */
  missing: string[];
  /** Listed, but not the file the receipt names: another size or hash, a folder, a link, or a path that leaves the folder. */
  changed: Array<{ path: string; why: string }>;
  /** In the folder, not in the receipt (the receipt's own files aside). */
  extra: string[];
}

/** A receipt's path that stays inside the folder it is checked in. */
const insideFolder = (p: string) =>
  !!p && !p.startsWith('/') && !/[\\\0]/.test(p) && p.split('/').every((s) => s && s !== '.' && s !== '..');

/**
 * Compares a folder with the outputs a receipt lists: each must be a plain file (never followed
 * through a link) of the listed size and SHA-256, and every other file in the folder is reported.
 */
export async function checkOutputs(
  dir: string,
  listed: Array<{ path: string; sha256: string; size: number }>,
): Promise<OutputCheck> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const result: OutputCheck = { ok: [], missing: [], changed: [], extra: [] };
  const seen = new Set<string>();
  for (const o of listed) {
    if (typeof o?.path !== 'string' || !insideFolder(o.path)) {
      result.changed.push({ path: String(o?.path), why: 'is not a plain relative path; not checked' });
      continue;
    }
    seen.add(o.path);
    const st = await lstat(join(dir, o.path)).catch(() => undefined);
    if (!st) result.missing.push(o.path);
    else if (!st.isFile())
      result.changed.push({ path: o.path, why: st.isSymbolicLink() ? 'is a link, not a file' : 'is not a file' });
    else if (st.size !== o.size)
      result.changed.push({ path: o.path, why: `has ${st.size} bytes, the receipt says ${o.size}` });
    else {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(join(dir, o.path))) hash.update(chunk as Buffer);
      if (hash.digest('hex') !== o.sha256)
        result.changed.push({ path: o.path, why: 'has another SHA-256 than the receipt says' });
      else result.ok.push(o.path);
    }
  }
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && (e.name === 'receipt.json' || e.name === 'receipt.json.sig')) continue;
      if (e.isDirectory()) await walk(p);
      else if (!seen.has(p)) result.extra.push(p);
    }
  };
  await walk('');
  return result;
}
