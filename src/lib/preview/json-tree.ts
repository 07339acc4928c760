/**
 * A JSON document as a tree the page can fold open, built with caps: a model file of megabytes
 * shows its shape (keys, lengths, the first values) without a node per number. Pure data; the page
 * renders it as text, never as HTML.
 */

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export interface JsonNode {
  /** The key in its parent (an index for arrays); absent for the root. */
  key?: string;
  kind: JsonKind;
  /** A leaf's value as text (strings cut at `maxString`, in quotes); a container's summary ("12 keys"). */
  text: string;
  /** How many children the container has in the document. */
  size?: number;
  /** The children kept (the first `maxChildren`, while the whole tree has fewer than `maxNodes`). */
  children?: JsonNode[];
  /** Children of this container not kept. */
  hidden?: number;
}

export interface JsonTreeLimits {
  maxNodes: number;
  maxChildren: number;
  maxDepth: number;
  maxString: number;
}

export const JSON_TREE_LIMITS: JsonTreeLimits = { maxNodes: 2000, maxChildren: 100, maxDepth: 12, maxString: 160 };

function kindOf(v: unknown): JsonKind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'object' ? 'object' : t === 'string' ? 'string' : t === 'number' ? 'number' : 'boolean';
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** The tree of a parsed JSON value, within `limits`. */
export function jsonTree(value: unknown, limits: Partial<JsonTreeLimits> = {}): JsonNode {
  const lim = { ...JSON_TREE_LIMITS, ...limits };
  let budget = lim.maxNodes;
  const build = (v: unknown, key: string | undefined, depth: number): JsonNode => {
    budget--;
    const kind = kindOf(v);
    const base = key === undefined ? {} : { key };
    if (kind === 'object' || kind === 'array') {
      const entries: Array<[string, unknown]> =
        kind === 'array' ? (v as unknown[]).map((x, i) => [String(i), x]) : Object.entries(v as object);
      const size = entries.length;
      const text = kind === 'array' ? `${size} item${size === 1 ? '' : 's'}` : `${size} key${size === 1 ? '' : 's'}`;
      const children: JsonNode[] = [];
      if (depth < lim.maxDepth) {
        for (const [k, x] of entries) {
          if (children.length >= lim.maxChildren || budget <= 0) break;
          children.push(build(x, k, depth + 1));
        }
      }
      return { ...base, kind, text, size, children, hidden: size - children.length };
    }
    const text = kind === 'string' ? JSON.stringify(cut(v as string, lim.maxString)) : String(v);
    return { ...base, kind, text };
  };
  return build(value, undefined, 0);
}
