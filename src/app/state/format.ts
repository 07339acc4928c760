import { DEFAULT_POLICY, POLICY_FIELDS, type PolicyField } from '../../lib/runs/index.ts';

/** Numbers as a person reads them. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function seconds(ms: number): string {
  return ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function percent(x: number): string {
  return x === 0 ? '0%' : x < 0.001 ? '<0.1%' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

export function when(iso: string | number): string {
  const d = new Date(iso);
  return `${d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })} ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
}

export function metric(x: number): string {
  return Number.isInteger(x)
    ? x.toLocaleString()
    : Math.abs(x) >= 1000
      ? x.toFixed(0)
      : x.toPrecision(4).replace(/\.?0+$/, '');
}

/** An error as the one line a person reads. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A policy setting as a person reads it ("300 s time limit", "50.0 MiB output cap"), from its
 * POLICY_FIELDS entry; a key no field describes (a newer Airlock's) is shown as it came.
 */
export function policySetting(key: string, value: unknown): string {
  const f = POLICY_FIELDS.find((x) => x.key === key);
  if (!f || typeof value !== 'number') return `${key}: ${String(value)}`;
  return `${policyValue(f, value)} ${f.label.toLowerCase()}`;
}

/** A setting's number in its unit, as a person reads it ("300 s", "50.0 MiB", "5%", "10"). */
export function policyValue(f: PolicyField, value: number): string {
  return f.unit === 'seconds'
    ? `${value.toLocaleString()} s`
    : f.unit === 'bytes'
      ? bytes(value)
      : f.unit === 'share'
        ? percent(value)
        : value.toLocaleString();
}

export interface PolicyRow {
  key: string;
  label: string;
  /** The value in words, or "not stated". */
  value: string;
  /** Why the setting matters, or why it is missing. */
  help: string;
  stated: boolean;
}

/**
 * A policy as the expert reads it in an invitation: every setting this Airlock knows, in
 * POLICY_FIELDS order, with what it means; a setting the invitation does not state (one made before
 * the disclosure checks) says so and names the default; a newer Airlock's setting is shown as it came.
 */
export function policyRows(policy: object): PolicyRow[] {
  const p = policy as Record<string, unknown>;
  const rows: PolicyRow[] = POLICY_FIELDS.map((f) => {
    const x = p[f.key];
    return typeof x === 'number'
      ? { key: f.key, label: f.label, value: policyValue(f, x), help: f.help, stated: true }
      : {
          key: f.key,
          label: f.label,
          value: 'not stated',
          help: `This invitation is older than this setting; Airlock’s default is ${policyValue(f, DEFAULT_POLICY[f.key])}. Ask the owner for a new invitation to know the room’s.`,
          stated: false,
        };
  });
  for (const [k, x] of Object.entries(p)) {
    if (POLICY_FIELDS.some((f) => f.key === k) || x === undefined) continue;
    rows.push({
      key: k,
      label: k,
      value: String(x),
      help: 'A setting this version of Airlock does not know (the owner’s is newer).',
      stated: true,
    });
  }
  return rows;
}

/** A whole policy, its settings in one line. */
export function policyText(policy: object): string {
  return Object.entries(policy)
    .map(([k, x]) => policySetting(k, x))
    .join(', ');
}
