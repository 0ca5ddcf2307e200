// `/mesh why` without a cluster: how findings are ranked (a finding that explains a failure seen beats a
// stronger one that explains none; an analyzer warning with no symptom comes last), analyzer echoes folded into
// the diagnostic, the words of a question, the 5xx grouped into symptoms and tied to the config that explains
// them (ISTIO_MUTUAL toward a pod without a sidecar, a subset that selects nothing) and the look-alikes that must
// not be flagged, a check that times out or throws, and the answer's words.
import { describe, expect, it } from '@jest/globals';
import { LIMITS, blockChars, fitToSlack, renderedToText } from '../../src/blocks/block-kit.ts';
import { onlyNamespaceWith, timed } from '../../src/features/why/why-checks.ts';
import {
  type CheckOutcome,
  type Symptom,
  type WhyFinding,
  assemble,
  foldAnalyzerEchoes,
  isCause,
  rankFindings,
} from '../../src/features/why/why-rank.ts';
import { checkEndpoints, checkMtls, symptomsFromLogs } from '../../src/features/why/why-traffic.ts';
import { renderWhy } from '../../src/features/why/why-words.ts';
import { parseWhyWords } from '../../src/features/why/why.ts';
import { UserError } from '../../src/errors.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const finding = (over: Partial<WhyFinding> & Pick<WhyFinding, 'check' | 'title'>): WhyFinding => ({
  cause: 'because',
  evidence: [],
  confidence: 'medium',
  pods: [],
  explains: [],
  ...over,
});

const symptom = (key: string, count: number, over: Partial<Symptom> = {}): Symptom => ({
  key,
  text: key,
  count,
  flags: [],
  ...over,
});

describe('ranking', () => {
  const uf = symptom('outbound|503|URX,UF|ledger.checkout|', 4);
  const uh = symptom('outbound|503|UH|payments.checkout|v2', 1);

  it('a medium finding that explains a 503 seen outranks a high one that explains nothing seen', () => {
    const ranked = rankFindings(
      [
        finding({ check: 'sidecar-resources', title: 'limits low', confidence: 'high' }),
        finding({ check: 'mtls', title: 'ISTIO_MUTUAL to no sidecar', explains: [uf.key] }),
      ],
      [uf],
    );
    expect(ranked.map((f) => f.title)).toEqual(['ISTIO_MUTUAL to no sidecar', 'limits low']);
  });

  it('an analyzer warning with no symptom comes last, after a STALE proxy', () => {
    const ranked = rankFindings(
      [
        finding({ check: 'analyzers', title: 'IST0101', confidence: 'low' }),
        finding({ check: 'proxy-sync', title: 'STALE', confidence: 'medium' }),
        finding({ check: 'endpoints', title: 'subset v2 empty', confidence: 'high', explains: [uh.key] }),
      ],
      [uh],
    );
    expect(ranked.map((f) => f.title)).toEqual(['subset v2 empty', 'STALE', 'IST0101']);
  });

  it('equal findings: the one that explains more failed requests first', () => {
    const ranked = rankFindings(
      [
        finding({ check: 'endpoints', title: 'a: explains 1', confidence: 'high', explains: [uh.key] }),
        finding({ check: 'endpoints', title: 'b: explains 4', confidence: 'high', explains: [uf.key] }),
      ],
      [uf, uh],
    );
    expect(ranked[0]?.title).toBe('b: explains 4');
  });

  it('a diagnostic that saw the failure itself (runtime) beats an analyzer error on the same thing', () => {
    const ranked = rankFindings(
      [
        finding({ check: 'analyzers', title: 'MSH0001', confidence: 'medium' }),
        finding({ check: 'sidecar-resources', title: 'OOM', confidence: 'high', explains: ['runtime'] }),
      ],
      [],
    );
    expect(ranked[0]?.title).toBe('OOM');
    expect(isCause(ranked[0], [])).toBe(true);
    expect(isCause(finding({ check: 'analyzers', title: 'x', confidence: 'low' }), [])).toBe(false);
  });

  it('symptoms no finding explains are kept for the answer', () => {
    const r = assemble(
      'x',
      { via: 'x', namespace: 'n', pods: [], owners: [] },
      [uf, uh],
      [
        {
          check: 'mtls',
          outcome: 'found',
          findings: [finding({ check: 'mtls', title: 'm', explains: [uf.key] })],
          notes: [],
          unread: [],
          ms: 1,
        },
      ],
      5,
    );
    expect(r.unexplained.map((s) => s.key)).toEqual([uh.key]);
  });

  it('an analyzer message that says what a diagnostic says on the same pods becomes its evidence', () => {
    const folded = foldAnalyzerEchoes([
      finding({ check: 'sidecar-resources', title: 'OOM', pods: ['p1'] }),
      finding({
        check: 'analyzers',
        title: 'MSH0001 SidecarOOMKilled on Pod n/p1',
        pods: ['p1'],
        sameAs: 'sidecar-resources',
      }),
      finding({ check: 'analyzers', title: 'MSH0002 on Pod n/p2', pods: ['p2'], sameAs: 'startup-race' }),
    ]);
    expect(folded.map((f) => f.title)).toEqual(['OOM', 'MSH0002 on Pod n/p2']);
    expect(folded[0]?.evidence).toEqual(['the analyzers agree: MSH0001 SidecarOOMKilled on Pod n/p1']);
  });

  it('an analyzer message on the object a NACK blames backs the NACK up; on another object it stays', () => {
    const folded = foldAnalyzerEchoes([
      finding({ check: 'proxy-sync', title: 'NACK', objects: ['DestinationRule/b/reviews-affinity'] }),
      finding({
        check: 'analyzers',
        title: 'IST0106 on reviews-affinity',
        objects: ['DestinationRule/b/reviews-affinity'],
      }),
      finding({ check: 'analyzers', title: 'IST0101 on other', objects: ['VirtualService/b/other'] }),
    ]);
    expect(folded.map((f) => f.title)).toEqual(['NACK', 'IST0101 on other']);
    expect(folded[0]?.evidence).toEqual(['the analyzers agree: IST0106 on reviews-affinity']);
  });
});

describe('the words of a question', () => {
  it.each([
    [
      ['is', 'reviews', 'failing', 'in', 'bookinfo?'],
      undefined,
      { target: 'reviews', service: false, namespace: 'bookinfo' },
    ],
    [['reviews'], 'bookinfo', { target: 'reviews', service: false, namespace: 'bookinfo' }],
    [['svc/payments'], 'checkout', { target: 'svc payments', service: true, namespace: 'checkout' }],
    [
      ['are', 'the', 'reviews', 'pods', 'crashing', 'in', 'namespace', 'bookinfo'],
      undefined,
      { target: 'reviews', service: false, namespace: 'bookinfo' },
    ],
    [
      ['pod', 'reviews-v1-abc', 'not', 'ready'],
      'bookinfo',
      { target: 'pod reviews-v1-abc', service: false, namespace: 'bookinfo' },
    ],
    [['app=reviews'], undefined, { target: 'app=reviews', service: false }],
    [['reviews', 'bookinfo'], undefined, { target: 'reviews', service: false, namespace: 'bookinfo' }],
  ])('%j -n %s', (words, ns, want) => {
    expect(parseWhyWords(words, ns)).toEqual(want);
  });

  it('says what it could not read, and asks for a name when there is none', () => {
    expect(() => parseWhyWords(['reviews', 'banana', 'split'])).toThrow(/not `banana split`/);
    expect(() => parseWhyWords(['is', 'failing'])).toThrow(UserError);
    expect(() => parseWhyWords(['reviews', 'in', 'shop'], 'bookinfo')).toThrow(/Two namespaces/);
    expect(() => parseWhyWords(['reviews', 'shop'], 'bookinfo')).toThrow(/not `shop`/);
  });
});

const line = (code: number, flags: string, cluster: string) =>
  `[2026-12-02T10:00:00.000Z] "POST /charge HTTP/1.1" ${code} ${flags} via_upstream - "-" 0 19 1 - "-" "curl" "id" "x:8080" "10.0.0.9:8080" ${cluster} 10.0.0.1:40000 10.96.0.9:8080 10.0.0.1:39999 - default`;

const pod = (name: string, labels: Record<string, string>, sidecar: boolean, ready = true): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels },
  spec: { containers: [{ name: 'app' }, ...(sidecar ? [{ name: 'istio-proxy' }] : [])] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const service = (name: string, selector: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { selector, ports: [{ name: 'http', port: 8080 }] },
});
const dr = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace: 'shop' },
  spec,
});

describe('traffic: symptoms and the config that explains them', () => {
  const logs = {
    'front-1': [
      line(503, 'URX,UF', 'outbound|8080||ledger.shop.svc.cluster.local'),
      line(503, 'URX,UF', 'outbound|8080||ledger.shop.svc.cluster.local'),
      line(503, 'UH', 'outbound|8080|v2|cart.shop.svc.cluster.local'),
      line(200, '-', 'outbound|8080|v1|cart.shop.svc.cluster.local'),
      'not an access-log line',
    ].join('\n'),
  };

  it('groups the 5xx by status, flags and destination, and counts the access-log lines', () => {
    const { symptoms, accessLines } = symptomsFromLogs(logs);
    expect(accessLines).toBe(4);
    expect(symptoms.map((s) => [s.text, s.count])).toEqual([
      ['503 URX,UF toward ledger.shop', 2],
      ['503 UH toward cart.shop subset v2', 1],
    ]);
  });

  it('ISTIO_MUTUAL toward a pod without a sidecar explains the URX,UF; toward sidecar pods it is not flagged', () => {
    const { symptoms } = symptomsFromLogs(logs);
    const snapshot = new MeshSnapshot([
      pod('ledger-1', { app: 'ledger' }, false),
      service('ledger', { app: 'ledger' }),
      dr('ledger', { host: 'ledger', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
      pod('cart-1', { app: 'cart', version: 'v1' }, true),
      service('cart', { app: 'cart' }),
      dr('cart', { host: 'cart', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
    ]);
    const ledger = checkMtls(snapshot, { service: 'ledger', namespace: 'shop' }, symptoms);
    expect(ledger.findings).toHaveLength(1);
    expect(ledger.findings[0]).toMatchObject({ check: 'mtls', confidence: 'high', pods: ['ledger-1'] });
    expect(ledger.findings[0]?.explains).toEqual([symptoms[0]?.key]);
    const cart = checkMtls(snapshot, { service: 'cart', namespace: 'shop' }, symptoms);
    expect(cart.findings).toEqual([]);
    expect(cart.notes[0]).toContain('no DestinationRule TLS mode disagrees');
  });

  it('DestinationRule against PeerAuthentication: DISABLE toward STRICT and ISTIO_MUTUAL toward DISABLE; PERMISSIVE is fine', () => {
    const pa = (name: string, mode: string): KubeObject => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name, namespace: 'shop' },
      spec: { selector: { matchLabels: { app: name } }, mtls: { mode } },
    });
    const snapshot = new MeshSnapshot([
      pod('strict-1', { app: 'strict' }, true),
      service('strict', { app: 'strict' }),
      pa('strict', 'STRICT'),
      dr('strict', { host: 'strict', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
      pod('off-1', { app: 'off' }, true),
      service('off', { app: 'off' }),
      pa('off', 'DISABLE'),
      dr('off', {
        host: 'off',
        trafficPolicy: { portLevelSettings: [{ port: { number: 8080 }, tls: { mode: 'ISTIO_MUTUAL' } }] },
      }),
      pod('open-1', { app: 'open' }, true),
      service('open', { app: 'open' }),
      pa('open', 'PERMISSIVE'),
      dr('open', { host: 'open', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
    ]);
    const titles = (svc: string) =>
      checkMtls(snapshot, { service: svc, namespace: 'shop' }, []).findings.map((f) => [f.title, f.confidence]);
    expect(titles('strict')).toEqual([
      ['DestinationRule shop/strict turns TLS off toward strict.shop, whose PeerAuthentication is STRICT', 'medium'],
    ]);
    expect(titles('off')).toEqual([
      ['DestinationRule shop/off sends ISTIO_MUTUAL to off.shop, whose PeerAuthentication is DISABLE', 'medium'],
    ]);
    expect(titles('open')).toEqual([]);
  });

  it('a subset that selects no pod explains the UH toward it; without a failure seen it is only medium', () => {
    const { symptoms } = symptomsFromLogs(logs);
    const snapshot = new MeshSnapshot([
      pod('cart-1', { app: 'cart', version: 'v1' }, true),
      service('cart', { app: 'cart' }),
      dr('cart', {
        host: 'cart',
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      }),
    ]);
    const seen = checkEndpoints(snapshot, { service: 'cart', namespace: 'shop' }, symptoms, false);
    expect(seen.findings.map((f) => [f.title, f.confidence])).toEqual([
      ['subset v2 of DestinationRule shop/cart selects no pod', 'high'],
    ]);
    expect(seen.findings[0]?.explains).toEqual([symptoms[1]?.key]);
    const unseen = checkEndpoints(snapshot, { service: 'cart', namespace: 'shop' }, [], false);
    expect(unseen.findings[0]?.confidence).toBe('medium');
  });

  it('a Service whose pods are all unready has no endpoint; a ready one is fine', () => {
    const snapshot = new MeshSnapshot([pod('p-1', { app: 'p' }, true, false), service('p', { app: 'p' })]);
    const r = checkEndpoints(snapshot, { service: 'p', namespace: 'shop' }, [], true);
    expect(r.findings[0]?.title).toBe('Service p.shop has no ready endpoint');
    const ok = new MeshSnapshot([pod('p-1', { app: 'p' }, true, true), service('p', { app: 'p' })]);
    expect(checkEndpoints(ok, { service: 'p', namespace: 'shop' }, [], true).findings).toEqual([]);
  });
});

describe('no namespace given', () => {
  const named = (kind: string, ns: string, name: string): KubeObject => ({
    apiVersion: 'v1',
    kind,
    metadata: { name, namespace: ns },
  });
  const snapshot = new MeshSnapshot([
    named('Service', 'bookinfo', 'reviews'),
    named('Service', 'shop', 'cart'),
    named('Service', 'legacy', 'cart'),
  ]);

  it('the one namespace that has the name; none when two have it, or the name says its namespace', () => {
    expect(onlyNamespaceWith(snapshot, 'reviews')).toBe('bookinfo');
    expect(onlyNamespaceWith(snapshot, 'svc reviews')).toBe('bookinfo');
    expect(onlyNamespaceWith(snapshot, 'cart')).toBeUndefined();
    expect(onlyNamespaceWith(snapshot, 'reviews.shop')).toBeUndefined();
    expect(onlyNamespaceWith(snapshot, 'nothere')).toBeUndefined();
  });
});

describe('a check that fails', () => {
  it('a timeout becomes could-not-check with the reason, not silence', async () => {
    const out = await timed('proxy-sync', 50, () => new Promise(() => {}));
    expect(out).toMatchObject({ check: 'proxy-sync', outcome: 'could-not-check' });
    expect(out.outcome === 'could-not-check' && out.reason).toBe('it did not answer within 50 ms');
  });

  it('an error becomes could-not-check with its message', async () => {
    const out = await timed('analyzers', 1000, async () => {
      throw new Error('forbidden: cannot list AuthorizationPolicy');
    });
    expect(out.outcome === 'could-not-check' && out.reason).toBe('forbidden: cannot list AuthorizationPolicy');
  });
});

describe('the answer', () => {
  const target = { via: 'Deployment shop/cart', namespace: 'shop', pods: ['cart-1'], owners: ['Deployment/cart'] };
  const passed: CheckOutcome = { check: 'traffic', outcome: 'nothing-found', notes: ['0 5xx'], unread: [], ms: 3 };
  const failed: CheckOutcome = {
    check: 'proxy-sync',
    outcome: 'could-not-check',
    reason: 'no ready istiod to ask',
    notes: [],
    unread: [],
    ms: 3,
  };

  it('nothing found: says so, and says which checks could not run', () => {
    const text = renderedToText(renderWhy(assemble('cart', target, [], [passed, failed], 10)));
    expect(text).toContain('*Nothing wrong found* for Deployment shop/cart');
    expect(text).toContain('not a clean bill of health');
    expect(text).toContain('proxy sync status and NACKs: no ready istiod to ask');
  });

  it('the cause first with its confidence, evidence and fix; the rest numbered after it', () => {
    const cause = finding({
      check: 'sidecar-resources',
      title: 'istio-proxy is OOM-killed',
      confidence: 'high',
      explains: ['runtime'],
      evidence: ['restarted 4 times'],
      fix: {
        kind: 'strategic-merge-patch',
        target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
        patch: {},
        why: 'sets all four annotations',
      },
    });
    const other = finding({ check: 'analyzers', title: 'IST0101', confidence: 'low' });
    const r = assemble(
      'cart',
      target,
      [],
      [
        passed,
        { check: 'sidecar-resources', outcome: 'found', findings: [other, cause], notes: [], unread: [], ms: 1 },
      ],
      10,
    );
    const rendered = renderWhy(r);
    const text = renderedToText(rendered);
    expect(rendered.text).toBe('Why Deployment shop/cart: most likely istio-proxy is OOM-killed (high confidence)');
    expect(text.indexOf('Most likely cause:* istio-proxy is OOM-killed')).toBeLessThan(text.indexOf('*2.*'));
    expect(text).toContain('*Fix:* patch Deployment shop/cart: sets all four annotations');
    expect(text).toContain('• restarted 4 times');
    expect(text).toMatch(/\*2\.\* \S+ IST0101\n_low confidence · no failure seen that it explains/);
  });

  it('forty findings with long evidence still fit one Slack message, the cause first, the rest in a file', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      finding({
        check: i === 7 ? 'mtls' : 'analyzers',
        title: `finding ${i} ${'x'.repeat(120)}`,
        confidence: i === 7 ? 'high' : 'low',
        explains: i === 7 ? ['runtime'] : [],
        evidence: Array.from({ length: 12 }, (_, j) => `evidence ${j} ${'y'.repeat(500)}`),
      }),
    );
    const r = assemble(
      'cart',
      target,
      [],
      [{ check: 'analyzers', outcome: 'found', findings: many, notes: [], unread: [], ms: 1 }],
      10,
    );
    const fitted = fitToSlack(renderWhy(r));
    expect(fitted.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
    expect(blockChars(fitted.blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);
    for (const b of fitted.blocks) {
      const t = (b as { text?: { text: string } }).text?.text;
      if (t) expect(t.length).toBeLessThanOrEqual(LIMITS.sectionText);
    }
    expect(renderedToText(fitted)).toContain('Most likely cause:* finding 7');
    expect(fitted.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
  });
});
