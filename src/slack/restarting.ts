// Shutdown, as the people asking see it: after SIGTERM a new question is answered "meshops is restarting, try
// again in a moment" at once; a queued one is told the same at once (its work never starts); one still running
// at the deadline gets its "working…" message replaced with the same words, so nobody is left with "working…".
import { type Rendered, context, esc } from '../blocks/block-kit.ts';
import { UserError } from '../errors.ts';

export const RESTARTING_TEXT = 'meshops is restarting, try again in a moment.';

/** What the asker sees instead of an answer meshops will not finish. */
export function restartingNotice(label?: string): Rendered {
  const what = label ? ` \`${esc(label)}\` was not answered:` : '';
  return {
    text: RESTARTING_TEXT,
    blocks: [context(`:arrows_counterclockwise:${what} ${RESTARTING_TEXT}`)],
  };
}

/**
 * Thrown into an answer meshops gives up on (queued at SIGTERM, or still running at the deadline). A UserError, so
 * that where the router turns it into a reply (a queued question dropped from the single-flight queue) the asker
 * reads these words, not an apology for an internal error.
 */
export class RestartingError extends UserError {
  constructor() {
    super(RESTARTING_TEXT);
    this.name = 'RestartingError';
  }
}

/** The answers in progress, so the front door can give up on them all at the deadline. */
export class Drain {
  /** Set at SIGTERM: new deliveries are answered with the restarting notice. */
  stopping = false;
  private readonly giveUps = new Set<(err: RestartingError) => void>();

  /** Races `work` against the front door giving up: then it rejects with RestartingError. */
  async guard<T>(work: Promise<T>): Promise<T> {
    let giveUp!: (err: RestartingError) => void;
    const gaveUp = new Promise<never>((_, reject) => {
      giveUp = reject;
    });
    this.giveUps.add(giveUp);
    try {
      return await Promise.race([work, gaveUp]);
    } finally {
      this.giveUps.delete(giveUp);
    }
  }

  /** Answers still being worked on. */
  get running(): number {
    return this.giveUps.size;
  }

  /** Every guarded answer rejects with RestartingError now; returns how many. */
  giveUpAll(): number {
    const n = this.giveUps.size;
    for (const giveUp of [...this.giveUps]) giveUp(new RestartingError());
    this.giveUps.clear();
    return n;
  }
}
