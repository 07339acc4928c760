// DuckDB-wasm in a blank bench page (bundled by tests/bench/data.ts with rolldown). Plain JS: the
// package is installed only when the benchmark runs, so the type checker never needs it.
import * as duckdb from '@duckdb/duckdb-wasm';

let db;

globalThis.duckInit = async (base) => {
  const worker = new Worker(`${base}duckdb-browser-eh.worker.js`);
  db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(`${base}duckdb-eh.wasm`);
  return (await db.getVersion());
};

/** CSV bytes → a DuckDB table (its columnar storage), as Airlock's ingest makes columns. */
globalThis.duckLoad = async (name, bytes) => {
  await db.registerFileBuffer(name, bytes);
  const conn = await db.connect();
  try {
    const t = performance.now();
    // sample_size=-1: types from the whole file. With the default sample DuckDB refuses the real
    // data (a drug column reads as boolean from its first rows, then holds "Steady").
    await conn.query(`CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv_auto('${name}', sample_size = -1)`);
    const ms = performance.now() - t;
    const rows = Number((await conn.query('SELECT count(*) AS n FROM t')).toArray()[0].n);
    return { ms, rows };
  } finally {
    await conn.close();
    await db.dropFile(name);
  }
};
