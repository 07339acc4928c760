/**
 * Where the person is, kept in the URL's hash: the tab, the selected item (a table, a bundle) and the
 * room — `#/bundles/<key>?room=<id>`. Every place is a link, Back and Forward work, a reload keeps
 * it, and a hash works from any sub-path of any static host.
 */
export const TABS = ['demo', 'room', 'tables', 'bundles', 'log', 'expert'] as const;
export type Tab = (typeof TABS)[number];

export interface Route {
  tab: Tab;
  item: string | null;
  room: string | null;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [tab, ...rest] = path.split('/');
  const params = new URLSearchParams(query);
  let item: string | null;
  try {
    item = rest.length ? decodeURIComponent(rest.join('/')) : null;
  } catch {
    // A malformed escape in a hand-typed link: no item rather than an error.
    item = null;
  }
  return {
    tab: (TABS as readonly string[]).includes(tab ?? '') ? (tab as Tab) : 'demo',
    item: item || null,
    room: params.get('room'),
  };
}

export function formatRoute(r: Route): string {
  const q = r.room ? `?room=${encodeURIComponent(r.room)}` : '';
  return `#/${r.tab}${r.item ? '/' + encodeURIComponent(r.item) : ''}${q}`;
}

export class Navigation {
  #route = $state.raw<Route>(parseRoute(location.hash));

  constructor() {
    addEventListener('hashchange', () => (this.#route = parseRoute(location.hash)));
  }

  get tab(): Tab {
    return this.#route.tab;
  }
  get item(): string | null {
    return this.#route.item;
  }
  get room(): string | null {
    return this.#route.room;
  }

  /** The link to a place (the current room kept unless another is given). */
  href(tab: Tab, item: string | null = null, room: string | null = this.#route.room): string {
    return formatRoute({ tab, item, room });
  }

  /** Goes to a place; a new history entry, so Back returns. */
  go(tab: Tab, item: string | null = null, room: string | null = this.#route.room): void {
    const hash = formatRoute({ tab, item, room });
    if (location.hash !== hash) location.hash = hash;
    this.#route = parseRoute(hash);
  }

  /** Selects an item on this tab (or clears it). */
  select(item: string | null): void {
    this.go(this.tab, item);
  }

  /** Switches room, staying on the tab (an item of the old room does not carry over). */
  setRoom(room: string | null): void {
    this.go(this.tab, null, room);
  }

  /** Records the room the page settled on without a new history entry. */
  settleRoom(room: string | null): void {
    if (room === this.#route.room) return;
    const hash = formatRoute({ ...this.#route, room });
    history.replaceState(history.state, '', hash);
    this.#route = parseRoute(hash);
  }
}
