// A pod whose labels ask for injection but that has no sidecar: describe names what is really missing
// (no injector webhook, a webhook that selects nothing, no ready istiod) before blaming timing.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describePod } from '../../src/mesh/workload.ts';

const t0 = '2026-11-30T10:00:00Z';
const later = '2026-11-30T12:00:00Z';

const ns: KubeObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: 'shop',
    creationTimestamp: t0,
    labels: { 'istio-injection': 'enabled' },
    managedFields: [
      {
        manager: 'kubectl-label',
        operation: 'Update',
        time: t0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:istio-injection': {} } } },
      },
    ],
  },
};
const pod = (created: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'cart-1', namespace: 'shop', creationTimestamp: created, labels: { app: 'cart' } },
  spec: { containers: [{ name: 'cart', image: 'cart:1' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});
const webhook = (created: string): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  metadata: { name: 'istio-sidecar-injector', creationTimestamp: created },
  webhooks: [
    {
      name: 'namespace.sidecar-injector.istio.io',
      clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path: '/inject' } },
      namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
      objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
    },
  ],
});
const istiodSvc: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'istiod', namespace: 'istio-system' },
  spec: { selector: { app: 'istiod' } },
};
const istiodPod = (readyStatus: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'istiod-1', namespace: 'istio-system', labels: { app: 'istiod' }, creationTimestamp: t0 },
  spec: { containers: [{ name: 'discovery', image: 'pilot' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: readyStatus }] },
});

function warning(objects: KubeObject[], p: KubeObject, facts: Parameters<typeof describePod>[2]): string {
  const d = describePod(new MeshSnapshot([ns, ...objects, p]), p, facts);
  return d.warnings.find((w) => w.code === 'injection-mismatch')?.message ?? '';
}

describe('why a pod has no sidecar although injection is enabled', () => {
  it('no injector webhook and no istiod: says Istio is not installed, not "created before the label"', () => {
    const w = warning([], pod(later), { webhooks: [] });
    expect(w).toContain('the cluster has no Istio sidecar-injector webhook');
    expect(w).not.toMatch(/before the label/);
  });

  it('a webhook calling a Service that is gone, or with no ready istiod behind it', () => {
    expect(warning([], pod(later), { webhooks: [webhook(t0)] })).toContain(
      'calls Service istio-system/istiod, which does not exist',
    );
    expect(warning([istiodSvc, istiodPod('False')], pod(later), { webhooks: [webhook(t0)] })).toContain(
      'no istiod pod behind it is ready (1 pod)',
    );
  });

  it('a webhook that does not select the pod (revision not installed)', () => {
    const revNs = { ...ns, metadata: { ...ns.metadata, labels: { 'istio.io/rev': 'canary' } } };
    const p = pod(later);
    const revHook = {
      ...webhook(t0),
      webhooks: [
        {
          ...(webhook(t0).webhooks as object[])[0],
          name: 'rev.namespace.sidecar-injector.istio.io',
          namespaceSelector: { matchLabels: { 'istio.io/rev': 'stable' } },
        },
      ],
    };
    const d = describePod(new MeshSnapshot([revNs, istiodSvc, istiodPod('True'), p]), p, { webhooks: [revHook] });
    expect(d.warnings.find((x) => x.code === 'injection-mismatch')?.message).toContain(
      "none of Istio's injector webhooks (istio-sidecar-injector) selects this pod",
    );
  });

  it('only with the injector in place does timing speak: older than the webhook, or older than the label', () => {
    const ready = [istiodSvc, istiodPod('True')];
    expect(warning(ready, pod('2026-11-30T09:00:00Z'), { webhooks: [webhook(t0)] })).toContain(
      "created before Istio's injector webhook existed; restart it",
    );
    expect(warning(ready, pod('2026-11-30T09:30:00Z'), { webhooks: [webhook('2026-11-30T09:00:00Z')] })).toContain(
      "older than the namespace's injection label; restart it",
    );
    expect(warning(ready, pod(later), { webhooks: [webhook(t0)] })).toContain(
      'it was not injected when it was created',
    );
  });

  it('says when the webhooks could not be read, with the reason', () => {
    expect(
      warning([], pod(later), { unreadable: 'not allowed to list MutatingWebhookConfigurations: forbidden' }),
    ).toContain(
      "could not check Istio's injector webhook (not allowed to list MutatingWebhookConfigurations: forbidden)",
    );
  });
});
