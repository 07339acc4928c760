/**
 * The state of one notebook run for the UI: live logs, progress and stage, then the report.
 * Svelte runes live here; the components only render it and call track/cancel.
 */
import type { AirlockAutomation, AutomationRunRequest } from '../automation.ts';
import type { LogLine, RunReport, SandboxEvent } from '../../lib/sandbox/index.ts';

export type Phase = 'idle' | 'running' | 'done';

/** What a tracked run gets: where to send its events, and the signal that cancels it. */
export interface RunHooks {
  onEvent: (e: SandboxEvent) => void;
  signal: AbortSignal;
}

export class RunState {
  phase = $state<Phase>('idle');
  stage = $state('');
  progress = $state<{ fraction: number; message: string } | null>(null);
  logs = $state<LogLine[]>([]);
  report = $state<RunReport | null>(null);
  #abort: AbortController | null = null;

  constructor(private readonly airlock: AirlockAutomation) {}

  /**
   * Runs `work` with this state following its events. Whatever happens — a report, or an exception
   * before one — the phase ends as `done` (the exception is passed on to the caller).
   */
  async track<T>(work: (hooks: RunHooks) => Promise<T>, reportOf: (r: T) => RunReport | null): Promise<T> {
    this.phase = 'running';
    this.stage = 'starting';
    this.progress = null;
    this.logs = [];
    this.report = null;
    const abort = (this.#abort = new AbortController());
    try {
      const result = await work({
        signal: abort.signal,
        onEvent: (e) => {
          if (e.type === 'log') this.logs.push({ cell: e.cell, stream: e.stream, text: e.text });
          else if (e.type === 'progress') this.progress = { fraction: e.fraction, message: e.message };
          else if (e.type === 'stage') this.stage = e.stage;
        },
      });
      this.report = reportOf(result);
      return result;
    } finally {
      this.phase = 'done';
      this.#abort = null;
    }
  }

  /** A bare notebook run through `window.airlock.run` (scoring a table with an approved model). */
  start(req: Omit<AutomationRunRequest, 'onEvent' | 'signal'>): Promise<RunReport> {
    return this.track(
      (hooks) => this.airlock.run({ ...req, ...hooks }),
      (r) => r,
    );
  }

  cancel(): void {
    this.#abort?.abort();
  }
}
