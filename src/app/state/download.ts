import { visibleText } from '../../lib/text/index.ts';

/**
 * Offers bytes as a download. Names from outside are shown with hidden characters made visible (a
 * download named model\u202egnp.exe would show as modelexe.png) and folders flattened.
 * `application/octet-stream` keeps the browser from adding an extension of its own (a key file
 * saved as `.txt`).
 */
export function download(name: string, data: string | Uint8Array | Blob, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = visibleText(name).replaceAll('/', '_');
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A safe slug of a name for file names. */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}
