/**
 * Parquet through hyparquet, one row group at a time. Values become the same text a CSV would
 * hold and go through the same inference, so every format yields the same column types.
 */
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { IngestError } from '../../errors.ts';
import type { TableAssembler } from '../assembler.ts';
import type { IngestOptions, Source } from '../types.ts';
import { jsonValue } from './jsonl.ts';

/**
 * Reads a Parquet file's rows into the assembler; returns the file's size in bytes.
 * @throws {IngestError} `unsupported` (no random access, a compression it cannot read), `bad-parquet`, `cancelled`.
 */
export async function readParquet(source: Source, asm: TableAssembler, opts: IngestOptions): Promise<number> {
  if (!source.slice || source.size === undefined) throw new IngestError('unsupported', 'Parquet needs random access to the file; open it as a file, not a stream');
  const size = source.size;
  const file = { byteLength: size, slice: (start: number, end?: number) => source.slice!(start, end).arrayBuffer() };
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new IngestError('bad-parquet', `the Parquet file is damaged or truncated (${String((e as Error).message).slice(0, 80)}); export it again`);
  }
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  asm.setHeader(names);
  let rowStart = 0;
  let done = 0;
  for (const group of metadata.row_groups) {
    if (opts.signal?.aborted) throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
    const rows = Number(group.num_rows);
    let data: unknown[][] = [];
    try {
      await parquetRead({ file, metadata, rowStart, rowEnd: rowStart + rows, onComplete: (r) => (data = r as unknown[][]) });
    } catch (e) {
      const m = String((e as Error).message);
      if (/unsupported compression codec/.test(m)) {
        throw new IngestError('unsupported', `the Parquet file uses a compression Airlock cannot read (${m.split(':').pop()!.trim()}); write it with snappy or no compression`);
      }
      throw new IngestError('bad-parquet', `the Parquet file is damaged or truncated (${m.slice(0, 80)}); export it again`);
    }
    for (let i = 0; i < data.length; i++) {
      asm.add(data[i]!.map(jsonValue), rowStart + i + 1);
      if (opts.signal?.aborted) throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
    }
    rowStart += rows;
    done += group.total_byte_size ? Number(group.total_byte_size) : 0;
    opts.onProgress?.(Math.min(size, done), size);
  }
  return size;
}
