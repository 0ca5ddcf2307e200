import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { closest } from '../../src/args.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { Router, commandTable } from '../../src/router.ts';
import { defineCommand, namespaceArg, type AnyCommand, type Requester } from '../../src/command.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { section, LIMITS, blockChars, esc } from '../../src/blocks/block-kit.ts';
import { UserError } from '../../src/errors.ts';
import { allCommands } from '../../src/features/index.ts';

const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const kube = new KubeClient(kc);
const log = createLogger({ level: 'silent' });
const me: Requester = { userId: 'U1', source: 'console' };

const echo = defineCommand({
  name: 'echo',
  summary: 'says its namespace back',
  usage: '/mesh echo <namespace> [--all]',
  args: z.object({ namespace: namespaceArg, all: z.boolean().optional() }),
  argSpec: { positional: ['namespace'], options: { n: 'namespace' }, switches: { all: 'all' } },
  permission: 'read',
  touchesCluster: false,
  async run({ args, cluster }) {
    if (args.namespace === 'boom') throw new Error('kaboom');
    if (args.namespace === 'nope') throw new UserError('nope is not allowed', 'try another');
    return { ns: args.namespace, all: !!args.all, cluster: cluster.name };
  },
  render(r) {
    return { text: `ns=${r.ns} all=${r.all} cluster=${r.cluster}`, blocks: [section(`ns=${r.ns}`)] };
  },
});

const huge = defineCommand({
  name: 'huge',
  summary: 'too much output',
  usage: '/mesh huge',
  args: z.object({}),
  permission: 'read',
  touchesCluster: false,
  async run() {
    return 80;
  },
  render(n: number) {
    return { text: 'huge', blocks: Array.from({ length: n }, (_, i) => section(`row ${i} ` + 'x'.repeat(400))) };
  },
});

function router(
  commands: AnyCommand[] = [...allCommands, echo, huge],
  extra: Partial<ConstructorParameters<typeof Router>[0]> = {},
) {
  return new Router({
    commands,
    clusters: [
      { name: 'prod', kube },
      { name: 'stage', kube },
    ],
    log,
    ...extra,
  });
}

describe('router', () => {
  it('rejects a name collision at construction', () => {
    expect(() => commandTable([echo, { ...echo, name: 'other', aliases: ['echo'] }])).toThrow(/collision: "echo"/);
  });

  it('parses positional args, flags and switches', async () => {
    const r = await router().handle('echo bookinfo --all', me);
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toBe('ns=bookinfo all=true cluster=prod');
    const r2 = await router().handle('echo -n reviews', me);
    expect(r2.rendered.text).toContain('ns=reviews all=false');
  });

  it('suggests the closest verbs for an unknown verb', async () => {
    const r = await router().handle('confgi bookinfo', me);
    expect(r.outcome).toBe('user_error');
    expect(r.rendered.blocks[0]).toMatchObject({ type: 'section' });
    expect(JSON.stringify(r.rendered.blocks)).toContain('Did you mean `config`');
  });

  it('offers no guess for a word far from every verb (a long verb is not "close" to anything)', async () => {
    const r = await router().handle('frobnicate bookinfo', me);
    expect(r.outcome).toBe('user_error');
    expect(JSON.stringify(r.rendered.blocks)).not.toContain('Did you mean');
    expect(closest('frobnicate', ['certificates', 'config', 'describe'])).toEqual([]);
    expect(closest('certifcates', ['certificates', 'config'])).toEqual(['certificates']);
  });

  it('answers a bad namespace with the usage of that verb', async () => {
    const r = await router().handle('echo Bad_Namespace', me);
    expect(r.outcome).toBe('user_error');
    const text = JSON.stringify(r.rendered.blocks);
    expect(text).toContain('Bad_Namespace');
    expect(text).toContain('Usage: `/mesh echo <namespace> [--all]`');
  });

  it('refuses an over-long argument and over-long text with a clear message', async () => {
    const r = await router().handle(`echo ${'a'.repeat(300)}`, me);
    expect(r.outcome).toBe('user_error');
    expect(JSON.stringify(r.rendered.blocks)).toMatch(/300 characters long/);
    const r2 = await router().handle(`echo ${'a b '.repeat(1500)}`, me);
    expect(JSON.stringify(r2.rendered.blocks)).toMatch(/reads at most 2000/);
  });

  it('reports unknown options and extra words with the usage', async () => {
    const r = await router().handle('echo bookinfo --frobnicate', me);
    expect(JSON.stringify(r.rendered.blocks)).toContain('`--frobnicate` is not an option here');
    const r2 = await router().handle('echo a b', me);
    expect(JSON.stringify(r2.rendered.blocks)).toContain('Unexpected `b`');
  });

  it('picks a cluster with --cluster and lists known ones for an unknown name', async () => {
    const r = await router().handle('--cluster stage echo ns1', me);
    expect(r.rendered.text).toContain('cluster=stage');
    expect(JSON.stringify(r.rendered.blocks)).toContain('cluster *stage*');
    const bad = await router().handle('--cluster mars echo ns1', me);
    expect(bad.outcome).toBe('user_error');
    expect(JSON.stringify(bad.rendered.blocks)).toContain('Known clusters: `prod`, `stage`');
  });

  it('uses the channel default cluster when no flag is given', async () => {
    const r = await router(undefined, { channelCluster: (c) => (c === 'C9' ? 'stage' : undefined) }).handle(
      'echo ns1',
      { ...me, channelId: 'C9' },
    );
    expect(r.rendered.text).toContain('cluster=stage');
  });

  it('turns a UserError into its words and a crash into an apology with a reference', async () => {
    const u = await router().handle('echo nope', me);
    expect(u.outcome).toBe('user_error');
    expect(JSON.stringify(u.rendered.blocks)).toContain('nope is not allowed');
    const e = await router().handle('echo boom', me);
    expect(e.outcome).toBe('error');
    const text = JSON.stringify(e.rendered.blocks);
    expect(text).toMatch(/ref `[0-9a-f]{8}`/);
    expect(text).not.toContain('kaboom');
  });

  it('names an unreachable API server and the cause, instead of apologising, and logs the cause', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const deadKc = new KubeConfig();
    deadKc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}` }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const lines: string[] = [];
    const dest = new Writable({ write: (c, _e, cb) => (lines.push(...String(c).split('\n').filter(Boolean)), cb()) });
    const r = await new Router({
      commands: allCommands,
      clusters: [{ name: 'prod', kube: new KubeClient(deadKc) }],
      log: createLogger({ level: 'info', destination: dest }),
    }).handle('config bookinfo', me);
    expect(r.outcome).toBe('error');
    const text = JSON.stringify(r.rendered.blocks);
    expect(text).toContain(`Cannot reach the Kubernetes API at https://127.0.0.1:${port}: connection refused`);
    expect(text).not.toContain('something went wrong');
    const logged = lines
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'answering config: the cluster API is unreachable');
    expect(JSON.stringify(logged?.err)).toContain('ECONNREFUSED');
    expect(logged?.code).toBe('kube_unreachable');
  });

  it('lets the policy refuse before running', async () => {
    const r = await router(undefined, {
      authorize: (_u, cmd) => (cmd.name === 'echo' ? 'echo is for SREs only' : undefined),
    }).handle('echo ns1', me);
    expect(r.outcome).toBe('refused');
    expect(r.rendered.text).toContain('echo is for SREs only');
  });

  it('keeps every answer inside Slack limits, moving the rest into a file', async () => {
    const r = await router().handle('huge', me);
    expect(r.rendered.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
    expect(blockChars(r.rendered.blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);
    expect(r.rendered.files?.[0]?.content).toContain('row 79');
    expect(r.rendered.text.length).toBeGreaterThan(0);
  });

  it('help lists every verb with its usage; help <verb> gives details', async () => {
    const r = await router().handle('help', me);
    const text = JSON.stringify(r.rendered.blocks);
    for (const c of allCommands) expect(text).toContain(JSON.stringify(esc(c.usage)).slice(1, -1));
    const one = await router().handle('help config', me);
    expect(JSON.stringify(one.rendered.blocks)).toContain('/mesh config bookinfo');
  });

  it('reports whether a command touches the cluster before running it', async () => {
    const p = await router().prepare('config bookinfo', me);
    expect('touchesCluster' in p && p.touchesCluster).toBe(true);
    const h = await router().prepare('help', me);
    expect('touchesCluster' in h && h.touchesCluster).toBe(false);
  });
});
