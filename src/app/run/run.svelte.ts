/**
 * One run as the page follows it: which stage it is in (in words a person reads), each cell with its
 * status, time and own output, the notebook's own progress and the metrics it reports, then the
 * report. Components render it and call `cancel`; whatever happens, the phase ends.
 */
import type { LogLine, RunEvent, RunReport } from '../../lib/sandbox/index.ts';

export type Phase = 'idle' | 'running' | 'done';

/** What a tracked run gets: where to send its events, and the signal that cancels it. */
export interface RunHooks {
  onEvent: (e: RunEvent) => void;
  signal: AbortSignal;
}

export type StageKey = 'starting' | 'python' | 'lockdown' | 'wheels' | 'tables' | 'cells' | 'outputs' | 'review';

/** The sandbox's own stage names, as the owner reads them. */
const STAGE_OF: Record<string, StageKey> = {
  'load runtime': 'python',
  'lock down': 'lockdown',
  'install wheels': 'wheels',
  'mount tables': 'tables',
  'collect outputs': 'outputs',
};

export const STAGE_LABEL: Record<StageKey, string> = {
  starting: 'Preparing the run',
  python: 'Starting Python',
  lockdown: 'Locking the sandbox',
  wheels: 'Checking the bundle and installing its code',
  tables: 'Loading tables',
  cells: 'Running the notebook',
  outputs: 'Collecting outputs',
  review: 'Reviewing outputs',
};

export interface StageView {
  key: StageKey;
  startedAt: number;
  endedAt?: number;
}

export interface CellView {
  index: number;
  state: 'waiting' | 'running' | 'ok' | 'failed';
  ms?: number;
}

/** One point of the notebook's own progress, with the metrics it reported then. */
export interface ProgressPoint {
  fraction: number;
  message: string;
  metrics?: Record<string, number>;
}

export class RunState {
  #phase = $state.raw<Phase>('idle');
  #stages = $state.raw<StageView[]>([]);
  #cells = $state.raw<CellView[]>([]);
  #points = $state.raw<ProgressPoint[]>([]);
  #logs = $state.raw<LogLine[]>([]);
  #report = $state.raw<RunReport | null>(null);
  #startedAt = $state.raw(0);
  #endedAt = 0;
  #now = $state.raw(0);
  /** Logs arrive in bursts: they are kept here and shown a few times a second. */
  #pending: LogLine[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #clock: ReturnType<typeof setInterval> | undefined;
  #abort: AbortController | null = null;

  get phase(): Phase {
    return this.#phase;
  }
  get stages(): StageView[] {
    return this.#stages;
  }
  get cells(): CellView[] {
    return this.#cells;
  }
  get points(): ProgressPoint[] {
    return this.#points;
  }
  get progress(): ProgressPoint | null {
    return this.#points.at(-1) ?? null;
  }
  get logs(): LogLine[] {
    return this.#logs;
  }
  get report(): RunReport | null {
    return this.#report;
  }
  /** Milliseconds since the run started (ticking while it runs). */
  get elapsed(): number {
    return this.#startedAt ? this.#now - this.#startedAt : 0;
  }
  /** Whether the run ended just now (the page moves focus to its result then, not on a later visit). */
  get justEnded(): boolean {
    return this.#phase === 'done' && performance.now() - this.#endedAt < 2000;
  }
  get stage(): StageView | null {
    return this.#stages.at(-1) ?? null;
  }
  /** The current stage as a person reads it: "Running cell 3 of 4". */
  get stageText(): string {
    const s = this.stage;
    if (!s) return '';
    if (s.key === 'cells') {
      const running = this.#cells.find((c) => c.state === 'running');
      if (running) return `Running cell ${running.index + 1} of ${this.#cells.length}`;
    }
    return STAGE_LABEL[s.key];
  }
  /** The metrics the notebook reported, by name, in order (the training curve). */
  get series(): Array<{ name: string; values: Array<{ x: number; y: number }> }> {
    const out = new Map<string, Array<{ x: number; y: number }>>();
    this.#points.forEach((p, i) => {
      for (const [k, v] of Object.entries(p.metrics ?? {})) {
        if (!out.has(k)) out.set(k, []);
        out.get(k)!.push({ x: i, y: v });
      }
    });
    return [...out].map(([name, values]) => ({ name, values }));
  }

  #enter(key: StageKey): void {
    const now = performance.now();
    const last = this.#stages.at(-1);
    if (last?.key === key) return;
    this.#stages = [...this.#stages.map((s) => (s.endedAt ? s : { ...s, endedAt: now })), { key, startedAt: now }];
  }

  #flush = (): void => {
    this.#flushTimer = undefined;
    if (!this.#pending.length) return;
    this.#logs = [...this.#logs, ...this.#pending];
    this.#pending = [];
  };

  #onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'log':
        this.#pending.push({ cell: e.cell, stream: e.stream, text: e.text });
        this.#flushTimer ??= setTimeout(this.#flush, 120);
        break;
      case 'progress':
        this.#points = [
          ...this.#points,
          { fraction: e.fraction, message: e.message, ...(e.metrics ? { metrics: e.metrics } : {}) },
        ];
        break;
      case 'stage': {
        const key = STAGE_OF[e.stage];
        if (key) this.#enter(key);
        break;
      }
      case 'cell': {
        this.#enter('cells');
        const cells =
          this.#cells.length === e.count
            ? this.#cells
            : Array.from({ length: e.count }, (_, i): CellView => ({ index: i, state: 'waiting' }));
        this.#cells = cells.map((c) =>
          c.index === e.index ? { index: c.index, state: e.state, ...(e.ms !== undefined ? { ms: e.ms } : {}) } : c,
        );
        break;
      }
      case 'review':
        this.#enter('review');
        break;
      case 'tripwire':
        break;
    }
  }

  /**
   * Runs `work` with this state following its events. Whatever happens — a report, or an exception
   * before one — the phase ends as `done` (the exception is passed on to the caller).
   */
  async track<T>(work: (hooks: RunHooks) => Promise<T>, reportOf: (r: T) => RunReport | null): Promise<T> {
    this.#phase = 'running';
    this.#stages = [];
    this.#cells = [];
    this.#points = [];
    this.#logs = [];
    this.#pending = [];
    this.#report = null;
    this.#startedAt = this.#now = performance.now();
    this.#clock = setInterval(() => (this.#now = performance.now()), 250);
    this.#enter('starting');
    const abort = (this.#abort = new AbortController());
    try {
      const result = await work({ signal: abort.signal, onEvent: (e) => this.#onEvent(e) });
      const report = reportOf(result);
      // Cells the run never reached (a failed cell stops the notebook) stay "waiting" — shown as not run.
      this.#report = report;
      return result;
    } finally {
      clearTimeout(this.#flushTimer);
      this.#flush();
      clearInterval(this.#clock);
      this.#now = performance.now();
      const now = this.#now;
      this.#stages = this.#stages.map((s) => (s.endedAt ? s : { ...s, endedAt: now }));
      this.#endedAt = performance.now();
      this.#phase = 'done';
      this.#abort = null;
    }
  }

  cancel(): void {
    this.#abort?.abort();
  }

  /** Forgets the last run (a new room, a new bundle). */
  reset(): void {
    if (this.#phase === 'running') return;
    this.#phase = 'idle';
    this.#stages = [];
    this.#cells = [];
    this.#points = [];
    this.#logs = [];
    this.#report = null;
    this.#startedAt = this.#now = 0;
  }
}
