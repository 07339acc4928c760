import type { Navigation } from './nav.svelte.ts';
import type { Notices } from './notices.svelte.ts';

/** What every state class of the owner's side shares: where the person is, what to tell them, and a way to re-read everything. */
export interface Context {
  nav: Navigation;
  notices: Notices;
  /** Re-reads rooms, tables, bundles, runs and the log (after any change). */
  refresh(): Promise<void>;
}
