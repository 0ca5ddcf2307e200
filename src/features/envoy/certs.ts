// `/mesh certs <pod>.<ns>`: the proxy's certificates instead of `openssl s_client`. Read through the
// admin port-forward: /certs (SANs, serial, days left) and the config dump's SDS secrets (the PEM, read
// with node:crypto). Compared with the mesh's trust domain (ConfigMap istio, meshConfig.trustDomain)
// and istiod's root (ConfigMap istio-ca-root-cert, key root-cert.pem, in the pod's namespace). For a
// gateway, the credentialNames of the Gateways selecting it against the SDS secrets it loaded — never
// the Secrets themselves (meshops does not read Secrets). Every read that fails is said, with why.
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import { UserError } from '../../errors.ts';
import { getCerts } from '../../envoy/admin.ts';
import type { LoadedCertificate } from '../../envoy/certs.ts';
import { certsFromPem } from '../../envoy/pem.ts';
import { getSdsSecrets, type SdsSecret } from '../../envoy/sds-secrets.ts';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import { matchesLabels } from '../../kube/objects.ts';
import { readMeshConfig } from '../../mesh/live-snapshot.ts';
import { parseWorkloadRef } from '../../mesh/workload-ref.ts';
import { type CertCheckInput, checkCerts, DEFAULT_GRACE_RATIO } from './cert-check.ts';
import { type CertsResult, renderCerts } from './certs-words.ts';
import { adminFailure, type ProxyTarget, resolveProxy } from './proxy-target.ts';

export const CERTS_USAGE = '/mesh certs <pod>.<namespace> | <deployment> -n <ns> | app=<label> -n <ns>';
const TARGET_KEYWORDS = new Set(['pod', 'po', 'pods', 'deployment', 'deploy', 'deployments']);
const ROOT_CONFIGMAP = 'istio-ca-root-cert';

const argsSchema = z
  .object({ words: z.array(z.string().max(253)).max(4).default([]), namespace: namespaceArg.optional() })
  .transform((a) => {
    if (a.words.length === 0) throw new UserError('Which proxy?', `Usage: \`${CERTS_USAGE}\``);
    const n = TARGET_KEYWORDS.has(a.words[0]!.toLowerCase()) ? 2 : 1;
    if (a.words.length > n)
      throw new UserError(
        `One proxy at a time: \`${a.words.slice(n).join(' ')}\` is more than meshops reads.`,
        `Usage: \`${CERTS_USAGE}\``,
      );
    const ref = parseWorkloadRef([...a.words, ...(a.namespace ? ['-n', a.namespace] : [])].join(' '));
    return { ref, namespace: ref.namespace };
  });

const containerEnv = z.looseObject({
  spec: z
    .looseObject({
      containers: z
        .array(
          z.looseObject({
            name: z.string().optional(),
            env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional(),
          }),
        )
        .default([]),
      initContainers: z
        .array(
          z.looseObject({
            name: z.string().optional(),
            env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional(),
          }),
        )
        .default([]),
    })
    .optional(),
});

/** SECRET_GRACE_PERIOD_RATIO on the pod's istio-proxy container, else Istio's default 0.5. */
export function graceRatioOf(t: ProxyTarget): CertCheckInput['graceRatio'] {
  const spec = containerEnv.safeParse(t.object).data?.spec;
  const proxy = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].find((c) => c.name === 'istio-proxy');
  const v = Number(proxy?.env?.find((e) => e.name === 'SECRET_GRACE_PERIOD_RATIO')?.value);
  if (Number.isFinite(v) && v > 0 && v < 1) return { value: v, source: "the pod's SECRET_GRACE_PERIOD_RATIO" };
  return { value: DEFAULT_GRACE_RATIO, source: "Istio's default SECRET_GRACE_PERIOD_RATIO" };
}

const gatewaySchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  spec: z
    .looseObject({
      selector: z.record(z.string(), z.string()).optional(),
      servers: z
        .array(z.looseObject({ tls: z.looseObject({ credentialName: z.string().optional() }).optional() }))
        .default([]),
    })
    .default({ servers: [] }),
});

/** The credentialNames of the Istio Gateways whose selector matches this gateway pod. */
export async function wantedCredentials(kube: KubeClient, t: ProxyTarget): Promise<CertCheckInput['credentials']> {
  let gateways: unknown[];
  try {
    gateways = await kube.list('Gateway');
  } catch (err) {
    if (err instanceof KubeApiError) return { unread: `the API answered ${err.status} listing Gateways` };
    throw err;
  }
  const labels = t.object.metadata.labels ?? {};
  const byName = new Map<string, Set<string>>();
  for (const raw of gateways) {
    const g = gatewaySchema.safeParse(raw);
    if (!g.success || !g.data.spec.selector || !matchesLabels(g.data.spec.selector, labels)) continue;
    const id = `${g.data.metadata.namespace ?? ''}/${g.data.metadata.name}`;
    for (const s of g.data.spec.servers) {
      const name = s.tls?.credentialName;
      if (!name) continue;
      if (!byName.has(name)) byName.set(name, new Set());
      byName.get(name)!.add(id);
    }
  }
  return [...byName].map(([credentialName, gws]) => ({ credentialName, gateways: [...gws].sort() }));
}

async function istiodRoot(kube: KubeClient, namespace: string): Promise<CertCheckInput['istiodRoot']> {
  const where = `ConfigMap ${namespace}/${ROOT_CONFIGMAP}`;
  try {
    const cm = await kube.get('ConfigMap', namespace, ROOT_CONFIGMAP);
    const pem = z.looseObject({ data: z.record(z.string(), z.string()).optional() }).safeParse(cm).data?.data?.[
      'root-cert.pem'
    ];
    if (!cm) return { unread: `there is no ${where} (istiod writes it into every namespace it watches)` };
    if (!pem) return { unread: `${where} has no root-cert.pem` };
    const { certs } = certsFromPem(pem);
    if (certs.length === 0) return { unread: `${where}'s root-cert.pem holds no certificate that parses` };
    return { certs, source: where };
  } catch (err) {
    if (err instanceof KubeApiError) return { unread: `the API answered ${err.status} reading ${where}` };
    throw err;
  }
}

async function meshTrustDomain(kube: KubeClient): Promise<CertCheckInput['mesh']> {
  try {
    const { meshConfig, source } = await readMeshConfig(kube);
    const td = typeof meshConfig.trustDomain === 'string' ? meshConfig.trustDomain : 'cluster.local';
    const aliases = Array.isArray(meshConfig.trustDomainAliases)
      ? meshConfig.trustDomainAliases.filter((a): a is string => typeof a === 'string')
      : [];
    return { trustDomain: td, aliases, source };
  } catch (err) {
    if (err instanceof KubeApiError)
      return { unread: `the API answered ${err.status} reading ConfigMap istio-system/istio` };
    throw err;
  }
}

export default defineCommand({
  name: 'certs',
  aliases: ['cert', 'certificates'],
  summary: "A proxy's workload certificate, root CA and (for a gateway) TLS credentials, with what is wrong",
  usage: CERTS_USAGE,
  examples: [
    '/mesh certs productpage-v1-6b746f74dc-9stvs.bookinfo',
    '/mesh certs app=istio-ingressgateway -n istio-system',
  ],
  args: argsSchema,
  argSpec: { positional: ['words...'], options: { n: 'namespace', namespace: 'namespace' } },
  permission: 'read',
  touchesCluster: true,
  readOnly: true,
  async run({ args, kube, now }): Promise<CertsResult> {
    const target = await resolveProxy(kube, args.ref);
    const proxy = { namespace: target.namespace, pod: target.pod };
    const failures = new Map<string, unknown>();
    const admin = async <T>(read: () => Promise<T>, what: string): Promise<T | { unread: string }> => {
      try {
        return await read();
      } catch (err) {
        const u = adminFailure(err, proxy, what);
        if (!u) throw err;
        failures.set(what, err);
        return { unread: u.reason };
      }
    };
    const [certs, secrets, mesh, root, credentials] = await Promise.all([
      admin<LoadedCertificate[]>(() => getCerts(kube, proxy), '/certs'),
      admin<SdsSecret[]>(() => getSdsSecrets(kube, proxy), 'its SDS secrets'),
      meshTrustDomain(kube),
      istiodRoot(kube, target.namespace),
      target.role === 'gateway' ? wantedCredentials(kube, target) : Promise.resolve([]),
    ]);
    if ('unread' in certs && 'unread' in secrets) {
      // Both reads failed: said once, for the certificates as a whole.
      const unread = adminFailure(failures.get('its SDS secrets'), proxy, 'its certificates');
      if (unread) return { kind: 'unread', target, unread };
    }
    const report = checkCerts({
      now: now(),
      role: target.role,
      certs,
      secrets,
      mesh,
      istiodRoot: root,
      graceRatio: graceRatioOf(target),
      credentials,
    });
    const unread = [certs, secrets].filter((x): x is { unread: string } => 'unread' in x);
    return { kind: 'report', target, report, unread: unread.map((u) => u.unread) };
  },
  render: (r, meta) => renderCerts(r, meta.now),
});
