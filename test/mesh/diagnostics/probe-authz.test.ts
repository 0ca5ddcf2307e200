import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/kube/objects.ts';
import { diagnoseProbeAuthz } from '../../../src/mesh/diagnostics/probe-authz.ts';
import { probesOf } from '../../../src/mesh/diagnostics/probe-facts.ts';
import type { DiagnosticResult, Finding } from '../../../src/mesh/diagnostics/types.ts';
import { MeshSnapshot } from '../../../src/mesh/snapshot.ts';
import { annotationsIn, deployment, event, injectedPod, objectIn } from './injected-pod.ts';

function findings(r: DiagnosticResult): Finding[] {
  return r.outcome === 'found' ? r.findings : [];
}

const readiness = { httpGet: { path: '/healthz/ready', port: 8080 }, periodSeconds: 5 };
const cart = (probe: Record<string, unknown> = readiness, portName = 'http') => ({
  name: 'cart',
  ports: [{ containerPort: 8080, name: portName }],
  readinessProbe: probe,
});
const rewriteOff = { 'sidecar.istio.io/rewriteAppHTTPProbers': 'false' };
const notReady = {
  conditions: [{ type: 'Ready', status: 'False' }],
  statuses: { cart: { ready: false } },
};

function policy(name: string, spec: Record<string, unknown>, namespace = 'shop'): KubeObject {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}
const allowFrontend = policy('cart-from-frontend', {
  selector: { matchLabels: { app: 'cart' } },
  action: 'ALLOW',
  rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }],
});
const strict: KubeObject = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'shop' },
  spec: { mtls: { mode: 'STRICT' } },
};

describe('probes and AuthorizationPolicy', () => {
  it('reads probes as the injector left them: rewritten to pilot-agent, or not', () => {
    const on = probesOf(injectedPod({ containers: [cart()] }));
    expect(on).toEqual([expect.objectContaining({ rewritten: true, port: 15020, path: '/app-health/cart/readyz' })]);
    expect(on[0]?.missingOriginal).toBe(false);
    const off = probesOf(injectedPod({ containers: [cart()], annotations: rewriteOff }));
    expect(off).toEqual([expect.objectContaining({ rewritten: false, port: 8080, path: '/healthz/ready' })]);
  });

  it('finds a probe blocked by an ALLOW policy when rewrite is off, corroborated by 403s, with both fixes', () => {
    const pod = injectedPod({ containers: [cart()], annotations: rewriteOff, ...notReady });
    const r = diagnoseProbeAuthz({
      pods: [pod],
      workload: deployment(rewriteOff),
      snapshot: new MeshSnapshot([pod, allowFrontend]),
      events: [event(pod, 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 403')],
      accessLogs: {
        [pod.metadata.name]:
          '[2026-12-02T07:30:01.000Z] "GET /healthz/ready HTTP/1.1" 403 - rbac_access_denied_matched_policy[none] - "-" 0 19 0 - "-" "kube-probe/1.31" "-" "10.1.2.3:8080" "-" inbound|8080|| - 10.1.2.3:8080 10.0.0.5:41234 - -',
      },
    });
    const f = findings(r)[0];
    expect(f?.title).toBe('readiness probe blocked by AuthorizationPolicy');
    expect(f?.confidence).toBe('high');
    expect(f?.cause).toContain('the probe rewrite is off (annotation sidecar.istio.io/rewriteAppHTTPProbers)');
    expect(f?.evidence.join('\n')).toContain('statuscode: 403');
    expect(f?.evidence.join('\n')).toContain('rbac_access_denied line');
    expect(f?.evidence.join('\n')).toContain('container cart is not ready');
    expect(annotationsIn(f?.fix)).toEqual({ 'sidecar.istio.io/rewriteAppHTTPProbers': 'true' });
    const allow = objectIn(f?.alternatives?.[0]);
    expect(allow.spec).toEqual({
      selector: { matchLabels: { app: 'cart' } },
      action: 'ALLOW',
      rules: [{ to: [{ operation: { ports: ['8080'], methods: ['GET'], paths: ['/healthz/ready'] } }] }],
    });
  });

  it('finds STRICT mTLS failing a probe that is not rewritten, and proposes only the rewrite', () => {
    const pod = injectedPod({ containers: [cart()], annotations: rewriteOff });
    const r = diagnoseProbeAuthz({
      pods: [pod],
      workload: deployment(rewriteOff),
      snapshot: new MeshSnapshot([pod, strict]),
    });
    const f = findings(r)[0];
    expect(f?.title).toBe('readiness probe blocked by STRICT mTLS');
    expect(f?.confidence).toBe('medium');
    expect(f?.fix?.kind).toBe('strategic-merge-patch');
    expect(f?.alternatives).toBeUndefined();
  });

  it('proposes the ALLOW policy for a probe added after injection (rewrite on)', () => {
    const pod = injectedPod({ containers: [{ name: 'cart', ports: [{ containerPort: 8080, name: 'http' }] }] });
    const spec = pod.spec as { containers: Record<string, unknown>[] };
    const app = spec.containers.find((c) => c.name === 'cart');
    if (app) app.livenessProbe = { httpGet: { path: '/live', port: 'http' } };
    const r = diagnoseProbeAuthz({
      pods: [pod],
      workload: deployment(),
      snapshot: new MeshSnapshot([pod, allowFrontend]),
    });
    const f = findings(r)[0];
    expect(f?.cause).toContain('added after injection');
    const allow = objectIn(f?.fix);
    expect(allow.metadata).toEqual({ name: 'cart-allow-kubelet-probes', namespace: 'shop' });
    expect((allow.spec as { rules: unknown }).rules).toEqual([
      { to: [{ operation: { ports: ['8080'], methods: ['GET'], paths: ['/live'] } }] },
    ]);
  });

  it('does not flag rewritten probes, even behind STRICT and an ALLOW policy, and says why', () => {
    const pod = injectedPod({ containers: [cart()] });
    const r = diagnoseProbeAuthz({
      pods: [pod],
      workload: deployment(),
      snapshot: new MeshSnapshot([pod, allowFrontend, strict]),
    });
    expect(r.outcome).toBe('nothing-found');
    expect(r.notes.join('\n')).toContain('bypass mTLS and AuthorizationPolicy');
  });

  it('finds a rewritten probe that pilot-agent answers 400 (named port not declared)', () => {
    const pod = injectedPod({
      containers: [cart({ httpGet: { path: '/healthz', port: 'web' } })],
      conditions: [{ type: 'Ready', status: 'False' }],
    });
    const r = diagnoseProbeAuthz({
      pods: [pod],
      snapshot: new MeshSnapshot([pod]),
      events: [event(pod, 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 400')],
    });
    const f = findings(r)[0];
    expect(f?.title).toBe('readiness probe answered 400 by pilot-agent');
    expect(f?.confidence).toBe('high');
    expect(f?.evidence[0]).toContain('ISTIO_KUBE_APP_PROBERS lacks /app-health/cart/readyz');
  });

  it('says that an unrewritten probe nothing blocks today is exposed, and that a TCP one hides outages', () => {
    const pod = injectedPod({
      containers: [{ ...cart(), livenessProbe: { tcpSocket: { port: 8080 } } }],
      annotations: rewriteOff,
    });
    const r = diagnoseProbeAuthz({ pods: [pod], snapshot: new MeshSnapshot([pod]) });
    expect(r.outcome).toBe('nothing-found');
    expect(r.notes.join('\n')).toContain('nothing blocks it today');
    expect(r.notes.join('\n')).toContain('hides outages');
  });

  it('rates a block that depends on what cannot be known (the kubelet source IP) as low without corroboration', () => {
    const byIp = policy('cart-from-office', {
      selector: { matchLabels: { app: 'cart' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/16'] } }] }],
    });
    const pod = injectedPod({ containers: [cart()], annotations: rewriteOff });
    const r = diagnoseProbeAuthz({ pods: [pod], snapshot: new MeshSnapshot([pod, byIp]) });
    const f = findings(r)[0];
    expect(f?.title).toBe('readiness probe may be blocked by AuthorizationPolicy');
    expect(f?.confidence).toBe('low');
  });

  it('cannot check without pods or sidecars, and says what it could not read', () => {
    const snapshot = new MeshSnapshot([], {
      coverage: {
        loaded: [],
        missing: [{ ref: { group: 'security.istio.io', kind: 'AuthorizationPolicy' }, reason: 'forbidden' }],
      },
    });
    expect(diagnoseProbeAuthz({ pods: [], snapshot }).outcome).toBe('could-not-check');
    const noProxy = { ...injectedPod(), spec: { containers: [cart()] } };
    expect(diagnoseProbeAuthz({ pods: [noProxy], snapshot }).outcome).toBe('could-not-check');
    const r = diagnoseProbeAuthz({ pods: [injectedPod({ containers: [cart()] })], snapshot });
    expect(r.unread.join('\n')).toContain('AuthorizationPolicy objects could not be listed (forbidden)');
    // A probe that goes through the sidecar is not declared safe when the policies could not be read.
    const exposed = injectedPod({ containers: [cart()], annotations: rewriteOff });
    const r2 = diagnoseProbeAuthz({ pods: [exposed], snapshot });
    expect(r2.notes.join('\n')).not.toContain('nothing blocks it today');
    expect(r2.unread.join('\n')).toContain(
      'whether a policy blocks it is unknown without the AuthorizationPolicy and PeerAuthentication objects',
    );
  });
});
