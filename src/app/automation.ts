/**
 * `window.airlock`: the automation surface of the built app. The headless runner (`airlock run`)
 * and the browser tests drive the real app through it — the same code path as the UI, no other.
 */
import { loadPyodideAssets, runNotebook, type RunReport, type SandboxTable, type WheelFile, type SandboxEvent, type RunLimits } from '../lib/sandbox/index.ts';

export interface AutomationRunRequest {
  notebook: string | Uint8Array;
  wheels?: WheelFile[];
  tables?: SandboxTable[];
  limits?: Partial<RunLimits>;
  tripwires?: boolean;
  workerSource?: string;
  onEvent?: (e: SandboxEvent) => void;
}

export interface AirlockAutomation {
  version: string;
  pyodideVersion: string;
  run(req: AutomationRunRequest): Promise<RunReport>;
}

export function installAutomation(): void {
  const automation: AirlockAutomation = {
    version: __AIRLOCK_VERSION__,
    pyodideVersion: __PYODIDE_VERSION__,
    async run(req) {
      const assets = await loadPyodideAssets();
      return runNotebook({ wheels: [], tables: [], ...req, assets });
    },
  };
  (window as unknown as { airlock: AirlockAutomation }).airlock = automation;
}
