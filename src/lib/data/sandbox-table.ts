import type { SandboxTable } from '../sandbox/index.ts';
import { wideCodes } from './columns/arrays.ts';
import type { BuiltColumn } from './columns/builder.ts';

/** A loaded table in the sandbox's wire format (`name` is what Python's airlock.table() takes; text as Int32 codes). */
export function toSandboxTable(t: { name: string; rowCount: number; columns: BuiltColumn[] }, name = t.name): SandboxTable {
  return {
    name,
    rowCount: t.rowCount,
    columns: t.columns.map((c) => ({ name: c.name, type: c.type, values: c.type === 'string' ? wideCodes(c) : c.values, ...(c.dictionary ? { dictionary: c.dictionary } : {}), ...(c.valid ? { valid: c.valid } : {}) })),
  };
}
