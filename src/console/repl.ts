// The local console: the same router as Slack, answers printed as text. `npm start` without Slack
// tokens lands here, against the demo mesh or the current kubeconfig context.
import { createInterface } from 'node:readline/promises';
import type { Requester } from '../command.ts';
import type { Router } from '../router.ts';
import { type ButtonElement, type Rendered, renderedToText } from '../blocks/block-kit.ts';
import type { ClickHandler, Messenger, MessageRef } from '../messenger.ts';

export interface ConsoleOptions {
  router: Router;
  banner: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  clickHandlers?: Record<string, ClickHandler>;
  user?: string;
  /** Shared with background work (approvals follow-ups print through it). */
  messenger?: ConsoleMessenger;
}

/** Prints what background work would post in Slack. */
export class ConsoleMessenger implements Messenger {
  private seq = 0;
  private readonly out: NodeJS.WritableStream;
  readonly buttons: ButtonElement[] = [];
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }
  show(rendered: Rendered, prefix = ''): void {
    const start = this.buttons.length;
    for (const b of rendered.blocks) if (b.type === 'actions') this.buttons.push(...b.elements);
    let text = renderedToText(rendered);
    this.buttons.slice(start).forEach((b, i) => {
      text = text.replace(`[ ${b.text.text} ]`, `[${start + i + 1}] ${b.text.text}`);
    });
    this.out.write(`${prefix}${text}\n`);
  }
  async post(channel: string, rendered: Rendered, options?: { threadTs?: string }): Promise<MessageRef> {
    this.show(rendered, options?.threadTs ? '  ↳ ' : '');
    const ts = String(++this.seq);
    return { channel, ts, threadTs: options?.threadTs ?? ts };
  }
  async update(_ref: MessageRef, rendered: Rendered): Promise<void> {
    this.show(rendered, '(updated) ');
  }
  async ephemeral(_channel: string, _user: string, rendered: Rendered): Promise<void> {
    this.show(rendered, '(only you) ');
  }
  async upload(_channel: string, _thread: string | undefined, file: { title: string; content: string }): Promise<void> {
    this.out.write(`--- ${file.title} ---\n${file.content}\n`);
  }
}

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const output = options.output ?? process.stdout;
  const messenger = options.messenger ?? new ConsoleMessenger(output);
  const rl = createInterface({ input: options.input ?? process.stdin, output, terminal: false });
  output.write(`${options.banner}\n`);
  let user = options.user ?? 'console';
  const prompt = () => output.write('mesh> ');
  prompt();
  for await (const raw of rl) {
    const line = raw.trim().replace(/^\/mesh\s*/, '');
    if (line === 'exit' || line === 'quit') break;
    if (line === '') {
      prompt();
      continue;
    }
    const as = line.match(/^as\s+(\S+)$/);
    if (as) {
      user = as[1] as string;
      output.write(`You are now ${user}.\n`);
      prompt();
      continue;
    }
    const click = line.match(/^click\s+(\d+)$/);
    if (click) {
      await clickButton(Number(click[1]), user, messenger, options.clickHandlers ?? {}, output);
      prompt();
      continue;
    }
    const requester: Requester = { userId: user, userName: user, channelId: 'console', source: 'console' };
    const reply = await options.router.handle(line, requester);
    messenger.show(reply.rendered);
    for (const f of reply.rendered.files ?? []) await messenger.upload('console', undefined, f);
    prompt();
  }
  rl.close();
}

async function clickButton(n: number, user: string, messenger: ConsoleMessenger, handlers: Record<string, ClickHandler>, output: NodeJS.WritableStream): Promise<void> {
  const button = messenger.buttons[n - 1];
  if (!button) {
    output.write(`There is no button [${n}]. Buttons are numbered in the answers above.\n`);
    return;
  }
  const handler = Object.entries(handlers).find(([prefix]) => button.action_id.startsWith(prefix))?.[1];
  if (!handler) {
    output.write('That button does nothing in the console.\n');
    return;
  }
  const outcome = await handler({ actionId: button.action_id, value: button.value ?? '', userId: user, userName: user, channelId: 'console', message: { channel: 'console', ts: '0' } });
  if (outcome.ephemeral) messenger.show(outcome.ephemeral, '(only you) ');
  if (outcome.update) messenger.show(outcome.update, '(updated) ');
  for (const t of outcome.thread ?? []) messenger.show(t, '  ↳ ');
}
