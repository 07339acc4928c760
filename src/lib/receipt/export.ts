/**
 * Saving a run's outputs and its receipt as files on the owner's disk: which names may be written,
 * decided before anything is. Pure: the command line's writer (src/cli/export.ts) does the writing,
 * and the bundle manifest refuses at seal time the declared outputs that could never be saved.
 *
 * The outputs are chosen by the expert's code, and land in a folder of the owner's choosing —
 * possibly a project folder, where `.vscode/tasks.json`, `.git/hooks/…` or `.npmrc` run code, and
 * where the receipt's own names must stay the receipt's. So a name must be a plain, portable,
 * visible relative path: no dot-files or dot-folders at any depth, nothing the receipt uses, nothing
 * Windows reserves, nothing over the file systems' limits, and no two names that one file system
 * could take for the same file.
 */
import { hiddenCharacter, visibleText } from '../text/index.ts';

/** The files a receipt is saved as, beside the outputs (docs/RECEIPT.md). */
export const RECEIPT_FILES = ['receipt.json', 'receipt.json.sig'] as const;

export const EXPORT_LIMITS = {
  /** NAME_MAX of ext4, XFS, btrfs, APFS (UTF-8 bytes); NTFS allows 255 UTF-16 units, never fewer. */
  segmentBytes: 255,
} as const;

export type ExportErrorCode =
  /** Empty, absolute, `.`/`..`, a backslash, or a control, bidi or invisible character. */
  | 'bad-name'
  /** A segment that starts with a dot: hidden, and where tools look for configuration. */
  | 'dot-path'
  /** `receipt.json` or `receipt.json.sig` in any letter case, as a file or a folder. */
  | 'receipt-name'
  /** A name Windows reserves or changes: devices (CON, NUL, COM1…), `<>:"|?*`, a trailing dot or space, a leading `-`. */
  | 'reserved-name'
  /** Over the file system's limit for one name or for a whole path. */
  | 'too-long'
  /** Two outputs one file system may take for the same file (letter case, Unicode normalisation), or a file where another output needs a folder. */
  | 'name-clash'
  /** The folder already holds files (the writer; `--force` to add beside them). */
  | 'not-empty'
  /** An output would replace something already on disk (the writer; never done, even with `--force`). */
  | 'exists'
  /** The disk refused a write (the writer): nothing was left behind. */
  | 'write-failed'
  /** The gate did not pass, and no reason to export anyway was given (lib/runs exportRun). */
  | 'blocked'
  /** The notebook did not finish: there is nothing to export (lib/runs exportRun). */
  | 'not-run';

/** Why outputs cannot be saved. `paths` names every output (or existing file) concerned. */
export class ExportError extends Error {
  override name = 'ExportError';
  constructor(
    readonly code: ExportErrorCode,
    message: string,
    readonly paths: string[] = [],
  ) {
    super(message);
  }
}

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\.|$)/i;
const WINDOWS_CHARS = /[<>:"|?*]/;

/**
 * What is wrong with one output name, or `undefined` if it may be saved. Checks the name alone;
 * {@link planExport} checks a set of names against each other and the whole path's length.
 */
export function outputNameProblem(path: string): { code: ExportErrorCode; why: string } | undefined {
  if (!path) return { code: 'bad-name', why: 'is empty' };
  const hidden = hiddenCharacter(path);
  if (hidden) return { code: 'bad-name', why: `holds the invisible or control character ${hidden}` };
  if (path.includes('\\')) return { code: 'bad-name', why: 'holds a backslash: separate folders with "/"' };
  if (path.startsWith('/')) return { code: 'bad-name', why: 'is absolute: give a path inside the output folder' };
  const segments = path.split('/');
  for (const s of segments) {
    if (!s) return { code: 'bad-name', why: 'has an empty part ("//" or a trailing "/")' };
    if (s.startsWith('.'))
      return {
        code: 'dot-path',
        why: `has a part that starts with "." (${visibleText(s)}): dot-files and dot-folders are never written`,
      };
    if (new TextEncoder().encode(s).length > EXPORT_LIMITS.segmentBytes)
      return {
        code: 'too-long',
        why: `has a part over ${EXPORT_LIMITS.segmentBytes} bytes, longer than file systems allow`,
      };
    if (WINDOWS_DEVICE.test(s)) return { code: 'reserved-name', why: `uses ${s}, a device name on Windows` };
    if (WINDOWS_CHARS.test(s)) return { code: 'reserved-name', why: `holds one of <>:"|?*, which Windows refuses` };
    if (/[. ]$/.test(s))
      return { code: 'reserved-name', why: 'has a part that ends in "." or " ", which Windows drops' };
    if (s.startsWith('-'))
      return { code: 'reserved-name', why: 'has a part that starts with "-", which tools read as an option' };
  }
  if ((RECEIPT_FILES as readonly string[]).includes(clashKey(segments[0]!)))
    return { code: 'receipt-name', why: `is the receipt's own name (${RECEIPT_FILES.join(', ')})` };
  return undefined;
}

/**
 * The key under which a case-insensitive or normalising file system (Windows, macOS by default)
 * files a name: two outputs with the same key would be one file there.
 */
function clashKey(path: string): string {
  return path.normalize('NFC').toLowerCase();
}

export interface ExportPlan {
  /** The outputs, in the order given. */
  files: string[];
  /** Every folder the outputs need, each after its parent. */
  dirs: string[];
  /** The receipt's files, written last. */
  receipt: readonly string[];
}

/**
 * Decides whether a set of outputs can be saved together, and what to create.
 * @param maxPathBytes the longest relative path (UTF-8 bytes) the target folder leaves room for.
 * @throws {ExportError} naming the first problem and how many outputs have one; `paths` lists them all.
 */
export function planExport(paths: string[], options: { maxPathBytes?: number } = {}): ExportPlan {
  const problems: Array<{ path: string; code: ExportErrorCode; why: string }> = [];
  const max = options.maxPathBytes ?? Infinity;
  const files = new Map<string, string>();
  const dirs = new Map<string, string>();
  for (const path of paths) {
    const p = outputNameProblem(path);
    if (p) {
      problems.push({ path, ...p });
      continue;
    }
    if (new TextEncoder().encode(path).length > max) {
      problems.push({ path, code: 'too-long', why: `is longer than the output folder leaves room for (${max} bytes)` });
      continue;
    }
    const key = clashKey(path);
    const other = files.get(key);
    if (other !== undefined) {
      problems.push({ path, code: 'name-clash', why: `is the same file as ${other} on Windows and macOS` });
      continue;
    }
    files.set(key, path);
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const dir = segments.slice(0, i).join('/');
      if (!dirs.has(clashKey(dir))) dirs.set(clashKey(dir), dir);
    }
  }
  for (const [key, path] of files)
    if (dirs.has(key))
      problems.push({ path, code: 'name-clash', why: 'is a file, and another output needs a folder of that name' });
  if (problems.length) {
    const first = problems[0]!;
    const more =
      problems.length > 1 ? ` (and ${problems.length - 1} more output${problems.length > 2 ? 's' : ''})` : '';
    throw new ExportError(
      first.code,
      `output ${visibleText(first.path)} ${first.why}${more}; nothing was written`,
      problems.map((p) => p.path),
    );
  }
  return {
    files: [...files.values()],
    dirs: [...dirs.values()].sort((a, b) => a.split('/').length - b.split('/').length),
    receipt: RECEIPT_FILES,
  };
}
