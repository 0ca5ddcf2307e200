// What a Pod gets on create from the API server's defaulting and admission plugins, beyond the
// field defaults in defaults.ts: enableServiceLinks (defaulting), priority 0 and PreemptLowerPriority
// (Priority, with no default PriorityClass), the not-ready/unreachable NoExecute tolerations for 300 s
// (DefaultTolerationSeconds), and the projected service-account token volume kube-api-access-xxxxx
// mounted in every container (ServiceAccount), unless automountServiceAccountToken is false.
import { randomBytes } from 'node:crypto';

type Obj = Record<string, unknown>;

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(n = 5): string {
  let out = '';
  for (const b of randomBytes(n)) out += SUFFIX_CHARS[b % SUFFIX_CHARS.length];
  return out;
}

function tokenVolume(name: string): Obj {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
      defaultMode: 420,
    },
  };
}

const DEFAULT_TOLERATIONS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** Mutate a new Pod's spec as admission does; `serviceAccount` is the Pod's ServiceAccount object, when it exists. */
export function admitNewPod(spec: Obj, serviceAccount: Obj | undefined): void {
  spec.enableServiceLinks ??= true;
  if (spec.priorityClassName === undefined) spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';

  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  for (const key of DEFAULT_TOLERATIONS) {
    const covered = tolerations.some(
      (t) =>
        (t.key === key || (t.key === undefined && t.operator === 'Exists')) &&
        (t.effect === undefined || t.effect === 'NoExecute'),
    );
    if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;

  const automount = spec.automountServiceAccountToken ?? serviceAccount?.automountServiceAccountToken;
  if (automount === false) return;
  const containers = [
    ...((spec.initContainers as Obj[] | undefined) ?? []),
    ...((spec.containers as Obj[] | undefined) ?? []),
  ];
  const name = `kube-api-access-${suffix()}`;
  let used = false;
  for (const c of containers) {
    const mounts = Array.isArray(c.volumeMounts) ? (c.volumeMounts as Obj[]) : [];
    if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT)) continue;
    c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT }];
    used = true;
  }
  if (used) spec.volumes = [...((spec.volumes as Obj[] | undefined) ?? []), tokenVolume(name)];
}
