/**
 * Layers 1 and 2: the opaque-origin iframe and its Content-Security-Policy.
 *
 * A static host sets no headers, so the policy travels in a `<meta http-equiv>` tag inside the
 * frame's `srcdoc`. The frame's dedicated worker is created from a blob: URL, so it inherits this
 * policy (CSP Level 3, "initialize a worker's policy container": local-scheme workers inherit their
 * creator's). An srcdoc document also inherits the embedding page's policy, so the app's own CSP
 * (index.html) must allow the same script hash; both policies are enforced.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';

/** `sandbox` tokens: scripts only. No allow-same-origin, forms, popups, top navigation, downloads. */
export const FRAME_SANDBOX = 'allow-scripts';

/**
 * Permissions-Policy for the frame (the `allow` attribute): every powerful feature off. Sandboxing
 * already blocks most; this keeps devices and sensors out even if a flag is ever added.
 */
export const FRAME_ALLOW = [
  'camera',
  'microphone',
  'geolocation',
  'usb',
  'serial',
  'hid',
  'midi',
  'payment',
  'clipboard-read',
  'clipboard-write',
  'display-capture',
  'screen-wake-lock',
  'publickey-credentials-get',
]
  .map((f) => `${f} 'none'`)
  .join('; ');

/** The CSP source expression for a script text. */
export function scriptHash(source: string): string {
  return `'sha256-${base64.encode(sha256(new TextEncoder().encode(source)))}'`;
}

/**
 * The frame's policy. `connect-src 'none'` closes fetch, XHR, WebSocket, EventSource, WebTransport
 * and beacons; `default-src 'none'` closes images, fonts, media, frames and objects; scripts run only
 * if they are the pinned bootstrap or blob: (the worker and the Pyodide modules it imports);
 * 'wasm-unsafe-eval' lets WebAssembly compile without allowing `eval` or `new Function`.
 */
export function frameCsp(bootstrapSource: string): string {
  return [
    "default-src 'none'",
    `script-src ${scriptHash(bootstrapSource)} blob: 'wasm-unsafe-eval'`,
    'worker-src blob:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The whole frame document. The bootstrap must not contain `</script` (checked). */
export function frameDocument(bootstrapSource: string): string {
  if (/<\/script/i.test(bootstrapSource)) throw new Error('sandbox bootstrap contains "</script"');
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(frameCsp(bootstrapSource))}">` +
    `</head><body><script>${bootstrapSource}</script></body></html>`
  );
}
