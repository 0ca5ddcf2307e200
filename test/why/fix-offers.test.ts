// offersFor over the real diagnostics' findings: each fix (and its alternatives) becomes one offer for a kind in
// fix-kinds.ts, with a label that names namespace/workload and the action within Slack's 75 characters, the
// finding's why, and params the kind's own schema accepts; mesh-config fixes and fixes no kind applies are not
// offered; the same change is offered once. The offers are then previewed by the kinds on the sandbox.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { diagnoseProbeAuthz } from '../../src/mesh/diagnostics/probe-authz.ts';
import { diagnoseSidecarResources } from '../../src/mesh/diagnostics/sidecar-resources.ts';
import { diagnoseStartupRace } from '../../src/mesh/diagnostics/startup-race.ts';
import type { DiagnosticResult, Finding } from '../../src/mesh/diagnostics/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import {
  CREATE_AUTHORIZATION_POLICY,
  POD_TEMPLATE_ANNOTATIONS,
  policyParamsSchema,
  templateParamsSchema,
  whyRemediations,
} from '../../src/features/why/fix-kinds.ts';
import { offerLabel, offersFor } from '../../src/features/why/fix-offers.ts';
import { deployment, event, injectedPod, oomKilled } from '../mesh/diagnostics/injected-pod.ts';
import { deployment as liveDeployment, kubeFor } from '../approvals/support.ts';

function findings(r: DiagnosticResult): Finding[] {
  return r.outcome === 'found' ? r.findings : [];
}

const rewriteOff = { 'sidecar.istio.io/rewriteAppHTTPProbers': 'false' };
const cart = {
  name: 'cart',
  ports: [{ containerPort: 8080, name: 'http' }],
  readinessProbe: { httpGet: { path: '/healthz/ready?full=1', port: 8080 } },
  livenessProbe: { httpGet: { path: '/live', port: 8081 } },
};
const allowFrontend: KubeObject = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'cart-from-frontend', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'cart' } },
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }],
  },
};

function raceFindings(config?: string): Finding[] {
  const pod = injectedPod({
    statuses: { cart: { restartCount: 3, lastState: { terminated: { reason: 'Error', exitCode: 1 } } } },
  });
  return findings(
    diagnoseStartupRace({
      pods: [pod],
      workload: deployment(config ? { 'proxy.istio.io/config': config } : {}),
      meshConfig: meshConfigFrom(),
      events: [],
      appLogs: { [pod.metadata.name]: { cart: 'starting\nError: connect ECONNREFUSED 10.96.4.12:8080' } },
    }),
  );
}

function probeFindings(): Finding[] {
  const pod = injectedPod({
    containers: [cart],
    annotations: rewriteOff,
    conditions: [{ type: 'Ready', status: 'False' }],
    statuses: { cart: { ready: false } },
  });
  return findings(
    diagnoseProbeAuthz({
      pods: [pod],
      workload: deployment(rewriteOff),
      snapshot: new MeshSnapshot([pod, allowFrontend]),
      events: [event(pod, 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 403')],
    }),
  );
}

function oomFindings(): Finding[] {
  const pod = injectedPod({ statuses: { 'istio-proxy': oomKilled(4) } });
  return findings(
    diagnoseSidecarResources({
      pods: [pod],
      workload: deployment({ 'sidecar.istio.io/proxyMemoryLimit': '1Gi' }),
      podMetrics: [
        {
          apiVersion: 'metrics.k8s.io/v1beta1',
          kind: 'PodMetrics',
          metadata: { name: pod.metadata.name, namespace: 'shop' },
          containers: [{ name: 'istio-proxy', usage: { cpu: '350m', memory: '900Mi' } }],
        },
      ],
    }),
  );
}

describe('offersFor', () => {
  it('offers the startup-race fix as ProxyConfig settings to merge at preview time, and not the mesh-wide one', () => {
    const f = raceFindings('concurrency: 2\n');
    expect(f[0]?.alternatives?.some((a) => a.kind === 'mesh-config')).toBe(true);
    const offers = offersFor(f);
    expect(offers).toHaveLength(1);
    const o = offers[0];
    expect(o?.label).toBe('Hold app until proxy starts: shop/cart');
    expect(o?.remediation).toMatchObject({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      params: { proxyConfig: { holdApplicationUntilProxyStarts: true } },
    });
    // Only the hold: the annotation's existing `concurrency` is the live object's to keep, not the offer's to write.
    expect(o?.remediation.params).toEqual({ proxyConfig: { holdApplicationUntilProxyStarts: true } });
    expect(o?.remediation.why).toContain(f[0]?.title ?? '?');
    expect(templateParamsSchema.safeParse(o?.remediation.params).success).toBe(true);
  });

  it('offers all four proxy resource annotations once, though two findings propose them', () => {
    const f = oomFindings();
    const withFix = f.filter((x) => x.fix?.kind === 'strategic-merge-patch');
    expect(withFix.length).toBeGreaterThanOrEqual(1);
    const offers = offersFor(f).filter((o) => o.remediation.kind === POD_TEMPLATE_ANNOTATIONS);
    expect(offers).toHaveLength(1);
    expect(offers[0]?.label).toBe('Set proxy CPU/memory: shop/cart');
    const params = templateParamsSchema.parse(offers[0]?.remediation.params);
    expect(Object.keys(params.annotations ?? {}).sort()).toEqual([
      'sidecar.istio.io/proxyCPU',
      'sidecar.istio.io/proxyCPULimit',
      'sidecar.istio.io/proxyMemory',
      'sidecar.istio.io/proxyMemoryLimit',
    ]);
    expect(params.proxyConfig).toBeUndefined();
  });

  it('offers the probe rewrite and the ALLOW policy with exactly the probes’ ports and paths', () => {
    const f = probeFindings();
    const offers = offersFor(f);
    expect(offers.map((o) => o.label)).toEqual([
      'Turn probe rewrite on: shop/cart',
      'Allow kubelet probes to shop/cart',
    ]);
    const policy = offers[1]?.remediation;
    expect(policy?.kind).toBe(CREATE_AUTHORIZATION_POLICY);
    expect(policy?.target).toEqual({
      kind: 'AuthorizationPolicy',
      namespace: 'shop',
      name: 'cart-allow-kubelet-probes',
    });
    const params = policyParamsSchema.parse(policy?.params);
    const ops = params.spec.rules.flatMap((r) => r.to.map((t) => t.operation));
    expect(ops).toEqual(
      expect.arrayContaining([
        { ports: ['8080'], methods: ['GET'], paths: ['/healthz/ready'] },
        { ports: ['8081'], methods: ['GET'], paths: ['/live'] },
      ]),
    );
    expect(ops).toHaveLength(2);
    expect(params.spec.selector.matchLabels).toEqual({ app: 'cart' });
  });

  it('offers nothing for a mesh-config fix or a fix no kind applies, and keeps every label within 75 characters', () => {
    const meshOnly = raceFindings()
      .map((x) => ({ ...x, fix: x.alternatives?.find((a) => a.kind === 'mesh-config'), alternatives: [] }))
      .filter((x) => x.fix);
    expect(meshOnly).toHaveLength(1);
    expect(offersFor(meshOnly)).toEqual([]);
    const sidecar: Finding = {
      check: 'sidecar-resources',
      title: "the proxy's config is large",
      cause: 'x',
      evidence: [],
      confidence: 'low',
      pods: [],
      fix: {
        kind: 'create',
        target: { kind: 'Sidecar', namespace: 'shop', name: 'cart-egress' },
        object: { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'cart-egress' } },
        why: 'limits egress',
      },
    };
    expect(offersFor([sidecar])).toEqual([]);
    const long = offerLabel('Hold app until proxy starts:', 'a-namespace-with-a-long-name', 'x'.repeat(80));
    expect(long.length).toBeLessThanOrEqual(75);
    expect(long).toContain('a-namespace-with-a-long-name/xxx');
    for (const o of offersFor([...raceFindings(), ...probeFindings(), ...oomFindings()]))
      expect(o.label.length).toBeLessThanOrEqual(75);
  });
});

describe('the offers previewed by their kinds', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    const seed: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      liveDeployment('cart', 'shop', 1, { ...rewriteOff, 'proxy.istio.io/config': 'concurrency: 2\n' }),
    ];
    sb = await startSandbox({ seed, rolloutStepMs: 20 });
    sb.settle();
  });
  afterAll(async () => {
    await sb.close();
  });

  it('every offer previews cleanly on the live objects, and the preview shows before → after', async () => {
    const kube = kubeFor(sb);
    const offers = offersFor([...raceFindings('concurrency: 2\n'), ...probeFindings(), ...oomFindings()]);
    expect(offers.length).toBe(4);
    for (const o of offers) {
      const kind = whyRemediations.find((k) => k.kind === o.remediation.kind);
      if (!kind) throw new Error(`no kind ${o.remediation.kind}`);
      const p = await kind.preview(kube, o.remediation.target, o.remediation.params ?? {}, new Date());
      if (!p.ok) throw new Error(`${o.label}: ${p.reason}`);
      expect(p.facts.some(([, v]) => v.includes('→') || v.includes('GET'))).toBe(true);
    }
  });
});
