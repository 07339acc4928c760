/**
 * Airlock's version, from package.json, the one place it is written: the app, `window.airlock`,
 * receipts and `airlock --version` all read it here (JSON modules work in Vite and in Node alike).
 */
import pkg from '../../package.json' with { type: 'json' };

export const AIRLOCK_VERSION: string = pkg.version;
