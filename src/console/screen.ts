// What the console writes, and the one status line it keeps: progress (a command sampling, a watch following a
// migration) rewrites that line in place in a terminal instead of reprinting the message every few seconds.
// Where output is not a terminal (a pipe, a file, a test), a status is printed as a line of its own, and only
// when what it says changes (times and durations aside), so a log of the session stays readable.

/** `12 s`, `1.5 min`, `300ms`, `09:30 UTC`: what changes on every look without anything having happened. */
const TIMES = /\b\d+(?:\.\d+)?\s?(?:ms|s|sec|min|m|h)\b|\b\d\d:\d\d(?::\d\d)?(?: UTC)?/g;

export function withoutTimes(line: string): string {
  return line.replace(TIMES, '…');
}

/** One line: newlines become ` · `, and the line fits the terminal's width. */
export function oneLine(text: string, width = Number.POSITIVE_INFINITY): string {
  const one = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' · ');
  return one.length > width ? `${one.slice(0, Math.max(0, width - 1))}…` : one;
}

type StatusPlace = 'none' | 'inline' | 'above-prompt';

export class ConsoleScreen {
  readonly tty: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly promptText: string;
  /** The prompt is the last thing written: the cursor waits after it. */
  private atPrompt = false;
  /** Where the status line is (a terminal only): on the cursor's line, or on the line above the prompt. */
  private place: StatusPlace = 'none';
  /** Not a terminal: the last status printed per key, without its times. */
  private readonly printed = new Map<string, string>();

  constructor(out: NodeJS.WritableStream, options: { tty?: boolean; prompt?: string } = {}) {
    this.out = out;
    this.tty = options.tty ?? (out as { isTTY?: boolean }).isTTY === true;
    this.promptText = options.prompt ?? 'mesh> ';
  }

  private get width(): number {
    // A terminal that reports no size (0, as a bare pty does) gets a usual one.
    const columns = (this.out as { columns?: number }).columns;
    return Math.max(20, (columns && columns > 0 ? columns : 120) - 1);
  }

  /** Writes text (whole lines). In a terminal the status line goes first, and a prompt that was showing comes back. */
  write(text: string): void {
    if (!this.tty) {
      this.out.write(text);
      this.atPrompt = false;
      return;
    }
    const reprompt = this.atPrompt;
    this.clearStatus();
    if (reprompt) this.out.write('\r\x1b[2K');
    this.out.write(text);
    if (reprompt) this.out.write(this.promptText);
    this.atPrompt = reprompt;
  }

  prompt(): void {
    // A status on the cursor's line stays, as the line above the prompt.
    if (this.place === 'inline') {
      this.out.write(`\n${this.promptText}`);
      this.place = 'above-prompt';
    } else {
      this.clearStatus();
      this.out.write(this.promptText);
    }
    this.atPrompt = true;
  }

  /** A line was typed (Enter moved the cursor down): the prompt and a status above it are history now. */
  inputReceived(): void {
    this.atPrompt = false;
    if (this.place === 'above-prompt') this.place = 'none';
  }

  /** Shows `line` as the status; `key` says whose it is (a message, a command's progress). */
  status(key: string, line: string): void {
    if (!this.tty) {
      const one = oneLine(line);
      const shape = withoutTimes(one);
      if (this.printed.get(key) === shape) return;
      this.printed.delete(key);
      this.printed.set(key, shape);
      if (this.printed.size > 1000) this.printed.delete(this.printed.keys().next().value as string);
      this.write(`${one}\n`);
      return;
    }
    const one = oneLine(line, this.width);
    if (this.place === 'above-prompt') {
      // Save the cursor (on the prompt, after what is being typed), rewrite the line above, come back.
      this.out.write(`\x1b7\x1b[1A\r\x1b[2K${one}\x1b8`);
    } else if (this.place === 'inline') {
      this.out.write(`\r\x1b[2K${one}`);
    } else if (this.atPrompt) {
      this.out.write(`\r\x1b[2K${one}\n${this.promptText}`);
      this.place = 'above-prompt';
    } else {
      this.out.write(one);
      this.place = 'inline';
    }
  }

  /** Removes the status line (a terminal), e.g. when the answer it was waiting for arrives. */
  clearStatus(): void {
    if (this.place === 'inline') this.out.write('\r\x1b[2K');
    else if (this.place === 'above-prompt') {
      // Clear the prompt's line and the status line above it; the cursor ends where the status was.
      this.out.write('\r\x1b[2K\x1b[1A\r\x1b[2K');
    }
    this.place = 'none';
  }
}
