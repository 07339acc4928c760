/** The owner's workflow for a picked file: read it into columns (on the lanes), then store it. */
import { fingerprintColumns } from './columns/fingerprint.ts';
import { IngestError } from './errors.ts';
import type { IngestOptions, IngestReport } from './ingest/types.ts';
import { ingestFile } from './parallel/ingest-file.ts';
import { openForSave, type SaveInput, type TableMeta } from './store.ts';

/**
 * Loads a file the owner picked and stores it (the Tables tab, and `window.airlock.data`): ingest,
 * then the column chunks are written while the fingerprint's digests run.
 * @throws {IngestError} as ingest and the store do: the file's problem, `quota`, `bad-options`, `cancelled`.
 */
export async function loadFile(file: File, options: IngestOptions & { replace?: boolean } = {}): Promise<{ meta: TableMeta; report: IngestReport }> {
  const { replace, ...rest } = options;
  // The database opens while the file is read, not after.
  const store = openForSave();
  try {
    // On the app's ingest lanes (workers) when installed: the page stays responsive, and a large
    // CSV is read in parts at once (parallel/).
    const t = await ingestFile(file, file.name, { ...rest, fingerprint: false });
    if (rest.signal?.aborted) throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
    const input: SaveInput = { ...t, fingerprint: () => fingerprintColumns(t.rowCount, t.columns), warnings: t.report.warnings, source: { file: file.name, bytes: t.report.bytes, format: t.report.format } };
    const meta = await store.save(input, { replace, signal: rest.signal });
    return { meta, report: t.report };
  } finally {
    store.close();
  }
}
