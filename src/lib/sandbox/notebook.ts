/**
 * Reading a Jupyter notebook (nbformat 4, https://nbformat.readthedocs.io/en/latest/format_description.html)
 * down to what the sandbox runs: the code cells' sources, in order.
 */

export interface NotebookCell {
  /** Position among all cells of the notebook, 0-based (what the owner sees as "cell n+1"). */
  index: number;
  source: string;
}

export class NotebookError extends Error {
  override name = 'NotebookError';
}

/**
 * Parses `.ipynb` JSON and returns its code cells.
 * @throws {NotebookError} if the text is not an nbformat-4 notebook, or a cell uses IPython-only
 *   syntax (`%magic`, `!shell`) that plain Python in the sandbox cannot run.
 */
export function parseNotebook(input: string | Uint8Array): NotebookCell[] {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch {
    throw new NotebookError('the notebook is not valid JSON; save it from Jupyter as .ipynb');
  }
  const o = nb as { nbformat?: unknown; cells?: unknown };
  if (!o || typeof o !== 'object' || o.nbformat !== 4 || !Array.isArray(o.cells)) {
    throw new NotebookError('the notebook is not in nbformat 4 (the format Jupyter has written since 2015)');
  }
  const cells: NotebookCell[] = [];
  o.cells.forEach((c: unknown, index: number) => {
    const cell = c as { cell_type?: unknown; source?: unknown };
    if (!cell || cell.cell_type !== 'code') return;
    const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    if (typeof src !== 'string') throw new NotebookError(`cell ${index + 1} has no source text`);
    const line = src.split('\n').find((l) => /^[%!](?!=)/.test(l));
    if (line) {
      throw new NotebookError(
        `cell ${index + 1} uses IPython syntax (${line.trim().slice(0, 40)}); the sandbox runs plain Python, so remove it or use the Python equivalent`,
      );
    }
    if (src.trim()) cells.push({ index, source: src });
  });
  return cells;
}
