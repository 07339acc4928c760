/**
 * The whole page's state, made once: where the person is (URL), what they are told, the theme, the
 * owner's rooms, tables, bundles, runs and log, the expert's side and the demo. Each concern is its
 * own small class; this one composes them and knows the order in which they are re-read.
 */
import { DemoState } from '../demo/demo.svelte.ts';
import { ExpertState } from '../expert/expert.svelte.ts';
import type { Step } from '../ui/step.ts';
import { AuditState } from './audit.svelte.ts';
import { BundlesState } from './bundles.svelte.ts';
import type { Context } from './context.ts';
import { Navigation } from './nav.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { OwnerRunState } from './owner-run.svelte.ts';
import { RoomsState } from './rooms.svelte.ts';
import { TablesState } from './tables.svelte.ts';
import { Theme } from './theme.svelte.ts';

export interface NextStep {
  id: string;
  text: string;
  href: string;
  action: string;
}

export class AppState {
  readonly nav = new Navigation();
  readonly notices = new Notices();
  readonly theme = new Theme();
  readonly rooms: RoomsState;
  readonly tables: TablesState;
  readonly bundles: BundlesState;
  readonly runs: OwnerRunState;
  readonly audit: AuditState;
  readonly expert = new ExpertState();
  readonly demo = new DemoState();
  #refreshing: Promise<void> = Promise.resolve();

  constructor() {
    const ctx: Context = { nav: this.nav, notices: this.notices, refresh: () => this.refresh() };
    this.rooms = new RoomsState(ctx);
    this.tables = new TablesState(ctx);
    this.bundles = new BundlesState(ctx);
    this.runs = new OwnerRunState(ctx);
    this.audit = new AuditState(ctx);
  }

  /** Re-reads everything the owner's tabs show, one refresh at a time. Never rejects. */
  refresh(): Promise<void> {
    this.#refreshing = this.#refreshing.then(async () => {
      try {
        await this.rooms.load();
        const room = this.rooms.current?.id ?? null;
        await Promise.all([this.tables.load(), this.bundles.load(room), this.audit.load(this.nav.tab === 'log')]);
        this.runs.forget(room);
      } catch (e) {
        this.notices.fail(e);
      }
    });
    return this.#refreshing;
  }

  /** The owner's steps in the current room, each done or not, each a link to where it is done. */
  get ownerSteps(): Step[] {
    const room = this.rooms.current;
    const id = room?.id;
    const href = (tab: Parameters<Navigation['href']>[0], item: string | null = null) => this.nav.href(tab, item);
    return [
      { id: 'room', label: 'Room', done: !!room, href: href('room') },
      { id: 'tables', label: 'Tables', done: !!room?.grants.length, href: href('tables') },
      { id: 'invite', label: 'Invite', done: this.audit.has(id, 'invitation.exported'), href: href('room', 'invite') },
      { id: 'bundle', label: 'Bundle', done: this.bundles.list.length > 0, href: href('bundles') },
      { id: 'run', label: 'Run', done: this.bundles.runs.length > 0, href: href('bundles') },
      { id: 'review', label: 'Review', done: this.bundles.runs.some((r) => r.gate), href: href('bundles') },
      { id: 'export', label: 'Export', done: this.audit.has(id, 'output.exported'), href: href('bundles') },
    ];
  }

  /** The one thing to do next, in a sentence, with where to do it. */
  get nextStep(): NextStep | null {
    const step = this.ownerSteps.find((s) => !s.done);
    if (!step) return null;
    const texts: Record<string, [string, string]> = {
      room: ['Create a room: the keys an expert seals code to, and that sign what you export.', 'Create a room'],
      tables: ['Load a table and grant it to this room: only granted tables are described or read.', 'Load a table'],
      invite: [
        'Download the invitation and send it to your expert: schema and counts, never values.',
        'Invite an expert',
      ],
      bundle: ['Import the sealed bundle your expert sends back (.airlock).', 'Import a bundle'],
      run: ['Run the bundle on your tables in the sandbox.', 'Run it'],
      review: ['Review what the run wrote before anything leaves.', 'Review outputs'],
      export: ['Export the outputs with a signed receipt for your expert.', 'Export'],
    };
    const [text, action] = texts[step.id]!;
    return { id: step.id, text, href: step.href, action };
  }

  /** The expert's next step, said as what to do; null once a receipt checked out. */
  get expertNextStep(): NextStep | null {
    const step = this.expertSteps.find((s) => !s.done);
    if (!step) return null;
    const texts: Record<string, [string, string]> = {
      invitation: [
        'Load the invitation the owner sent you (invitation.json): the tables you may use, their columns and the policy.',
        'Load the invitation',
      ],
      mock: ['Download mock data shaped like the owner’s tables and write your notebook against it.', 'Mock data'],
      seal: ['Choose or create your signing key, then seal your notebook and wheels to the owner’s room.', 'Seal'],
      receipt: [
        'Send the .airlock file to the owner. When they send back a receipt and outputs, check them here.',
        'Check a receipt',
      ],
    };
    const [text, action] = texts[step.id]!;
    return { id: step.id, text, href: step.href, action };
  }

  /** The expert's steps: invitation → mock data → seal → receipt. */
  get expertSteps(): Step[] {
    const e = this.expert;
    const href = (section: string) => this.nav.href('expert', section);
    return [
      { id: 'invitation', label: 'Invitation', done: !!e.invitation, href: href('invitation') },
      { id: 'mock', label: 'Mock data', done: e.mocked, href: href('mock') },
      { id: 'seal', label: 'Seal', done: !!e.sealed, href: href('seal') },
      { id: 'receipt', label: 'Receipt', done: !!e.result, href: href('receipt') },
    ];
  }
}
