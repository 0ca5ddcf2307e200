// precheck.KubernetesVersion (istioctl x precheck's checkServerVersion): IST0142 when the API server's minor
// version is below Istio's MinK8SVersion (28), judged as hashicorp/go-version reads gitVersion.
import { describe, expect, it } from '@jest/globals';
import {
  MIN_K8S_MINOR,
  checkKubernetesVersion,
  kubernetesMinor,
} from '../../src/mesh/analyzers/precheck/kubernetes-version.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';

describe('precheck.KubernetesVersion', () => {
  it('reads the minor from gitVersion with pre-release and build parts', () => {
    expect(kubernetesMinor('v1.27.3-gke.100')).toBe(27);
    expect(kubernetesMinor('v1.30.2+k3s1')).toBe(30);
    expect(kubernetesMinor('1.29')).toBe(29);
    expect(kubernetesMinor('not-a-version')).toBeUndefined();
  });

  it('reports a server one minor below the minimum as IST0142 on the cluster, and passes the minimum itself', () => {
    const old = checkKubernetesVersion({ gitVersion: `v1.${MIN_K8S_MINOR - 1}.9-eks-1` });
    expect('messages' in old && old.messages.map((m) => `${m.code} ${messageResource(m)}`)).toEqual([
      'IST0142 Cluster kube-apiserver',
    ]);
    expect('messages' in old && old.messages[0]?.text).toBe(
      `The Kubernetes Version "v1.${MIN_K8S_MINOR - 1}.9-eks-1" is lower than the minimum version: 1.${MIN_K8S_MINOR}`,
    );
    expect(checkKubernetesVersion({ gitVersion: `v1.${MIN_K8S_MINOR}.0` })).toEqual({ messages: [] });
  });

  it('says it could not judge a version that does not parse, rather than passing it', () => {
    expect(checkKubernetesVersion({ gitVersion: 'banana' })).toEqual({
      unread: 'the API server\'s version "banana" does not parse',
    });
  });
});
