import { z } from 'zod';
import { defineCommand, type AnyCommand } from '../../command.ts';
import { closest } from '../../args.ts';
import { context, esc, header, section, type Block } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';

export interface HelpResult {
  commands: Array<Pick<AnyCommand, 'name' | 'summary' | 'usage' | 'aliases' | 'examples' | 'permission'>>;
  detail?: string;
  policyWarning?: string;
}

export default defineCommand({
  name: 'help',
  summary: 'The commands, with their usage',
  usage: '/mesh help [command]',
  args: z.object({ command: z.string().max(40).optional() }),
  argSpec: { positional: ['command'] },
  permission: 'read',
  touchesCluster: false,
  async run({ args, commands, services }): Promise<HelpResult> {
    const list = commands.map(({ name, summary, usage, aliases, examples, permission }) => ({
      name,
      summary,
      usage,
      aliases,
      examples,
      permission,
    }));
    if (args.command) {
      const wanted = args.command.toLowerCase();
      const found = list.find((c) => c.name === wanted || c.aliases?.includes(wanted));
      if (!found) {
        const near = closest(
          wanted,
          list.map((c) => c.name),
        );
        throw new UserError(
          `There is no command \`${esc(wanted)}\`.` +
            (near.length ? ` Did you mean ${near.map((n) => `\`${n}\``).join(', ')}?` : ''),
          'Type `/mesh help` for the list.',
        );
      }
      return { commands: [found], detail: found.name, policyWarning: services.policyWarning };
    }
    return { commands: list, policyWarning: services.policyWarning };
  },
  render(r) {
    const blocks: Block[] = [];
    if (r.detail) {
      const c = r.commands[0];
      if (!c) return { text: 'No such command', blocks: [] };
      blocks.push(section(`*${c.name}* — ${esc(c.summary)}\nUsage: \`${esc(c.usage)}\``));
      if (c.examples?.length) blocks.push(section(`Examples:\n${c.examples.map((e) => `• \`${esc(e)}\``).join('\n')}`));
      if (c.aliases?.length) blocks.push(context(`Also: ${c.aliases.map((a) => `\`${a}\``).join(', ')}`));
      if (c.permission === 'remediate')
        blocks.push(context('Proposes a change: someone the policy allows must approve it before it runs.'));
      return { text: `${c.name}: ${c.usage}`, blocks };
    }
    blocks.push(header('meshops — Istio operations from Slack'));
    const lines = r.commands.map((c) => `• \`${esc(c.usage)}\` — ${esc(c.summary)}`);
    // One section holds 3000 characters: the list grows with the verbs, so it is split where needed.
    let chunk: string[] = [];
    for (const line of lines) {
      if (chunk.length && [...chunk, line].join('\n').length > 2900) {
        blocks.push(section(chunk.join('\n')));
        chunk = [];
      }
      chunk.push(line);
    }
    if (chunk.length) blocks.push(section(chunk.join('\n')));
    blocks.push(
      context(
        'Type `/mesh help <command>` for examples. Mention `@meshops <command>` in a channel or send it a DM; add `--cluster <name>` to pick a cluster.',
      ),
    );
    if (r.policyWarning) blocks.push(section(`:warning: ${esc(r.policyWarning)}`));
    return { text: `meshops commands: ${r.commands.map((c) => c.name).join(', ')}`, blocks };
  },
});
