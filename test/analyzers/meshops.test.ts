// meshops' own diagnostics (MSH codes): each test states a situation Istio's analyzers do not look for, and
// what meshops says about it.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { docUrl, mergeMessages, messageLine } from '../../src/mesh/analyze-report.ts';
import {
  authz,
  heldPod,
  meshopsFixtures,
  nativeSidecarPod,
  oomPod,
  appOomPod,
  probedPod,
  racingPod,
  shopNamespace,
} from './meshops-fixtures.ts';

function run(objects: KubeObject[], analyzer: string, meshYaml?: string) {
  return analyze(new MeshSnapshot(objects, { meshConfig: meshConfigFrom(meshYaml) }), { analyzers: [analyzer] });
}
const pairs = (ms: ReturnType<typeof run>) => ms.map((m) => `${m.code} ${messageResource(m)}`);

describe('meshops.SidecarOOMAnalyzer (MSH0001)', () => {
  it('reports a pod whose istio-proxy was OOMKilled, with its restarts and memory limit', () => {
    const ms = run([shopNamespace, oomPod, racingPod], 'meshops.SidecarOOMAnalyzer');
    expect(pairs(ms)).toEqual(['MSH0001 Pod shop/cart']);
    expect(ms[0]?.name).toBe('SidecarOOMKilled');
    expect(ms[0]?.level).toBe('Error');
    expect(ms[0]?.text).toMatch(
      /^The istio-proxy container was OOMKilled \(2 restarts, memory limit 128Mi\)\. Raise the limit/,
    );
  });
});

describe('meshops.StartupRaceAnalyzer (MSH0002)', () => {
  it('reports an app that failed at start-up while its sidecar was starting, unless something holds it', () => {
    const ms = run(
      [shopNamespace, racingPod, heldPod, nativeSidecarPod, oomPod, appOomPod],
      'meshops.StartupRaceAnalyzer',
    );
    expect(pairs(ms)).toEqual(['MSH0002 Pod shop/checkout']);
    expect(ms[0]?.text).toMatch(
      /^Container app exited with code 1 3s after it started, while its istio-proxy was still starting\./,
    );
  });

  it('says nothing when mesh config holds every application until its proxy starts', () => {
    const ms = run(
      [shopNamespace, racingPod],
      'meshops.StartupRaceAnalyzer',
      'defaultConfig:\n  holdApplicationUntilProxyStarts: true\n',
    );
    expect(ms).toEqual([]);
  });
});

describe('meshops.ProbeAuthorizationAnalyzer (MSH0003)', () => {
  const api = probedPod('api', { app: 'api' });

  it('reports unrewritten probes that no ALLOW policy admits, and ones a DENY policy matches', () => {
    const ms = run(meshopsFixtures(), 'meshops.ProbeAuthorizationAnalyzer');
    expect(pairs(ms)).toEqual(['MSH0003 Pod shop/api', 'MSH0003 Pod shop/api']);
    const texts = ms.map((m) => m.text).sort();
    expect(texts[0]).toContain('The liveness probe of container app (HTTP port 9090) is not rewritten by the sidecar');
    expect(texts[0]).toContain('and AuthorizationPolicy istio-system/deny-live denies it.');
    expect(texts[1]).toContain('The readiness probe of container app (HTTP port 8080)');
    expect(texts[1]).toContain('no ALLOW policy that applies admits it (AuthorizationPolicy shop/api-from-frontend)');
  });

  it('says nothing when an ALLOW rule may admit the probe, when probes are rewritten, or for a dry-run policy', () => {
    const openPort = authz('api-probes', 'shop', {
      selector: { matchLabels: { app: 'api' } },
      rules: [{ to: [{ operation: { ports: ['8080', '9090'] } }] }],
    });
    const closed = authz('api-from-frontend', 'shop', { rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] });
    expect(run([shopNamespace, api, closed, openPort], 'meshops.ProbeAuthorizationAnalyzer')).toEqual([]);
    const rewritten: KubeObject = { ...api, metadata: { ...api.metadata, annotations: {} } };
    expect(run([shopNamespace, rewritten, closed], 'meshops.ProbeAuthorizationAnalyzer')).toEqual([]);
    const dryRun = authz('deny-all', 'shop', { action: 'DENY', rules: [{}] }, { 'istio.io/dry-run': 'true' });
    expect(run([shopNamespace, api, dryRun], 'meshops.ProbeAuthorizationAnalyzer')).toEqual([]);
  });

  it('counts an ALLOW policy without rules as allowing nothing', () => {
    const ms = run([shopNamespace, api, authz('allow-nothing', 'shop', {})], 'meshops.ProbeAuthorizationAnalyzer');
    expect(ms).toHaveLength(2);
  });
});

describe('meshops.SelectorAnalyzer (MSH0004, MSH0005)', () => {
  it('reports a Service and a policy whose selector matches no pod, not ones that match or select mesh-wide', () => {
    const rootPa: KubeObject = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'cart-wide', namespace: 'istio-system' },
      spec: { selector: { matchLabels: { app: 'cart' } } },
    };
    const ms = run([...meshopsFixtures(), rootPa], 'meshops.SelectorAnalyzer');
    expect(pairs(ms).sort()).toEqual(['MSH0004 Service shop/orders', 'MSH0005 PeerAuthentication shop/orders-strict']);
    const byCode = new Map(ms.map((m) => [m.code, m.text]));
    expect(byCode.get('MSH0004')).toMatch(
      /^The selector app=orders matches no pod in namespace shop: the Service has no endpoints/,
    );
    expect(byCode.get('MSH0005')).toBe(
      'The workload selector app=orders matches no pod in namespace shop: this PeerAuthentication applies to nothing.',
    );
  });
});

describe("meshops' codes in the answer", () => {
  it('are not linked to istio.io, which does not know them', () => {
    const [m] = mergeMessages(run([shopNamespace, oomPod], 'meshops.SidecarOOMAnalyzer'));
    expect(docUrl('MSH0001')).toBeUndefined();
    expect(messageLine(m!)).toMatch(/^:red_circle: \*MSH0001\* The istio-proxy container/);
  });
});
