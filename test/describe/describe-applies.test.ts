// Issue 14, items 2 and 3, through Slack (the real Bolt app against the sandbox's demo mesh and simulated
// istiods): `describe` shows only what applies, and says when a proxy has not received what it describes.
//   * A VirtualService bound only to gateways (no `mesh`) is not sidecar routing: it is listed under "Exposed
//     through gateway …" for the workloads it routes to, and not at all for the others.
//   * The effective PeerAuthentication is stated once per port with the object that decided it; no workload
//     line contradicts the port lines.
//   * `describe app=reviews` over pods in different subsets says so and tells them apart.
//   * A STALE or DISCONNECTED proxy: the answer says the config described is declared, not enforced there.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type MtlsBot, slash, startMtlsBot, text } from '../mtls/bot.ts';

let bot: MtlsBot;

beforeAll(async () => {
  bot = await startMtlsBot();
});

afterAll(async () => {
  await bot?.close();
});

/** The mrkdwn of the section whose title (first bold words) starts with `title`, or undefined. */
function sectionText(blocks: unknown[] | undefined, title: string): string | undefined {
  for (const b of (blocks ?? []) as Array<{ type: string; text?: { text?: string } }>) {
    const t = b.text?.text;
    if (b.type === 'section' && t?.startsWith(`*${title}`)) return t;
  }
  return undefined;
}

const podOf = (prefix: string) =>
  bot.sb.store.list('Pod', 'bookinfo').find((p) => p.metadata.name.startsWith(prefix))!.metadata.name;

describe('describe shows only what applies (item 2)', () => {
  it('a gateway-only VirtualService is gateway exposure for the pod it routes to, not sidecar routing', async () => {
    const msg = await slash(bot, 'describe productpage-v1 -n bookinfo');
    const sidecar = sectionText(msg.blocks, 'VirtualServices')!;
    expect(sidecar).toContain('None apply to sidecar traffic to this pod');
    expect(sidecar).not.toContain('bookinfo/bookinfo');
    const exposed = sectionText(msg.blocks, 'Exposed through gateway bookinfo/bookinfo-gateway')!;
    expect(exposed).toContain('*VirtualService bookinfo/bookinfo*');
    expect(exposed).toContain('applies to gateways bookinfo/bookinfo-gateway');
    expect(exposed).toContain('→ HTTP route #1: URI is /productpage');
  });

  it('and is not listed at all for a workload it does not route to, though its hosts ("*") cover it', async () => {
    const msg = await slash(bot, 'describe reviews-v1 -n bookinfo');
    expect(text(msg)).not.toContain('VirtualService bookinfo/bookinfo*');
    expect(sectionText(msg.blocks, 'Exposed through gateway')).toBeUndefined();
    // Its own sidecar VirtualService is still there, under VirtualServices.
    expect(sectionText(msg.blocks, 'VirtualServices')).toContain('*VirtualService bookinfo/reviews*');
    const svc = await slash(bot, 'describe service reviews.bookinfo');
    expect(text(svc)).not.toContain('VirtualService bookinfo/bookinfo*');
  });

  it('`describe app=reviews` over pods in different subsets says so, and how each differs', async () => {
    const msg = await slash(bot, 'describe app=reviews -n bookinfo');
    const t = text(msg);
    expect(t).not.toContain('stands for the others');
    expect(t).toContain('3 pods in 3 different configurations');
    const differ = sectionText(msg.blocks, 'Not every pod gets this configuration (3 pods)')!;
    expect(differ).toContain(`\`${podOf('reviews-v2-')}\`: subsets of DestinationRule bookinfo/reviews: \`v2\``);
    expect(differ).toContain(`\`${podOf('reviews-v3-')}\`: subsets of DestinationRule bookinfo/reviews: \`v3\``);
    expect(differ).toContain('(here: `v1`)');
    // The sidecar VirtualService sends everything to v1: the v2 and v3 pods get no route of it.
    expect(differ).toContain('VirtualService bookinfo/reviews: no route reaches it (here: reached by HTTP route #1)');
  });

  it('states the effective PeerAuthentication once per port, with the object that decided it', async () => {
    const at = '2025-01-01T00:00:00Z';
    bot.sb.store.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'bookinfo', creationTimestamp: at },
      spec: { mtls: { mode: 'STRICT' } },
    });
    bot.sb.store.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'ratings-legacy', namespace: 'bookinfo', creationTimestamp: at },
      spec: {
        selector: { matchLabels: { app: 'ratings' } },
        mtls: { mode: 'PERMISSIVE' },
        portLevelMtls: { 9080: { mode: 'STRICT' } },
      },
    });
    const msg = await slash(bot, 'describe ratings-v1 -n bookinfo');
    const pa = sectionText(msg.blocks, 'Effective PeerAuthentication')!;
    expect(pa.split('\n')).toEqual([
      '*Effective PeerAuthentication*',
      '• port 9080: *STRICT*, decided by PeerAuthentication bookinfo/ratings-legacy (port-level)',
      '• any other port: *PERMISSIVE*, decided by PeerAuthentication bookinfo/ratings-legacy (workload selector)',
      '_overridden:_ bookinfo/default (namespace-wide) sets STRICT; a narrower policy decides',
    ]);
    // The fallback text agrees with the port lines.
    expect(msg.text).toContain('mTLS STRICT,');
    bot.sb.store.delete('PeerAuthentication', 'bookinfo', 'ratings-legacy');
    bot.sb.store.delete('PeerAuthentication', 'bookinfo', 'default');
  });
});

describe('describe says which proxies do not have the config it describes (item 3)', () => {
  it('names the STALE and the DISCONNECTED proxy; a synced one is said to be synced', async () => {
    const synced = await slash(bot, 'describe reviews-v1 -n bookinfo');
    expect(text(synced)).toContain('Proxy config: SYNCED with istiod-');
    expect(text(synced)).not.toContain('Declared, not enforced');

    const touched = bot.fleet.inject({ staleLds: ['bookinfo/reviews-v2-'], disconnected: ['bookinfo/details-v1-'] });
    expect(touched).toHaveLength(2);

    const reviews = await slash(bot, 'describe app=reviews -n bookinfo');
    expect(text(reviews)).toContain(
      ':warning: *Declared, not enforced:* 1 of 3 proxies does not have the current config',
    );
    // The fleet pushed 4 minutes back on the real clock: a slow run reads a few seconds more.
    expect(text(reviews)).toMatch(
      new RegExp(`${podOf('reviews-v2-')}: STALE on LDS \\(sent 4m(\\d+s)? ago, not acknowledged\\)`),
    );
    expect(reviews.text).toContain('1 proxy without the current config');

    const details = await slash(bot, 'describe details-v1 -n bookinfo');
    expect(text(details)).toContain('this proxy does not have the current config');
    expect(text(details)).toContain(`${podOf('details-v1-')}: DISCONNECTED from istiod`);
    expect(text(details)).toContain('/mesh stale bookinfo');

    const svc = await slash(bot, 'describe service details.bookinfo');
    expect(text(svc)).toContain('DISCONNECTED from istiod');
  });
});
