// The local console: the same router as Slack, answers printed as text. `npm start` without Slack
// tokens lands here, against the demo mesh or the current kubeconfig context.
import { createInterface } from 'node:readline/promises';
import type { Requester } from '../shared-types.ts';
import type { Router } from '../router.ts';
import { type ButtonElement, type Rendered, renderedToText } from '../blocks/block-kit.ts';
import type { ClickHandler, Messenger, MessageRef, UpdateOptions } from '../messenger.ts';

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
  /** Every button shown so far, numbered from 1, with the message it belongs to (approvals check that). */
  readonly buttons: Array<{ button: ButtonElement; message?: MessageRef }> = [];
  /** The highest version printed per message: an older state arriving late is not printed over a newer one. */
  private readonly versions = new Map<string, number>();
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }
  show(rendered: Rendered, prefix = '', message?: MessageRef): void {
    const start = this.buttons.length;
    for (const b of rendered.blocks)
      if (b.type === 'actions') for (const button of b.elements) this.buttons.push({ button, message });
    let text = renderedToText(rendered);
    this.buttons.slice(start).forEach(({ button }, i) => {
      text = text.replace(`[ ${button.text.text} ]`, `[${start + i + 1}] ${button.text.text}`);
    });
    this.out.write(`${prefix}${text}\n`);
  }
  async post(channel: string, rendered: Rendered, options?: { threadTs?: string }): Promise<MessageRef> {
    const ts = String(++this.seq);
    const ref = { channel, ts, threadTs: options?.threadTs ?? ts };
    this.show(rendered, options?.threadTs ? '  ↳ ' : '', ref);
    return ref;
  }
  async update(ref: MessageRef, rendered: Rendered, options: UpdateOptions = {}): Promise<void> {
    const key = `${ref.channel}/${ref.ts}`;
    const { version } = options;
    if (version !== undefined && Number.isFinite(version)) {
      const shown = this.versions.get(key);
      if (shown !== undefined && version <= shown) return; // the same rule as Slack's messenger: stale states are dropped
      this.versions.delete(key);
      this.versions.set(key, version);
      if (this.versions.size > 10_000) this.versions.delete(this.versions.keys().next().value as string);
    }
    this.show(rendered, '(updated) ', ref);
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
    const ref = await messenger.post('console', reply.rendered);
    for (const f of reply.rendered.files ?? []) await messenger.upload('console', ref.ts, f);
    prompt();
  }
  rl.close();
}

async function clickButton(
  n: number,
  user: string,
  messenger: ConsoleMessenger,
  handlers: Record<string, ClickHandler>,
  output: NodeJS.WritableStream,
): Promise<void> {
  const shown = messenger.buttons[n - 1];
  if (!shown) {
    output.write(`There is no button [${n}]. Buttons are numbered in the answers above.\n`);
    return;
  }
  const { button, message } = shown;
  const handler = Object.entries(handlers)
    .sort(([a], [b]) => b.length - a.length)
    .find(([prefix]) => button.action_id.startsWith(prefix))?.[1];
  if (!handler) {
    output.write('That button does nothing in the console.\n');
    return;
  }
  const outcome = await handler({
    actionId: button.action_id,
    value: button.value ?? '',
    userId: user,
    userName: user,
    channelId: 'console',
    message,
  });
  if (outcome.ephemeral) messenger.show(outcome.ephemeral, '(only you) ');
  if (outcome.update && message) await messenger.update(message, outcome.update, { version: outcome.version });
  for (const t of outcome.thread ?? [])
    await messenger.post('console', t, { threadTs: message?.threadTs ?? message?.ts });
}
