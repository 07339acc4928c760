/** What every command shares: argument parsing, output, exit codes, errors that end a command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

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

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string, positionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new CliError(`${(e as Error).message.split('\n')[0]}\n\n${usage}`, EXIT.usage);
  }
}

export const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
export const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : s + '\n');
