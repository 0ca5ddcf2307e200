import { describe, expect, it } from '@jest/globals';
import { effectivePeerAuthentication } from '../../src/mesh/peer-authentication.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { istio } from './mesh-fixtures.ts';

const labels = { app: 'reviews', version: 'v1' };

function modes(pa: ReturnType<typeof effectivePeerAuthentication>) {
  return Object.fromEntries(
    pa.ports.map((p) => [
      p.port,
      `${p.mode} by ${p.decidedBy.level}${p.decidedBy.policy ? ` ${p.decidedBy.policy.namespace}/${p.decidedBy.policy.name}` : ''}`,
    ]),
  );
}

describe('effectivePeerAuthentication', () => {
  it('defaults to PERMISSIVE when no policy applies', () => {
    const pa = effectivePeerAuthentication(new MeshSnapshot([]), 'bookinfo', labels, [9080]);
    expect(pa.workloadMode).toBe('PERMISSIVE');
    expect(pa.decidedBy.level).toBe('default');
    expect(pa.applied).toEqual([]);
  });

  it('a root-namespace policy without selector is mesh-wide STRICT', () => {
    const snapshot = new MeshSnapshot([
      istio('PeerAuthentication', 'istio-system', 'default', { mtls: { mode: 'STRICT' } }),
    ]);
    const pa = effectivePeerAuthentication(snapshot, 'bookinfo', labels, [9080]);
    expect(pa.workloadMode).toBe('STRICT');
    expect(pa.decidedBy).toMatchObject({ level: 'mesh', policy: { namespace: 'istio-system', name: 'default' } });
    expect(pa.decidedBy.text).toBe('PeerAuthentication istio-system/default (mesh-wide)');
  });

  it('reads the root namespace from meshConfig.rootNamespace', () => {
    const objs = [istio('PeerAuthentication', 'mesh-root', 'default', { mtls: { mode: 'STRICT' } })];
    expect(effectivePeerAuthentication(new MeshSnapshot(objs), 'bookinfo', labels, []).workloadMode).toBe('PERMISSIVE');
    const pa = effectivePeerAuthentication(
      new MeshSnapshot(objs, { meshConfig: { rootNamespace: 'mesh-root' } }),
      'bookinfo',
      labels,
      [],
    );
    expect(pa.workloadMode).toBe('STRICT');
  });

  it('namespace policy overrides mesh; a workload-selector policy beats the namespace policy', () => {
    const snapshot = new MeshSnapshot([
      istio('PeerAuthentication', 'istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      istio('PeerAuthentication', 'bookinfo', 'ns-wide', { mtls: { mode: 'PERMISSIVE' } }),
      istio('PeerAuthentication', 'bookinfo', 'reviews-strict', {
        selector: { matchLabels: { app: 'reviews' } },
        mtls: { mode: 'STRICT' },
      }),
      istio('PeerAuthentication', 'bookinfo', 'ratings-disable', {
        selector: { matchLabels: { app: 'ratings' } },
        mtls: { mode: 'DISABLE' },
      }),
    ]);
    const reviews = effectivePeerAuthentication(snapshot, 'bookinfo', labels, [9080]);
    expect(reviews.workloadMode).toBe('STRICT');
    expect(reviews.decidedBy.policy?.name).toBe('reviews-strict');
    expect(reviews.applied.map((a) => `${a.level}:${a.policy.name}:${a.mode}`)).toEqual([
      'mesh:default:STRICT',
      'namespace:ns-wide:PERMISSIVE',
      'workload:reviews-strict:STRICT',
    ]);
    const other = effectivePeerAuthentication(snapshot, 'bookinfo', { app: 'details' }, [9080]);
    expect(other.workloadMode).toBe('PERMISSIVE');
    expect(other.decidedBy.policy?.name).toBe('ns-wide');
  });

  it('port-level override on the workload policy; keys are target ports; UNSET ports inherit', () => {
    const snapshot = new MeshSnapshot([
      istio('PeerAuthentication', 'bookinfo', 'ns', { mtls: { mode: 'STRICT' } }),
      istio('PeerAuthentication', 'bookinfo', 'reviews', {
        selector: { matchLabels: { app: 'reviews' } },
        mtls: { mode: 'UNSET' },
        portLevelMtls: { '9080': { mode: 'PERMISSIVE' }, '15000': { mode: 'UNSET' } },
      }),
    ]);
    const pa = effectivePeerAuthentication(snapshot, 'bookinfo', labels, [9080, 8080]);
    expect(pa.workloadMode).toBe('STRICT');
    expect(pa.decidedBy.policy?.name).toBe('ns'); // the workload policy is UNSET, so the namespace decides
    expect(modes(pa)).toEqual({
      8080: 'STRICT by namespace bookinfo/ns',
      9080: 'PERMISSIVE by port bookinfo/reviews',
      15000: 'STRICT by namespace bookinfo/ns',
    });
    expect(pa.ports.find((p) => p.port === 15000)?.decidedBy.text).toMatch(
      /port 15000 is UNSET in reviews and inherits/,
    );
  });

  it('when two policies match at the same level the oldest wins', () => {
    const older = istio('PeerAuthentication', 'bookinfo', 'zz-older', {
      selector: { matchLabels: { app: 'reviews' } },
      mtls: { mode: 'DISABLE' },
    });
    const newer = istio('PeerAuthentication', 'bookinfo', 'aa-newer', {
      selector: { matchLabels: { version: 'v1' } },
      mtls: { mode: 'STRICT' },
    });
    const pa = effectivePeerAuthentication(new MeshSnapshot([newer, older]), 'bookinfo', labels, []);
    expect(pa.workloadMode).toBe('DISABLE');
    expect(pa.ignored).toEqual([
      { policy: expect.objectContaining({ name: 'aa-newer' }), why: expect.stringMatching(/zz-older, is older/) },
    ]);
  });

  it('ignores root-namespace selector policies and portLevelMtls without a selector', () => {
    const snapshot = new MeshSnapshot([
      istio('PeerAuthentication', 'istio-system', 'reviews-sel', {
        selector: { matchLabels: { app: 'reviews' } },
        mtls: { mode: 'DISABLE' },
      }),
      istio('PeerAuthentication', 'bookinfo', 'ns', {
        mtls: { mode: 'STRICT' },
        portLevelMtls: { '9080': { mode: 'DISABLE' } },
      }),
    ]);
    const pa = effectivePeerAuthentication(snapshot, 'bookinfo', labels, [9080]);
    expect(modes(pa)).toEqual({ 9080: 'STRICT by namespace bookinfo/ns' });
    expect(pa.ignored.map((i) => i.policy.name).sort()).toEqual(['ns', 'reviews-sel']);
  });
});
