// `/mesh why`'s remediation kinds through the approvals engine against the sandbox API server: the preview is
// a dry run, a second person's approval applies the change exactly once, the merged proxy.istio.io/config
// keeps what was there, an edit between preview and approval is refused, the AuthorizationPolicy created
// holds exactly the probes' paths and ports, and the audit names requester and approver.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import type { Requester } from '../../src/command.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import { parsePolicy } from '../../src/approvals/policy.ts';
import { RemediationRegistry } from '../../src/approvals/remediation-kinds.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { startSandbox } from '../../src/sandbox/server.ts';
import {
  CREATE_AUTHORIZATION_POLICY,
  FIX_REQUEST_ANNOTATION,
  POD_TEMPLATE_ANNOTATIONS,
  whyRemediations,
} from '../../src/features/why/fix-kinds.ts';
import {
  BOT_NS,
  capturedLogger,
  click,
  deployment,
  kubeFor,
  replicaSets,
  service,
  textOf,
  waitFor,
} from '../approvals/support.ts';

const POLICY = parsePolicy(`
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["${POD_TEMPLATE_ANNOTATIONS}", "${CREATE_AUTHORIZATION_POLICY}"], namespaces: ["shop"] }
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [U0ALICE, U0BOB, U0ERIN]
impersonation:
  enabled: false
`);

const alice: Requester = { userId: 'U0ALICE', userName: 'alice', channelId: 'C0OPS', source: 'slack' };
const YAML_CONFIG = 'concurrency: 2\ntracing:\n  sampling: 10\n';

let sb: Sandbox;
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

beforeAll(async () => {
  sb = await startSandbox({
    seed: [
      ns(BOT_NS),
      ns('shop'),
      deployment('cart', 'shop', 2, { 'proxy.istio.io/config': YAML_CONFIG, 'team.example/owner': 'carts' }),
      deployment('orders', 'shop', 1, { 'proxy.istio.io/config': '{"concurrency":4}' }),
      deployment('media', 'shop', 1, { 'sidecar.istio.io/proxyMemoryLimit': '256Mi' }),
      deployment('profile', 'shop', 2),
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'taken', namespace: 'shop' },
        spec: { action: 'ALLOW' },
      },
    ],
    rolloutStepMs: 20,
  });
  sb.settle();
});
afterAll(async () => {
  await sb.close();
});

function svcWith(extra: Parameters<typeof service>[1] = {}) {
  return service(sb, { doc: POLICY, registry: new RemediationRegistry(whyRemediations), ...extra });
}

const template = (name: string) =>
  (
    sb.store.get('Deployment', 'shop', name)?.spec as {
      template: { metadata: { annotations?: Record<string, string> } };
    }
  ).template.metadata.annotations ?? {};

async function state(svc: ReturnType<typeof svcWith>, id: string) {
  return (await svc.store.read(id))?.record;
}

const PROBE_SPEC = {
  selector: { matchLabels: { app: 'profile' } },
  action: 'ALLOW',
  rules: [
    { to: [{ operation: { ports: ['8081'], methods: ['GET'], paths: ['/ready'] } }] },
    { to: [{ operation: { ports: ['8080'], methods: ['GET'], paths: ['/live', '/started'] } }] },
  ],
};

describe('pod-template-annotations', () => {
  it('previews the merge as a dry run, then applies it once on a second person’s approval, keeping what was there', async () => {
    const { log, lines } = capturedLogger();
    const svc = svcWith({ log });
    const before = sb.store.get('Deployment', 'shop', 'cart');
    const rsBefore = replicaSets(sb, 'shop', 'cart').length;
    const r = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      params: { proxyConfig: { holdApplicationUntilProxyStarts: true } },
      why: 'the app starts before its sidecar is ready',
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    // A dry run: the store holds the same object, same generation and template.
    const after = sb.store.get('Deployment', 'shop', 'cart');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(template('cart')['proxy.istio.io/config']).toBe(YAML_CONFIG);
    const facts = Object.fromEntries(r.record.preview?.facts ?? []);
    expect(facts['proxy.istio.io/config']).toContain('concurrency: 2');
    expect(facts['proxy.istio.io/config']).toMatch(/→ .*holdApplicationUntilProxyStarts: true/);
    expect(r.record.preview?.dryRun).toContain('dryRun=All');
    expect(r.record.preview?.affected).toHaveLength(2);

    const self = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0ALICE'));
    expect(textOf(self?.ephemeral)).toContain('someone else must approve');
    expect(template('cart')[FIX_REQUEST_ANNOTATION]).toBeUndefined();

    await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    await waitFor(async () => (await state(svc, r.record.id))?.state === 'done', 'the rollout to finish');
    await svc.idle();
    const done = await state(svc, r.record.id);
    expect(done?.outcome?.ok).toBe(true);
    expect(done?.outcome?.summary).toContain('Rollout complete: 2/2');
    const annotations = template('cart');
    expect(annotations[FIX_REQUEST_ANNOTATION]).toBe(r.record.id);
    expect(annotations['team.example/owner']).toBe('carts');
    const merged = annotations['proxy.istio.io/config'] ?? '';
    expect(merged.trim().startsWith('{')).toBe(false); // YAML stays YAML
    expect(parse(merged)).toEqual({ concurrency: 2, tracing: { sampling: 10 }, holdApplicationUntilProxyStarts: true });
    expect(replicaSets(sb, 'shop', 'cart').length).toBe(rsBefore + 1);

    // A second click, and a replay of the same approval, do nothing and say so.
    const generation = sb.store.get('Deployment', 'shop', 'cart')?.metadata.generation;
    const again = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0ERIN'));
    const replay = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    expect(textOf(again?.ephemeral)).toMatch(/already|done/i);
    expect(textOf(replay?.ephemeral)).toMatch(/already|done/i);
    await svc.idle();
    expect(sb.store.get('Deployment', 'shop', 'cart')?.metadata.generation).toBe(generation);
    expect(replicaSets(sb, 'shop', 'cart').length).toBe(rsBefore + 1);

    const audit = lines
      .filter((l) => l.audit)
      .map((l) => l.audit as { action: string; id: string; by?: string })
      .filter((a) => a.id === r.record.id);
    expect(audit.map((a) => a.action)).toEqual(['proposed', 'approved', 'executed', 'succeeded']);
    expect(audit.find((a) => a.action === 'proposed')?.by).toBe('U0ALICE');
    expect(audit.find((a) => a.action === 'approved')?.by).toBe('U0BOB');
    expect(done?.requester.userId).toBe('U0ALICE');
    expect(done?.approvals.map((a) => a.userId)).toEqual(['U0BOB']);
  });

  it('merges into a JSON annotation as JSON and sets all four resource annotations in one change', async () => {
    const svc = svcWith();
    const hold = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'orders' },
      params: { proxyConfig: { holdApplicationUntilProxyStarts: true } },
      requester: alice,
      cluster: 'sandbox',
    });
    const resources = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'media' },
      params: {
        annotations: {
          'sidecar.istio.io/proxyCPU': '100m',
          'sidecar.istio.io/proxyMemory': '256Mi',
          'sidecar.istio.io/proxyCPULimit': '2000m',
          'sidecar.istio.io/proxyMemoryLimit': '512Mi',
        },
      },
      requester: alice,
      cluster: 'sandbox',
    });
    if (!hold.ok || !resources.ok) throw new Error('a preview was refused');
    const facts = Object.fromEntries(resources.record.preview?.facts ?? []);
    expect(facts['sidecar.istio.io/proxyMemoryLimit']).toBe('`256Mi` → `512Mi`');
    expect(facts['sidecar.istio.io/proxyCPU']).toBe('not set → `100m`');
    for (const r of [hold, resources])
      await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    for (const r of [hold, resources])
      await waitFor(async () => (await state(svc, r.record.id))?.state === 'done', 'both rollouts');
    await svc.idle();
    expect(JSON.parse(template('orders')['proxy.istio.io/config'] ?? '')).toEqual({
      concurrency: 4,
      holdApplicationUntilProxyStarts: true,
    });
    expect(template('media')).toMatchObject({
      'sidecar.istio.io/proxyCPU': '100m',
      'sidecar.istio.io/proxyMemory': '256Mi',
      'sidecar.istio.io/proxyCPULimit': '2000m',
      'sidecar.istio.io/proxyMemoryLimit': '512Mi',
      [FIX_REQUEST_ANNOTATION]: resources.record.id,
    });
    // Proposed again, there is nothing left to do.
    const twice = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'orders' },
      params: { proxyConfig: { holdApplicationUntilProxyStarts: true } },
      requester: alice,
      cluster: 'sandbox',
    });
    expect(twice.ok).toBe(false);
    if (!twice.ok) expect(twice.reason).toContain('already has these values');
  });

  it('refuses when the Deployment changed between preview and approval, and its edit stands', async () => {
    const svc = svcWith();
    const kube = kubeFor(sb);
    const r = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'profile' },
      params: { proxyConfig: { holdApplicationUntilProxyStarts: true } },
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    // Someone sets the annotation by hand in between.
    await kube.patch(
      'Deployment',
      'shop',
      'profile',
      { spec: { template: { metadata: { annotations: { 'proxy.istio.io/config': 'concurrency: 1' } } } } },
      'strategic',
    );
    const generation = sb.store.get('Deployment', 'shop', 'profile')?.metadata.generation;
    await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    const rec = await waitFor(async () => {
      const x = await state(svc, r.record.id);
      return x?.state === 'superseded' ? x : undefined;
    }, 'the refusal');
    await svc.idle();
    expect(rec.history.at(-1)?.note).toContain('target changed');
    expect(template('profile')['proxy.istio.io/config']).toBe('concurrency: 1');
    expect(template('profile')[FIX_REQUEST_ANNOTATION]).toBeUndefined();
    expect(sb.store.get('Deployment', 'shop', 'profile')?.metadata.generation).toBe(generation);
  });

  it('the patch itself refuses a template whose annotation moved, even with the generation unchanged', async () => {
    const kind = whyRemediations.find((k) => k.kind === POD_TEMPLATE_ANNOTATIONS);
    if (!kind) throw new Error('kind not registered');
    const kube = kubeFor(sb);
    const target = { kind: 'Deployment', namespace: 'shop', name: 'profile' };
    const p = await kind.preview(kube, target, { annotations: { 'sidecar.istio.io/proxyCPU': '50m' } }, new Date());
    if (!p.ok) throw new Error(p.reason);
    // The plan tested proxyCPU absent; a plan whose "before" is stale fails on the API server's `test`.
    const stale = structuredClone(p.plan) as { changes: Array<{ before: string | null }> };
    if (stale.changes[0]) stale.changes[0].before = '10m';
    await expect(kind.execute(kube, target, stale, { requestId: 'a'.repeat(32) })).rejects.toThrow();
    expect(template('profile')['sidecar.istio.io/proxyCPU']).toBeUndefined();
  });

  it('refuses annotations it does not own and a Deployment that does not exist', async () => {
    const svc = svcWith();
    const bad = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      params: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'x' } },
      requester: alice,
      cluster: 'sandbox',
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toContain('sidecar.istio.io/');
    const gone = await svc.propose({
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: 'shop', name: 'nope' },
      params: { annotations: { 'sidecar.istio.io/proxyCPU': '1' } },
      requester: alice,
      cluster: 'sandbox',
    });
    expect(gone.ok).toBe(false);
    if (!gone.ok) expect(gone.reason).toContain('There is no Deployment `nope`');
  });
});

describe('create-authorization-policy', () => {
  it('dry-runs the create, then creates exactly the probe policy once, marked as meshops’', async () => {
    const { log, lines } = capturedLogger();
    const svc = svcWith({ log });
    const r = await svc.propose({
      kind: CREATE_AUTHORIZATION_POLICY,
      target: { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'profile-allow-kubelet-probes' },
      params: { spec: PROBE_SPEC, workload: 'profile' },
      why: 'readiness probe blocked by AuthorizationPolicy',
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    expect(sb.store.get('AuthorizationPolicy', 'shop', 'profile-allow-kubelet-probes')).toBeUndefined();
    const facts = Object.fromEntries(r.record.preview?.facts ?? []);
    expect(facts.Allows).toBe('GET /ready on port 8081; GET /live, /started on port 8080');
    expect(r.record.preview?.affected).toHaveLength(2);

    await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    await waitFor(async () => (await state(svc, r.record.id))?.state === 'done', 'the pods to be Ready');
    await svc.idle();
    const ap = sb.store.get('AuthorizationPolicy', 'shop', 'profile-allow-kubelet-probes');
    expect(ap?.spec).toEqual(PROBE_SPEC);
    expect(ap?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('meshops');
    expect(ap?.metadata.annotations?.[FIX_REQUEST_ANNOTATION]).toBe(r.record.id);
    const done = await state(svc, r.record.id);
    expect(done?.outcome?.summary).toContain('2/2 pods Ready');

    const again = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0ERIN'));
    expect(textOf(again?.ephemeral)).toMatch(/already|done/i);
    await svc.idle();
    expect(sb.store.get('AuthorizationPolicy', 'shop', 'profile-allow-kubelet-probes')?.metadata.resourceVersion).toBe(
      ap?.metadata.resourceVersion,
    );
    const audit = lines
      .filter((l) => l.audit)
      .map((l) => l.audit as { action: string; id: string; by?: string })
      .filter((a) => a.id === r.record.id);
    expect(audit.map((a) => [a.action, a.by])).toEqual(
      expect.arrayContaining([
        ['proposed', 'U0ALICE'],
        ['approved', 'U0BOB'],
      ]),
    );
    expect(audit.map((a) => a.action)).toContain('executed');
  });

  it('refuses a name that exists, a policy that selects no workload, and one created by someone else in between', async () => {
    const svc = svcWith();
    const taken = await svc.propose({
      kind: CREATE_AUTHORIZATION_POLICY,
      target: { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'taken' },
      params: { spec: PROBE_SPEC },
      requester: alice,
      cluster: 'sandbox',
    });
    expect(taken.ok).toBe(false);
    if (!taken.ok) expect(taken.reason).toContain('already exists');
    const wide = await svc.propose({
      kind: CREATE_AUTHORIZATION_POLICY,
      target: { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'wide' },
      params: { spec: { ...PROBE_SPEC, selector: { matchLabels: {} } } },
      requester: alice,
      cluster: 'sandbox',
    });
    expect(wide.ok).toBe(false);
    if (!wide.ok) expect(wide.reason).toContain('the policy must select a workload');

    const r = await svc.propose({
      kind: CREATE_AUTHORIZATION_POLICY,
      target: { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'race' },
      params: { spec: PROBE_SPEC },
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    await kubeFor(sb).create({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'race', namespace: 'shop' },
      spec: { action: 'DENY' },
    });
    await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    await waitFor(async () => (await state(svc, r.record.id))?.state === 'superseded', 'the refusal');
    await svc.idle();
    const race = sb.store.get('AuthorizationPolicy', 'shop', 'race');
    expect(race?.spec).toEqual({ action: 'DENY' });
    expect(race?.metadata.annotations?.[FIX_REQUEST_ANNOTATION]).toBeUndefined();
  });
});

describe('verify: what the engine asks when the API server’s answer was lost', () => {
  it('finds this request’s change by its marker, and not another request’s', async () => {
    const kube = kubeFor(sb);
    const [template, policy] = whyRemediations;
    if (!template || !policy) throw new Error('kinds missing');
    const dep = { kind: 'Deployment', namespace: 'shop', name: 'profile' };
    const p = await template.preview(
      kube,
      dep,
      { annotations: { 'sidecar.istio.io/proxyMemory': '300Mi' } },
      new Date(),
    );
    if (!p.ok) throw new Error(p.reason);
    const mine = { requestId: 'b'.repeat(32) };
    const before = await template.verify(kube, dep, p.plan, mine);
    expect(before.landed).toBe(false);
    expect(before.fingerprint).toBe(p.fingerprint);
    await template.execute(kube, dep, p.plan, mine);
    const after = await template.verify(kube, dep, p.plan, mine);
    expect(after.landed).toBe(true);
    expect(after.fingerprint).not.toBe(p.fingerprint);
    expect((await template.verify(kube, dep, p.plan, { requestId: 'c'.repeat(32) })).landed).toBe(false);
    // The plan, executed again, is refused by the API server: it tests the generation the preview saw.
    await expect(template.execute(kube, dep, p.plan, mine)).rejects.toThrow();

    const ap = { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'verify-me' };
    const q = await policy.preview(kube, ap, { spec: PROBE_SPEC }, new Date());
    if (!q.ok) throw new Error(q.reason);
    const absent = await policy.verify(kube, ap, q.plan, mine);
    expect(absent).toMatchObject({ landed: false, fingerprint: 'absent' });
    await policy.execute(kube, ap, q.plan, mine);
    expect((await policy.verify(kube, ap, q.plan, mine)).landed).toBe(true);
    expect((await policy.verify(kube, ap, q.plan, { requestId: 'c'.repeat(32) })).landed).toBe(false);
    await expect(policy.execute(kube, ap, q.plan, mine)).rejects.toThrow();
  });
});
