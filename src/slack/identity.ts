// Who is asking: Slack user ids come with every payload; names come from users.info, cached so a
// busy channel does not cost one API call per command.
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { WebClient } from './slack-messenger.ts';

const userInfo = z.looseObject({
  ok: z.literal(true),
  user: z.looseObject({
    id: z.string(),
    name: z.string().optional(),
    real_name: z.string().optional(),
    is_bot: z.boolean().optional(),
  }),
});

export interface SlackUser {
  id: string;
  /** The handle (`alice`), the same name slash-command payloads carry. */
  name?: string;
  realName?: string;
  isBot?: boolean;
}

export class SlackDirectory {
  private readonly client: WebClient;
  private readonly log: Logger;
  private readonly ttlMs: number;
  private readonly cache = new Map<string, { at: number; user: Promise<SlackUser> }>();

  constructor(client: WebClient, log: Logger, ttlMs = 10 * 60 * 1000) {
    this.client = client;
    this.log = log;
    this.ttlMs = ttlMs;
  }

  /** Never throws: without users.info we still know the id. */
  async user(userId: string): Promise<SlackUser> {
    const hit = this.cache.get(userId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.user;
    const user = this.lookUp(userId);
    this.cache.set(userId, { at: Date.now(), user });
    if (this.cache.size > 5000) this.cache.delete(this.cache.keys().next().value as string);
    return user;
  }

  private async lookUp(userId: string): Promise<SlackUser> {
    try {
      const answer = userInfo.parse(await this.client.users.info({ user: userId }));
      return { id: userId, name: answer.user.name, realName: answer.user.real_name, isBot: answer.user.is_bot };
    } catch (err) {
      this.log.warn({ err, user: userId }, 'users.info failed; going on with the user id alone');
      this.cache.delete(userId);
      return { id: userId };
    }
  }
}
