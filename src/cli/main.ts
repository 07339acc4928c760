/**
 * The `airlock` command line: the same library code as the app (src/lib), for the expert's side
 * (keys, wheels, sealing) and the owner's checks. Each command is its own module in commands/.
 */
import { AIRLOCK_VERSION } from '../lib/version.ts';
import { buildWheelCommand } from './commands/build-wheel.ts';
import { inspect } from './commands/inspect.ts';
import { keygen } from './commands/keygen.ts';
import { mock } from './commands/mock.ts';
import { seal } from './commands/seal.ts';
import { run } from './commands/run.ts';
import { verifyReceiptCommand } from './commands/verify-receipt.ts';
import { CliError, EXIT, err, out, type Command } from './io.ts';

const COMMANDS: Command[] = [keygen, seal, inspect, buildWheelCommand, mock, run, verifyReceiptCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: airlock <command> [options]   (airlock <command> --help for details)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'exit codes: 0 ok, 1 the command failed or refused (message on stderr), 2 wrong usage; run adds 3-6 (airlock run --help)',
  ].join('\n');
}

/**
 * An error nothing caught would be printed by Node itself, past out/err and their escaping, with a
 * message that may quote a notebook or a bundle: print it like any other.
 */
function lastResort(e: unknown): void {
  err(`airlock: unexpected error: ${(e as Error)?.stack ?? e}`);
  process.exit(EXIT.failed);
}

export async function main(argv: string[]): Promise<number> {
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    out(`airlock ${AIRLOCK_VERSION}`);
    return EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    err(`airlock: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      err(`airlock ${cmd.name}: ${e.message}`);
      return e.exitCode;
    }
    err(`airlock ${cmd.name}: unexpected error: ${(e as Error)?.stack ?? e}`);
    return EXIT.failed;
  }
}
