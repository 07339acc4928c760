/**
 * What a bundle declares for the disclosure checks (docs/DISCLOSURE.md) — the inference entry point,
 * the label, the outputs that are tables of results — read from what a person typed. `airlock seal
 * --inference --label --aggregate` and the Expert tab's seal form both call {@link readDeclarations},
 * so the two accept and refuse the same things, and pass sealBundle the same fields.
 */
import { BundleError } from './errors.ts';
import { IDENTIFIER } from './manifest.ts';
import type { SealInput } from './seal.ts';

export type DeclarationField = 'inference' | 'label' | 'aggregates';

const WORDS: Record<DeclarationField, string> = {
  inference: 'inference entry point',
  label: 'label',
  aggregates: 'table of results',
};

/**
 * A declaration that cannot be read. `field` says which (a form marks that field, the CLI names its
 * flag), `value` what was typed, `fix` what to write instead.
 */
export class DeclarationError extends BundleError {
  override name = 'DeclarationError';
  constructor(
    readonly field: DeclarationField,
    readonly value: string,
    readonly fix: string,
  ) {
    super('bad-input', `${WORDS[field]} "${value.slice(0, 80)}": ${fix}`);
  }
}

export interface DeclarationsInput {
  /** `module.path:function`, called as `function(table, model_dir)`. */
  inference?: string;
  /** `column` or `column=positive value` as the command line takes it, or the two apart as a form has them. */
  label?: string | { column: string; positive?: string };
  /** Outputs that are tables of counts or aggregates. */
  aggregates?: string[];
  /** The declared outputs: when there are any, every table of results must be one of them. */
  outputs?: string[];
}

/**
 * `module.path:function` → its parts; the module a dotted path of Python identifiers.
 * @throws {DeclarationError} field `inference`
 */
export function parseInference(v: string): { module: string; function: string } {
  const s = v.trim();
  const i = s.lastIndexOf(':');
  if (i < 1 || i === s.length - 1)
    throw new DeclarationError('inference', v, 'write module:function (e.g. readmit.model:predict)');
  const module = s.slice(0, i);
  const fn = s.slice(i + 1);
  if (!module.split('.').every((p) => IDENTIFIER.test(p)) || !IDENTIFIER.test(fn))
    throw new DeclarationError(
      'inference',
      v,
      'write a Python module path and a function name, module:function (e.g. readmit.model:predict)',
    );
  return { module, function: fn };
}

/**
 * `column` or `column=positive value` (split at the first "="), or the column and positive value
 * as two fields.
 * @throws {DeclarationError} field `label`
 */
export function parseLabel(v: string | { column: string; positive?: string }): { column: string; positive?: string } {
  if (typeof v === 'string') {
    const i = v.indexOf('=');
    if (i === 0 || !v.trim() || (i > 0 && !v.slice(i + 1).trim()))
      throw new DeclarationError('label', v, 'write column or column=positive-value');
    return i < 0 ? parseLabel({ column: v }) : parseLabel({ column: v.slice(0, i), positive: v.slice(i + 1) });
  }
  const column = v.column.trim();
  const positive = v.positive?.trim();
  if (!column)
    throw new DeclarationError(
      'label',
      v.positive ?? '',
      'name the label column (and, for a text column, its positive value)',
    );
  return positive ? { column, positive } : { column };
}

/**
 * The declarations, checked together, as sealBundle takes them. A label needs the inference entry
 * point (the membership audit scores rows through it); a table of results must be a declared
 * output when outputs are declared.
 * @throws {DeclarationError} naming the field to fix
 */
export function readDeclarations(input: DeclarationsInput): Pick<SealInput, 'inference' | 'label' | 'aggregates'> {
  const inference = input.inference !== undefined ? parseInference(input.inference) : undefined;
  const label = input.label !== undefined ? parseLabel(input.label) : undefined;
  if (label && !inference)
    throw new DeclarationError(
      'label',
      label.column,
      'declare the inference entry point too: the membership audit scores rows through it',
    );
  const aggregates = (input.aggregates ?? []).map((a) => a.trim()).filter(Boolean);
  const outputs = (input.outputs ?? []).map((o) => o.trim()).filter(Boolean);
  for (const a of aggregates)
    if (outputs.length && !outputs.includes(a))
      throw new DeclarationError('aggregates', a, 'declare it among the outputs too (or declare no outputs)');
  return {
    ...(inference ? { inference } : {}),
    ...(label ? { label } : {}),
    ...(aggregates.length ? { aggregates } : {}),
  };
}
