/**
 * Which bundle version is active. The owner keeps every version; a newer version from the pinned
 * key replaces the active one; an older or equal version is refused unless the owner insists.
 */
import { compareVersions } from './manifest.ts';

export interface KnownVersion {
  name: string;
  version: string;
  signer: string;
}

export type ImportDecision =
  | { accept: true; replaces?: string; note?: string }
  | { accept: false; reason: 'unknown-signer' | 'not-newer'; message: string };

/**
 * Decides whether an opened bundle may become the active version of its name.
 * @param existing every version of any bundle the owner holds
 * @param pinned the expert's pinned fingerprint, if the room has one
 */
export function decideImport(
  existing: KnownVersion[],
  incoming: KnownVersion,
  options: { pinned?: string; force?: boolean } = {},
): ImportDecision {
  if (options.pinned && options.pinned !== incoming.signer) {
    return {
      accept: false,
      reason: 'unknown-signer',
      message: `${incoming.name} ${incoming.version} is signed by ${incoming.signer}, not by the pinned expert ${options.pinned}`,
    };
  }
  const same = existing.filter((e) => e.name === incoming.name);
  if (!same.length) return { accept: true };
  const newest = same.reduce((a, b) => (compareVersions(a.version, b.version) >= 0 ? a : b));
  const cmp = compareVersions(incoming.version, newest.version);
  if (cmp > 0) return { accept: true, replaces: newest.version };
  if (options.force)
    return {
      accept: true,
      replaces: newest.version,
      note: `version ${incoming.version} is not newer than ${newest.version}; imported because you insisted`,
    };
  return {
    accept: false,
    reason: 'not-newer',
    message: `${incoming.name} ${incoming.version} is ${cmp === 0 ? 'the version you already have' : `older than ${newest.version}`}; ask the expert for a newer version, or insist to import it anyway`,
  };
}
