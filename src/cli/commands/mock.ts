import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMock, parseInvitation } from '../../lib/data/index.ts';
import { CliError, EXIT, out, parse, type Command } from '../io.ts';
import { readText } from '../keys.ts';

const usage = `usage: airlock mock <invitation.json> -o <dir> [--rows N] [--seed S]

Writes mock data with the invitation's schema: <dir>/<table>.csv for each table and
<dir>/schema.json (column types). The local airlock module (python/airlock_local) reads them with the
same API as the sandbox: AIRLOCK_DATA_DIR=<dir> python -m jupyter … or python your_script.py.
--rows defaults to the real row count, at most 1000; the same --seed gives the same data.`;

export const mock: Command = {
  name: 'mock',
  summary: 'generate mock tables from a room invitation, for local development',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { output: { type: 'string', short: 'o' }, rows: { type: 'string' }, seed: { type: 'string' } },
      usage,
      true,
    );
    if (values.help) return (out(usage), EXIT.ok);
    if (positionals.length !== 1 || !values.output)
      throw new CliError(`give one invitation file and -o DIR\n\n${usage}`, EXIT.usage);
    let inv;
    try {
      inv = parseInvitation(readText(positionals[0]!, 'invitation'));
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${positionals[0]}: ${(e as Error).message}`);
    }
    const rows = values.rows === undefined ? undefined : Number(values.rows);
    if (rows !== undefined && (!Number.isInteger(rows) || rows < 0))
      throw new CliError('--rows must be a whole number', EXIT.usage);
    const tables = generateMock(inv, { rows, seed: values.seed === undefined ? 1 : Number(values.seed) });
    mkdirSync(values.output, { recursive: true });
    for (const t of tables) writeFileSync(join(values.output, `${t.name}.csv`), t.csv);
    writeFileSync(
      join(values.output, 'schema.json'),
      JSON.stringify(Object.fromEntries(tables.map((t) => [t.name, t.types])), null, 2) + '\n',
    );
    out(tables.map((t) => `${join(values.output!, `${t.name}.csv`)}  ${t.csv.split('\n').length - 2} rows`).join('\n'));
    return EXIT.ok;
  },
};
