/**
 * Mock data from an invitation: tables with the same names, columns, types and missing rates, and
 * (where the owner opted in to statistics) the same ranges and categories, filled with random
 * values. The expert develops against these; nothing in them comes from a real row.
 */
import type { Invitation, InvitationColumn } from './invitation.ts';
import { seededRandom } from './random.ts';

export interface MockTable {
  name: string;
  /** CSV text, header first. */
  csv: string;
  /** Column name → type, so a reader can type the CSV exactly as the sandbox does. */
  types: Record<string, string>;
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function generator(c: InvitationColumn, rand: () => number): () => string {
  const s = c.stats;
  switch (c.type) {
    case 'int': {
      const lo = s?.range?.low ?? 0;
      const hi = s?.range?.high ?? 100;
      return () => String(Math.round(lo + rand() * (hi - lo)));
    }
    case 'float': {
      const lo = s?.range?.low ?? 0;
      const hi = s?.range?.high ?? 1;
      return () => String(Math.round((lo + rand() * (hi - lo)) * 1e4) / 1e4);
    }
    case 'bool':
      return () => (rand() < 0.5 ? 'true' : 'false');
    case 'datetime': {
      const lo = s?.range?.low ?? Date.UTC(2020, 0, 1);
      const hi = s?.range?.high ?? Date.UTC(2025, 0, 1);
      return () => new Date(lo + Math.floor(rand() * (hi - lo))).toISOString().replace('.000Z', 'Z');
    }
    case 'string': {
      const cats = s?.categories?.length ? s.categories : null;
      if (cats) {
        const total = cats.reduce((a, x) => a + x.count, 0);
        return () => {
          let r = rand() * total;
          for (const x of cats) if ((r -= x.count) < 0) return x.value;
          return cats[cats.length - 1]!.value;
        };
      }
      return () => `${c.name}_${1 + Math.floor(rand() * 20)}`;
    }
  }
}

/** Mock tables for an invitation; deterministic for a seed. */
export function generateMock(inv: Invitation, options: { rows?: number; seed?: number } = {}): MockTable[] {
  const rand = seededRandom(options.seed ?? 1);
  return inv.tables.map((t) => {
    const rows = options.rows ?? Math.min(t.rows, 1000);
    const gens = t.columns.map((c) => generator(c, rand));
    const lines = [t.columns.map((c) => csvField(c.name)).join(',')];
    for (let r = 0; r < rows; r++) lines.push(t.columns.map((c, i) => (rand() < c.missing ? '' : csvField(gens[i]!()))).join(','));
    return { name: t.name, csv: lines.join('\n') + '\n', types: Object.fromEntries(t.columns.map((c) => [c.name, c.type])) };
  });
}
