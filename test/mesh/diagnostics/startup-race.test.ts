import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { meshConfigFrom } from '../../../src/mesh/mesh-config.ts';
import { diagnoseStartupRace, holdState, mergeHold } from '../../../src/mesh/diagnostics/startup-race.ts';
import type { DiagnosticResult, Finding } from '../../../src/mesh/diagnostics/types.ts';
import { annotationsIn, deployment, event, injectedPod } from './injected-pod.ts';

function findings(r: DiagnosticResult): Finding[] {
  return r.outcome === 'found' ? r.findings : [];
}

const appRestarted = {
  cart: {
    restartCount: 3,
    lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: '2026-12-02T07:01:02Z' } },
  },
};
const coldLog = [
  'starting cart service',
  'loading config from http://config.shop:8080/cart',
  'Error: connect ECONNREFUSED 10.96.4.12:8080',
].join('\n');

describe('startup race', () => {
  it('tells how a pod was injected: native sidecar, held, or not held', () => {
    expect(holdState(injectedPod({ native: true }))).toBe('native');
    expect(holdState(injectedPod({ hold: true }))).toBe('held');
    expect(holdState(injectedPod())).toBe('not-held');
  });

  it('finds the race (app restarted, proxy not, connection refused early) and merges the hold into the JSON annotation', () => {
    const pod = injectedPod({ statuses: appRestarted });
    const workload = deployment({ 'proxy.istio.io/config': '{ "concurrency": 2 }' });
    const r = diagnoseStartupRace({
      pods: [pod],
      workload,
      meshConfig: meshConfigFrom(),
      events: [],
      appLogs: { [pod.metadata.name]: { cart: coldLog } },
    });
    const f = findings(r)[0];
    expect(f?.title).toBe('the app starts before its sidecar is ready');
    expect(f?.confidence).toBe('high');
    expect(f?.evidence.join('\n')).toContain('container cart restarted 3 times');
    expect(f?.evidence.join('\n')).toContain('istio-proxy never');
    expect(f?.evidence.join('\n')).toContain('line 3: Error: connect ECONNREFUSED');
    expect(f?.cause).toContain('holdApplicationUntilProxyStarts is false from default');
    const annotation = annotationsIn(f?.fix)['proxy.istio.io/config'];
    expect(JSON.parse(annotation ?? '')).toEqual({ concurrency: 2, holdApplicationUntilProxyStarts: true });
    expect(f?.alternatives?.[0]).toMatchObject({
      kind: 'mesh-config',
      target: { kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' },
      patch: { defaultConfig: { holdApplicationUntilProxyStarts: true } },
    });
  });

  it('keeps a YAML proxy.istio.io/config YAML, with what was there', () => {
    const merged = mergeHold('concurrency: 2\nholdApplicationUntilProxyStarts: false\n');
    expect(merged).not.toContain('{');
    expect(parse(merged ?? '')).toEqual({ concurrency: 2, holdApplicationUntilProxyStarts: true });
    expect(mergeHold(undefined)).toBe('{"holdApplicationUntilProxyStarts":true}');
    expect(mergeHold('[1, 2')).toBeUndefined();
  });

  it('rates restarts alone as medium', () => {
    const r = diagnoseStartupRace({ pods: [injectedPod({ statuses: appRestarted })], workload: deployment() });
    expect(findings(r)[0]?.confidence).toBe('medium');
    expect(r.unread.join('\n')).toContain('app logs were not read');
  });

  it('says when the hold is configured but the pods predate it (restart), without a patch', () => {
    const meshConfig = meshConfigFrom('defaultConfig:\n  holdApplicationUntilProxyStarts: true\n');
    const r = diagnoseStartupRace({
      pods: [injectedPod({ statuses: appRestarted })],
      workload: deployment(),
      meshConfig,
    });
    const f = findings(r)[0];
    expect(f?.cause).toContain('injected without it');
    expect(f?.fix).toBeUndefined();
  });

  it('does not flag the race when the hold is already set, and says the restarts have another cause (low)', () => {
    const workload = deployment({ 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' });
    const r = diagnoseStartupRace({
      pods: [injectedPod({ hold: true, statuses: appRestarted })],
      workload,
      meshConfig: meshConfigFrom(),
    });
    expect(findings(r).map((f) => [f.title, f.confidence])).toEqual([
      ['app restarts, but not from the startup race', 'low'],
    ]);
    expect(findings(r)[0]?.fix).toBeUndefined();
    expect(r.notes.join('\n')).toContain('the app is held until Envoy is ready');
  });

  it('does not flag native sidecars', () => {
    const r = diagnoseStartupRace({ pods: [injectedPod({ native: true })], meshConfig: meshConfigFrom() });
    expect(r.outcome).toBe('nothing-found');
    expect(r.notes.join('\n')).toContain('native sidecar');
  });

  it('reports a hold that timed out (FailedPostStartHook on istio-proxy)', () => {
    const pod = injectedPod({ hold: true });
    const r = diagnoseStartupRace({
      pods: [pod],
      meshConfig: meshConfigFrom(),
      events: [
        event(pod, 'FailedPostStartHook', 'PostStartHook failed: timeout waiting for Envoy proxy to become ready', {
          involvedObject: { kind: 'Pod', name: pod.metadata.name, fieldPath: 'spec.containers{istio-proxy}' },
        }),
      ],
    });
    expect(findings(r)[0]?.title).toBe('the sidecar did not become ready within the hold');
    expect(findings(r)[0]?.evidence[0]).toContain('timeout waiting for Envoy proxy');
  });

  it('does not take an app killed for its own memory (OOMKilled, 137) for the race, and says what it was', () => {
    const oom = {
      cart: {
        restartCount: 3,
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-12-02T07:01:02Z' } },
      },
    };
    const r = diagnoseStartupRace({
      pods: [injectedPod({ statuses: oom })],
      workload: deployment(),
      meshConfig: meshConfigFrom(),
      events: [],
      appLogs: {},
    });
    expect(r.outcome).toBe('nothing-found');
    expect(r.notes.join('\n')).toMatch(/container cart restarted 3 times, last .*OOMKilled.*not the startup race/);
  });

  it('finds nothing on an unheld pod without cold-start failures, and says it is not held', () => {
    const r = diagnoseStartupRace({ pods: [injectedPod()], meshConfig: meshConfigFrom(), events: [], appLogs: {} });
    expect(r.outcome).toBe('nothing-found');
    expect(r.notes.join('\n')).toContain('no cold-start failure was seen');
  });

  it('cannot check without pods, sidecars or statuses', () => {
    expect(diagnoseStartupRace({ pods: [] }).outcome).toBe('could-not-check');
    const { status: _s, ...noStatus } = injectedPod();
    const r = diagnoseStartupRace({ pods: [noStatus] });
    expect(r.outcome === 'could-not-check' && r.reason).toContain('no pod reports container statuses');
  });
});
