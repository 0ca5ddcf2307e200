// The local console: the same router as Slack, answers printed as text. `npm start` without Slack
// tokens lands here, against the demo mesh unless a cluster is chosen (src/kube/connect.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Requester } from '../shared-types.ts';
import type { Router } from '../router.ts';
import { type ButtonElement, type Rendered, renderedToText } from '../blocks/block-kit.ts';
import { emojify } from '../blocks/emoji.ts';
import type { ClickHandler, Messenger, MessageRef, UpdateOptions } from '../messenger.ts';
import { type Impersonation, asCommand, clickCommand } from './builtins.ts';
import { ConsoleScreen } from './screen.ts';

export interface ConsoleOptions {
  router: Router;
  banner: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  clickHandlers?: Record<string, ClickHandler>;
  user?: string;
  /** Shared with background work (approvals follow-ups print through it). */
  messenger?: ConsoleMessenger;
  /** Whether `as <user>` works (default: yes; main.ts turns it off on a real cluster unless a setting allows it). */
  impersonation?: Impersonation;
}

/** What a message showed when last printed whole: a later update that changes only its lines is progress. */
interface Printed {
  /** The fallback text (the headline) and the buttons: while they stay, an update is progress. */
  shape: string;
  lines: Set<string>;
  /** The lines the latest progress update changed. */
  lastUpdate?: Set<string>;
}

function shapeOf(rendered: Rendered): string {
  const buttons = rendered.blocks.flatMap((b) =>
    b.type === 'actions' ? b.elements.map((e) => `${e.action_id}=${e.value ?? ''}`) : [],
  );
  return JSON.stringify([rendered.text, buttons]);
}

/** Prints what background work would post in Slack. */
export class ConsoleMessenger implements Messenger {
  private seq = 0;
  /** Where everything is written; its status line carries progress. */
  readonly screen: ConsoleScreen;
  /** Every button shown so far, numbered from 1, with the message it belongs to (approvals check that). */
  readonly buttons: Array<{ button: ButtonElement; message?: MessageRef }> = [];
  /** The highest version printed per message: an older state arriving late is not printed over a newer one. */
  private readonly versions = new Map<string, number>();
  private readonly printed = new Map<string, Printed>();
  /** Where files with bytes (charts) are saved, since a terminal cannot show them. */
  readonly filesDir: string;
  /**
   * `tty`: rewrite one status line in place (default: when `out` is a terminal); `filesDir`: where charts
   * are saved (default `$TMPDIR/meshops-console`).
   */
  constructor(out: NodeJS.WritableStream, options: { tty?: boolean; filesDir?: string } = {}) {
    this.screen = new ConsoleScreen(out, options);
    this.filesDir = options.filesDir ?? join(tmpdir(), 'meshops-console');
  }
  /** Binary files (a window's PNG chart) are written to filesDir; the message says where. */
  private saveFiles(rendered: Rendered): Rendered {
    if (!rendered.files?.some((f) => f.bytes)) return rendered;
    const files = rendered.files.map((f) => {
      if (!f.bytes) return f;
      try {
        mkdirSync(this.filesDir, { recursive: true });
        const path = join(this.filesDir, `${this.seq}-${basename(f.filename)}`);
        writeFileSync(path, f.bytes);
        return { ...f, content: `saved to ${path} (${f.bytes.length} bytes)` };
      } catch (err) {
        return { ...f, content: `could not be saved in ${this.filesDir}: ${err instanceof Error ? err.message : err}` };
      }
    });
    return { ...rendered, files };
  }
  show(shown: Rendered, prefix = '', message?: MessageRef): void {
    const rendered = this.saveFiles(shown);
    const start = this.buttons.length;
    for (const b of rendered.blocks)
      if (b.type === 'actions') for (const button of b.elements) this.buttons.push({ button, message });
    const plain = renderedToText(rendered);
    let text = plain;
    this.buttons.slice(start).forEach(({ button }, i) => {
      // blockToText prints labels with their emoji: number the label as printed.
      const label = emojify(button.text.text);
      text = text.replace(`[ ${label} ]`, `[${start + i + 1}] ${label}`);
    });
    this.screen.write(`${prefix}${text}\n`);
    if (message) {
      const key = `${message.channel}/${message.ts}`;
      this.printed.delete(key);
      // Without the button numbers: a later update renders its buttons unnumbered, as this did.
      this.printed.set(key, { shape: shapeOf(rendered), lines: new Set(plain.split('\n')) });
      if (this.printed.size > 1000) this.printed.delete(this.printed.keys().next().value as string);
    }
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
    // Same headline, same buttons: progress (a rollout, a STRICT watch). It goes on the status line, not in a
    // reprint of the whole message every few seconds; what changed is what the line says.
    const before = this.printed.get(key);
    if (before && before.shape === shapeOf(rendered)) {
      const changed = renderedToText(rendered)
        .split('\n')
        .filter((l) => l.trim() && !before.lines.has(l));
      // What this update changed first (it is what a cut status line must keep), then what earlier ones did.
      const last = before.lastUpdate ?? new Set<string>();
      const ordered = [...changed.filter((l) => !last.has(l)), ...changed.filter((l) => last.has(l))];
      before.lastUpdate = new Set(changed);
      if (ordered.length) this.screen.status(key, `(updated) ${ordered.join('\n')}`);
      return;
    }
    this.show(rendered, '(updated) ', ref);
  }
  async ephemeral(_channel: string, _user: string, rendered: Rendered): Promise<void> {
    this.show(rendered, '(only you) ');
  }
  async upload(_channel: string, _thread: string | undefined, file: { title: string; content: string }): Promise<void> {
    this.screen.write(`--- ${file.title} ---\n${file.content}\n`);
  }
}

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const output = options.output ?? process.stdout;
  const messenger = options.messenger ?? new ConsoleMessenger(output);
  const { screen } = messenger;
  const rl = createInterface({ input: options.input ?? process.stdin, output, terminal: false });
  screen.write(`${options.banner}\n`);
  let user = options.user ?? 'console';
  const impersonation = options.impersonation ?? { allowed: true };
  screen.prompt();
  for await (const raw of rl) {
    screen.inputReceived();
    const line = raw.trim().replace(/^\/mesh\s*/, '');
    if (line === 'exit' || line === 'quit') break;
    if (line === '') {
      screen.prompt();
      continue;
    }
    const as = asCommand(line, user, impersonation);
    if (as) {
      if ('user' in as) user = as.user;
      screen.write(`${as.text}\n`);
      screen.prompt();
      continue;
    }
    const click = clickCommand(line, messenger.buttons);
    if (click !== undefined) {
      if (typeof click === 'number') await clickButton(click, user, messenger, options.clickHandlers ?? {}, screen);
      else screen.write(`${click.text}\n`);
      screen.prompt();
      continue;
    }
    const requester: Requester = { userId: user, userName: user, channelId: 'console', source: 'console' };
    const reply = await withProgress(screen, line, (progress) => options.router.handle(line, requester, { progress }));
    // A form (Slack's modal) cannot open here: the command's own words say what to do instead.
    if (reply.rendered.modal && !reply.rendered.blocks.some((b) => b.type === 'section'))
      screen.write('That opens a form, which only Slack can show.\n');
    // post() prints the answer's files after it, as Slack's messenger uploads them into the thread.
    await messenger.post('console', reply.rendered);
    screen.prompt();
  }
  rl.close();
}

/** While a command runs: after a second, a status line with its latest note and the time so far. */
async function withProgress<T>(
  screen: ConsoleScreen,
  line: string,
  run: (progress: (note: string) => void) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const verb = line.split(/\s+/)[0] ?? line;
  let note: string | undefined;
  const show = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    screen.status(`progress ${started}`, `… ${note ?? `${verb}: working`}${screen.tty ? ` (${seconds}s)` : ''}`);
  };
  // A terminal ticks every second; elsewhere a line is printed per note (the status prints changes only).
  const timer = screen.tty ? setInterval(show, 1000) : undefined;
  try {
    return await run((n) => {
      note = n;
      show();
    });
  } finally {
    if (timer) clearInterval(timer);
    screen.clearStatus();
  }
}

async function clickButton(
  n: number,
  user: string,
  messenger: ConsoleMessenger,
  handlers: Record<string, ClickHandler>,
  output: ConsoleScreen,
): Promise<void> {
  const shown = messenger.buttons[n - 1];
  if (!shown) {
    output.write(
      messenger.buttons.length
        ? `There is no button [${n}]: the answers above show [1] to [${messenger.buttons.length}].\n`
        : `There is no button [${n}]: no answer has shown a button yet.\n`,
    );
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
