// The sandbox's own AuthorizationPolicy reading (src/sandbox/authz-policy.ts), for the requests it judges: the
// kubelet's plaintext probes from the node, without identity. Istio's order (DENY, then ALLOW when any ALLOW
// policy applies), which policies apply (namespace and selector, the root namespace), and the rule fields.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { authorize } from '../../src/sandbox/authz-policy.ts';

function policy(name: string, spec: Record<string, unknown>, namespace = 'accounts'): KubeObject {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}

const probe = { sourceIp: '172.18.0.2', host: '10.244.0.12:8081', port: 8081, method: 'GET', path: '/ready' };
const labels = { app: 'profile' };
const onProfile = { selector: { matchLabels: { app: 'profile' } } };

describe('authorize (a plaintext probe from the node)', () => {
  it.each([
    ['no policy: allowed', [], true],
    [
      'an ALLOW for a principal only: no identity, denied',
      [policy('a', { ...onProfile, rules: [{ from: [{ source: { principals: ['*'] } }] }] })],
      false,
    ],
    [
      'an ALLOW with the probe path and port: allowed',
      [policy('a', { ...onProfile, rules: [{ to: [{ operation: { ports: ['8081'], paths: ['/ready'] } }] }] })],
      true,
    ],
    [
      'an ALLOW with a prefix path: allowed',
      [policy('a', { rules: [{ to: [{ operation: { paths: ['/re*'] } }] }] })],
      true,
    ],
    [
      'an ALLOW with a suffix path that does not match: denied',
      [policy('a', { rules: [{ to: [{ operation: { paths: ['*/health'] } }] }] })],
      false,
    ],
    [
      'an ALLOW for another port: denied',
      [policy('a', { rules: [{ to: [{ operation: { ports: ['8080'] } }] }] })],
      false,
    ],
    [
      'notPaths excludes the probe: denied',
      [policy('a', { rules: [{ to: [{ operation: { notPaths: ['/ready'] } }] }] })],
      false,
    ],
    ['an ALLOW with no rules allows nothing: denied', [policy('a', { action: 'ALLOW' })], false],
    ['rules: [{}] allows everything', [policy('a', { rules: [{}] })], true],
    [
      'an ALLOW selecting another workload does not apply: allowed',
      [
        policy('a', {
          selector: { matchLabels: { app: 'x' } },
          rules: [{ from: [{ source: { principals: ['*'] } }] }],
        }),
      ],
      true,
    ],
    [
      'an ALLOW in another namespace does not apply: allowed',
      [policy('a', { rules: [{ from: [{ source: { principals: ['*'] } }] }] }, 'shop')],
      true,
    ],
    [
      'a root-namespace ALLOW applies mesh-wide: denied',
      [policy('a', { rules: [{ from: [{ source: { namespaces: ['x'] } }] }] }, 'istio-system')],
      false,
    ],
    [
      'an ipBlock with the node: allowed',
      [policy('a', { rules: [{ from: [{ source: { ipBlocks: ['172.18.0.0/16'] } }] }] })],
      true,
    ],
    [
      'a when on source.ip: allowed',
      [policy('a', { rules: [{ when: [{ key: 'source.ip', values: ['172.18.0.2'] }] }] })],
      true,
    ],
    [
      'a when on a header the probe has not: denied',
      [policy('a', { rules: [{ when: [{ key: 'request.headers[x-token]', values: ['*'] }] }] })],
      false,
    ],
    [
      'notPrincipals holds for no identity: allowed',
      [policy('a', { rules: [{ from: [{ source: { notPrincipals: ['cluster.local/ns/x/sa/y'] } }] }] })],
      true,
    ],
  ] as [string, KubeObject[], boolean][])('%s', (_name, policies, allowed) => {
    const d = authorize(policies, 'accounts', labels, probe);
    expect(d.allowed).toBe(allowed);
    if (!allowed) expect(d.details).toBe('rbac_access_denied_matched_policy[none]');
  });

  it('DENY comes first and is named as Envoy names it', () => {
    const d = authorize(
      [
        policy('allow-all', { rules: [{}] }),
        policy('no-ready', {
          action: 'DENY',
          rules: [{ to: [{ operation: { methods: ['POST'] } }] }, { to: [{ operation: { paths: ['/ready'] } }] }],
        }),
      ],
      'accounts',
      labels,
      probe,
    );
    expect(d).toEqual({
      allowed: false,
      details: 'rbac_access_denied_matched_policy[ns[accounts]-policy[no-ready]-rule[1]]',
    });
  });

  it('a DENY that does not match leaves the ALLOWs to decide', () => {
    const deny = policy('d', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] });
    expect(authorize([deny], 'accounts', labels, probe).allowed).toBe(true);
    expect(
      authorize(
        [deny, policy('a', { rules: [{ to: [{ operation: { paths: ['/api/*'] } }] }] })],
        'accounts',
        labels,
        probe,
      ).allowed,
    ).toBe(false);
  });
});
