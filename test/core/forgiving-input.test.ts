// Issue 14 item 6, through the router on the demo mesh: istioctl's habits work (proxy-status, ps, x describe),
// autocorrected dashes are flags, conflicting arguments are refused, a namespace that does not exist is said so
// in every verb that takes one, and no validation error speaks zod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { normalizeDashes, tokenize } from '../../src/args.ts';
import type { Requester } from '../../src/command.ts';
import { loadSettings } from '../../src/config.ts';
import { connect, type Connection } from '../../src/kube/connect.ts';
import { createLogger } from '../../src/log.ts';
import { assemble, type Meshops } from '../../src/meshops.ts';
import type { Reply } from '../../src/router.ts';

let connection: Connection;
let meshops: Meshops;
const sre: Requester = { userId: 'U0SRE', channelId: 'C0OPS', source: 'slack' };

beforeAll(async () => {
  const settings = loadSettings({ MESHOPS_KUBE: 'demo' });
  connection = await connect(settings);
  meshops = await assemble(settings, connection, createLogger({ level: 'silent' }));
}, 30_000);

afterAll(async () => {
  await meshops?.approvals?.stop();
  await connection?.close();
});

const ask = (text: string): Promise<Reply> => meshops.router.handle(text, sre);
const words = (r: Reply) => `${r.rendered.text}\n${JSON.stringify(r.rendered.blocks)}`;

describe("istioctl's habits", () => {
  it('proxy-status and ps are status', async () => {
    const plain = await ask('status bookinfo');
    for (const text of ['proxy-status bookinfo', 'ps bookinfo', 'istioctl proxy-status bookinfo']) {
      const r = await ask(text);
      expect(r.outcome).toBe('ok');
      expect(r.command).toBe('status');
      expect(r.rendered.text).toBe(plain.rendered.text);
    }
  });

  it('proxy-status <pod>.<ns> (and <pod> -n <ns>) shows that one pod', async () => {
    const all = await ask('status bookinfo');
    const pod = /productpage-v1-[a-z0-9]+-[a-z0-9]+/.exec(words(all))?.[0] as string;
    expect(pod).toBeDefined();
    for (const text of [`proxy-status ${pod}.bookinfo`, `ps ${pod} -n bookinfo`, `ps pod/${pod}.bookinfo`]) {
      const r = await ask(text);
      expect(r.outcome).toBe('ok');
      expect(r.rendered.text).toMatch(new RegExp(`^1 proxy of ${pod} in bookinfo`));
      expect(words(r)).toContain(pod);
      expect(words(r)).not.toMatch(/reviews-v1-/);
    }
    // A Deployment's name finds its pod, as describe reads a bare name.
    expect((await ask('ps productpage-v1.bookinfo')).rendered.text).toMatch(/^1 proxy of productpage-v1 in bookinfo/);
    const none = await ask('ps nosuch.bookinfo');
    expect(none.outcome).toBe('user_error');
    expect(words(none)).toContain('No proxy of a pod `nosuch` in namespace `bookinfo`');
    expect(words(none)).toContain(pod);
  });

  it('x describe … and experimental describe … are describe', async () => {
    const plain = await ask('describe pod productpage-v1 -n bookinfo');
    expect(plain.outcome).toBe('ok');
    for (const text of [
      'x describe pod productpage-v1 -n bookinfo',
      'experimental describe pod productpage-v1 -n bookinfo',
    ]) {
      const r = await ask(text);
      expect(r.command).toBe('describe');
      expect(r.outcome).toBe('ok');
      expect(r.rendered.text).toBe(plain.rendered.text);
    }
    expect((await ask('istioctl x describe service reviews.bookinfo')).command).toBe('describe');
    // A prefix alone is not a command.
    expect(words(await ask('x'))).toContain('`x` is not a meshops command');
  });
});

describe('autocorrected dashes', () => {
  it('reads —all, –n, −n and other Unicode dashes as the flags that were typed', async () => {
    expect(normalizeDashes('—all')).toBe('--all');
    expect(normalizeDashes('–n')).toBe('-n');
    expect(normalizeDashes('−n')).toBe('-n');
    expect(normalizeDashes('‐‐namespace=shop')).toBe('--namespace=shop');
    expect(normalizeDashes('－n')).toBe('-n');
    expect(normalizeDashes('reviews–v2')).toBe('reviews–v2');
    expect(tokenize('restart x —why "— flaky"')).toEqual(['restart', 'x', '--why', '— flaky']);
    const all = await ask('analyze --all');
    const dashed = await ask('analyze —all');
    expect(dashed.outcome).toBe('ok');
    expect(dashed.rendered.text).toBe(all.rendered.text);
    const shop = await ask('stale –n shop');
    expect(shop.outcome).toBe('ok');
    expect(shop.rendered.text).toBe((await ask('stale -n shop')).rendered.text);
    expect((await ask('mtls shop —window 1s')).outcome).toBe('ok');
  }, 30_000);
});

describe('conflicting arguments', () => {
  it('refuses two different namespaces, and accepts the same one twice', async () => {
    const r = await ask('stale bookinfo -n shop');
    expect(r.outcome).toBe('user_error');
    expect(words(r)).toContain('`bookinfo` and `-n shop` both give the namespace, and they differ.');
    expect(words(r)).toContain('Usage: `/mesh stale [namespace]`');
    for (const text of ['config -n shop --namespace bookinfo', 'analyze bookinfo --namespace=shop', 'audit -n a b']) {
      const c = await ask(text);
      expect(c.outcome).toBe('user_error');
      expect(words(c)).toMatch(/both give the namespace, and they differ/);
    }
    expect((await ask('stale bookinfo -n bookinfo')).outcome).toBe('ok');
    expect(words(await ask('analyze bookinfo --all'))).toContain('Give a namespace or `--all`, not both.');
    expect(words(await ask('mtls shop --strict --rollback'))).toContain('not both');
  });
});

describe('a namespace that does not exist', () => {
  // Every verb that takes a namespace, in each way it can be given.
  const asks = [
    'stale nope',
    'status nope',
    'ps pod-x.nope',
    'config nope',
    'analyze nope',
    'audit nope',
    'audit -n nope',
    'describe pod productpage-v1 -n nope',
    'describe productpage-v1.nope',
    'describe service reviews.nope',
    'describe app=reviews -n nope',
    'mtls nope',
    'restart deployment/reviews-v2 -n nope',
    'restart reviews-v2.nope',
    'logs reviews-v1 -n nope',
    'logs productpage-v1.nope',
    'dashboard kiali -n nope',
    'stats productpage-v1.nope',
    'certs app=istio-ingressgateway -n nope',
    'pc clusters productpage-v1.nope',
    'dump productpage-v1 -n nope',
    'can productpage reviews -n nope',
    'why reviews -n nope',
    'canary reviews -n nope',
  ];
  it.each(asks)('%s: says so, and lists the namespaces there are', async (text) => {
    const r = await ask(text);
    expect(r.outcome).toBe('user_error');
    expect(words(r)).toContain('There is no namespace `nope` in this cluster.');
    // The cluster's own namespaces, sorted, as the API server lists them now (the demo gains namespaces over time).
    const names = (await connection.clusters[0]!.kube.list('Namespace')).map((n) => n.metadata.name).sort();
    expect(names).toContain('bookinfo');
    expect(words(r)).toContain(`Namespaces: ${names.map((n) => `\`${n}\``).join(', ')}`);
  });

  it('every command that takes a namespace is among those asked', () => {
    const verbs = new Set(asks.map((a) => a.split(' ')[0]));
    for (const c of meshops.router.commands)
      if (c.argSpec?.options?.n || c.argSpec?.positional?.includes('namespace'))
        expect([c.name, ...(c.aliases ?? [])].some((n) => verbs.has(n))).toBe(true);
  });
});

/** zod's own phrasing, which must never reach a person. */
const ZOD =
  /Too (big|small)|Invalid (input|string|option|type|format)|expected (string|number|array|boolean|one of)|received|must match pattern|<=|>=|&lt;=|&gt;=|Unrecognized key/i;

describe('validation errors in our words', () => {
  const bad = [
    'a'.repeat(64),
    'a'.repeat(253),
    'Bad_Name',
    'UPPER',
    'x.',
    '.x',
    '=',
    'app=',
    `app=${'v'.repeat(64)}`,
    `${'k'.repeat(70)}=v`,
    '😀',
    '""',
    'a/b/c',
    '-',
    '9',
  ];

  it("runs every command's arguments with bad values and never shows zod's phrasing", async () => {
    const texts: string[] = [];
    for (const c of meshops.router.commands) {
      const spec = c.argSpec ?? {};
      for (const v of bad) {
        const q = v.startsWith('"') ? v : `"${v}"`;
        texts.push(`${c.name} ${q}`);
        for (const flag of Object.keys({ ...spec.options, ...spec.repeated })) texts.push(`${c.name} --${flag} ${q}`);
        if (c.name === 'describe')
          texts.push(
            `describe pod ${q}`,
            `describe service ${q}`,
            `describe ${q} -n bookinfo`,
            `describe a b c d ${q}`,
          );
        if (c.name === 'restart') texts.push(`restart ${q} -n bookinfo`, `restart deployment/${v} -n bookinfo`);
        if (c.name === 'status') texts.push(`status ${q} -n bookinfo`, `status ${v}.bookinfo`);
      }
      texts.push(`${c.name} --why ${'w'.repeat(250)} ${'w'.repeat(250)}`, `${c.name} one two three four five six`);
    }
    texts.push(`restart x -n bookinfo --why "${'w '.repeat(300)}"`, `mtls shop --window ${'9'.repeat(30)}`);
    let userErrors = 0;
    for (const text of texts) {
      const r = await ask(text);
      const w = words(r);
      if (ZOD.test(w)) throw new Error(`zod's words leaked for \`${text}\`:\n${w}`);
      if (r.outcome === 'user_error') userErrors++;
    }
    expect(userErrors).toBeGreaterThan(texts.length / 2);
  }, 120_000);

  it('says what the limit is, in words: "a namespace is at most 63 characters"', async () => {
    const r = await ask(`stale ${'a'.repeat(64)}`);
    expect(words(r)).toContain('is 64 characters long; a namespace is at most 63 characters.');
    const help = await ask(`help ${'a'.repeat(50)}`);
    expect(words(help)).toContain('is 50 characters long; a command name is at most 40 characters.');
    const many = await ask('describe a b c d e');
    expect(words(many)).toContain('That is too many words for the thing to describe: at most 4.');
    const shape = await ask('config Bad_Name');
    expect(words(shape)).toContain(
      "The namespace `Bad_Name` is not valid: use lower-case letters, digits and '-', starting and ending with a letter or digit.",
    );
    const missing = await ask('restart');
    expect(words(missing)).toContain('The target is missing.');
  });
});
