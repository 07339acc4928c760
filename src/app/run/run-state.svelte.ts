/**
 * The state of one notebook run for the UI: live logs, progress and stage, then the report.
 * Svelte runes live here; the components only render it and call start/cancel.
 */
import type { AirlockAutomation, AutomationRunRequest } from '../automation.ts';
import type { LogLine, RunReport, SandboxEvent } from '../../lib/sandbox/index.ts';

export type Phase = 'idle' | 'running' | 'done';

export class RunState {
  phase = $state<Phase>('idle');
  stage = $state('');
  progress = $state<{ fraction: number; message: string } | null>(null);
  logs = $state<LogLine[]>([]);
  report = $state<RunReport | null>(null);
  #abort: AbortController | null = null;

  constructor(private readonly airlock: AirlockAutomation) {}

  async start(req: Omit<AutomationRunRequest, 'onEvent' | 'signal'>): Promise<RunReport> {
    this.phase = 'running';
    this.stage = 'starting';
    this.progress = null;
    this.logs = [];
    this.report = null;
    this.#abort = new AbortController();
    const report = await this.airlock.run({
      ...req,
      signal: this.#abort.signal,
      onEvent: (e: SandboxEvent) => {
        if (e.type === 'log') this.logs.push({ cell: e.cell, stream: e.stream, text: e.text });
        else if (e.type === 'progress') this.progress = { fraction: e.fraction, message: e.message };
        else if (e.type === 'stage') this.stage = e.stage;
      },
    });
    this.report = report;
    this.phase = 'done';
    this.#abort = null;
    return report;
  }

  cancel(): void {
    this.#abort?.abort();
  }
}
