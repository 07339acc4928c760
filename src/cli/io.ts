/** What every command shares: argument parsing, output, exit codes, errors that end a command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { visibleText } from '../lib/text/index.ts';

/** Exit codes (docs/CLI.md). */
export const EXIT = {
  ok: 0,
  /** The command ran and refused or failed: bad bundle, bad key, missing file. */
  failed: 1,
  /** The command line itself is wrong. */
  usage: 2,
} as const;

/** Ends a command with a one-line message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
  positionals = false,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals,
      strict: true,
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message.split('\n')[0]}\n\n${usage}`, EXIT.usage);
  }
}

/**
 * The only way the command line prints (ESLint refuses process.stdout, process.stderr and console in
 * src/cli elsewhere). Everything passes through visibleText: a notebook's output, a bundle's names,
 * a file name, an error message can hold no escape sequence (clipboard, window title, hidden text,
 * cursor moves), no bidi control and no invisible character by the time it reaches a terminal — each
 * is shown as `\u001b`, `\u202e`… instead. The escapes are JSON's, so `--json` output stays valid
 * JSON that parses to the original text. Newlines and tabs pass; a lone carriage return does not.
 */
function print(stream: NodeJS.WriteStream, s: string): void {
  const text = visibleText(s);
  stream.write(text.endsWith('\n') ? text : text + '\n');
}
export const out = (s: string) => print(process.stdout, s);
export const err = (s: string) => print(process.stderr, s);

/** What marks a line as the notebook's: the command's own lines never start with it. */
export const NOTEBOOK_MARK = '│ ';

/**
 * A notebook's output as lines that cannot pass for the command's own (a printed "gate: passed"
 * shows as `│ gate: passed`): made visible first, so a carriage return or a cursor move cannot
 * draw over the mark, then every line marked.
 */
export function notebookLines(text: string): string {
  return visibleText(text)
    .split('\n')
    .map((l) => NOTEBOOK_MARK + l)
    .join('\n');
}

/**
 * Writes a stream to `path` with at most one chunk waiting to be written (so memory stays flat:
 * `Writable.toWeb` buffers everything a fast producer gives it), into a temporary file beside it that
 * replaces `path` only once complete: a failure never leaves half a file under the real name.
 */
export async function writeStreamToFile(stream: ReadableStream<Uint8Array>, path: string, mode = 0o644): Promise<void> {
  const { open, rename, rm } = await import('node:fs/promises');
  const tmp = `${path}.partial-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    // One write in flight while the next chunk is produced: the write runs on libuv's thread pool.
    const writeAll = async (chunk: Uint8Array) => {
      for (let o = 0; o < chunk.length;) o += (await fh.write(chunk, o)).bytesWritten;
    };
    let pending: Promise<void> = Promise.resolve();
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      await pending;
      pending = writeAll(chunk);
    }
    await pending;
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A file's bytes in 4 MiB pieces, the next read already under way while the caller works on the
 * current one (the read runs on libuv's thread pool, so I/O overlaps decryption). Node's
 * `openAsBlob().stream()` hands out 64 KiB pieces one at a time, which costs a quarter of a
 * 100 MB bundle's opening time.
 */
export async function* readFileChunks(path: string, chunkSize = 4 * 1024 * 1024): AsyncGenerator<Uint8Array> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  const read = () => fh.read(new Uint8Array(chunkSize), 0, chunkSize, null);
  let next = read();
  try {
    for (;;) {
      const { bytesRead, buffer } = await next;
      if (!bytesRead) break;
      next = read();
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await next.catch(() => {}); // a read still under way when the caller stops early
    await fh.close();
  }
}

/** Asks on the terminal with echo off (a passphrase): what is typed up to Enter; Ctrl-C cancels. */
export function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(visibleText(prompt));
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (f: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      f();
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(() => resolve(typed));
        if (ch === '\u0003') return done(() => reject(new CliError('cancelled')));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
