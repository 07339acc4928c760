/**
 * Layer 3: tripwires in the worker's own realm. They are not the wall — the opaque origin and the
 * CSP are — they make an attempt visible. Each network, storage or worker entry point is replaced,
 * where it actually lives, by a function that records the attempt and throws.
 *
 * In Chromium `fetch`, `importScripts`, `indexedDB` and `caches` live on
 * `WorkerGlobalScope.prototype`, so deleting `self.fetch` does nothing; each property is redefined
 * on the object in the prototype chain that owns it. `Function` stays (Pyodide needs it); without
 * 'unsafe-eval' in the CSP it cannot compile code anyway.
 */

type Report = (name: string, detail: string) => void;

/** Globals that reach the network, storage shared with other documents, or new execution contexts. */
export const TRIPWIRE_GLOBALS = [
  'fetch',
  'importScripts',
  'XMLHttpRequest',
  'WebSocket',
  'WebSocketStream',
  'EventSource',
  'WebTransport',
  'Worker',
  'SharedWorker',
  'BroadcastChannel',
  'indexedDB',
  'caches',
  'FontFace',
  'fonts',
  'RTCPeerConnection',
  'RTCDataChannel',
] as const;

/** Methods on navigator objects: OPFS, Web Locks, beacons. */
const NAVIGATOR_METHODS: Array<[string, string]> = [
  ['StorageManager', 'getDirectory'],
  ['StorageManager', 'persist'],
  ['StorageManager', 'estimate'],
  ['LockManager', 'request'],
  ['LockManager', 'query'],
];

function detailOf(args: unknown[]): string {
  try {
    return args.length ? String(args[0]).slice(0, 200) : '';
  } catch {
    return '';
  }
}

function owner(obj: object, prop: string): object | undefined {
  for (let o: object | null = obj; o; o = Object.getPrototypeOf(o)) {
    if (Object.prototype.hasOwnProperty.call(o, prop)) return o;
  }
  return undefined;
}

/**
 * Replaces every entry point in {@link TRIPWIRE_GLOBALS} and {@link NAVIGATOR_METHODS} with a tripwire.
 * Returns the names that were installed (tests check the list is not empty).
 */
export function installTripwires(scope: object, report: Report): string[] {
  const installed: string[] = [];
  const trip = (name: string) =>
    function tripwire(...args: unknown[]): never {
      report(name, detailOf(args));
      throw new DOMException(`${name} is disabled in the Airlock sandbox`, 'SecurityError');
    };
  for (const name of TRIPWIRE_GLOBALS) {
    const o = owner(scope, name);
    if (!o) continue;
    const desc = Object.getOwnPropertyDescriptor(o, name)!;
    const fn = trip(name);
    // Accessor properties (indexedDB, caches, fonts) trip on read; values trip on call or `new`.
    const replacement: PropertyDescriptor = desc.get
      ? { get: () => fn(), configurable: false, enumerable: desc.enumerable ?? false }
      : { value: fn, writable: false, configurable: false, enumerable: desc.enumerable ?? false };
    try {
      Object.defineProperty(o, name, replacement);
      if (o !== scope && owner(scope, name) !== o) continue;
      installed.push(name);
    } catch {
      // Non-configurable in this browser: the CSP still blocks it; nothing to record here.
    }
  }
  const g = scope as Record<string, unknown>;
  for (const [cls, method] of NAVIGATOR_METHODS) {
    const proto = (g[cls] as { prototype?: object } | undefined)?.prototype;
    if (!proto || !(method in proto)) continue;
    try {
      Object.defineProperty(proto, method, { value: trip(`${cls}.${method}`), writable: false, configurable: false });
      installed.push(`${cls}.${method}`);
    } catch {
      /* as above */
    }
  }
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (nav) {
    for (const prop of ['serviceWorker', 'storage', 'locks']) {
      const o = owner(nav, prop);
      if (!o) continue;
      try {
        Object.defineProperty(o, prop, { get: trip(`navigator.${prop}`), configurable: false });
        installed.push(`navigator.${prop}`);
      } catch {
        /* as above */
      }
    }
  }
  return installed;
}
