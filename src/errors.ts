// One place turns errors into words for people. A UserError says what went wrong and what to type
// instead; anything else is logged whole and shown as a short apology with a reference id.
import { randomBytes } from 'node:crypto';

export class UserError extends Error {
  /** What to type instead, shown under the message. */
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
  }
}

export function referenceId(): string {
  return randomBytes(4).toString('hex');
}
