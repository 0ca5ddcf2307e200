// The diagnostics' fixes as buttons. Each finding's fix, then its alternatives, becomes an Offer for one of
// the kinds in fix-kinds.ts: a pod template annotation patch of a Deployment → `pod-template-annotations`
// (a proxy.istio.io/config value becomes the ProxyConfig settings to merge into the live annotation at
// preview time, so nothing already there is lost); an AuthorizationPolicy to create →
// `create-authorization-policy`. A mesh-config fix is never a button (meshops does not edit istio's
// ConfigMap: the answer names the setting), nor is a fix no kind can apply (a Sidecar to create, a patch
// of anything but a Deployment's template annotations). The same change offered twice is offered once.
import { z } from 'zod';
import type { Offer } from '../../blocks/block-kit.ts';
import type { Finding, Fix } from '../../mesh/diagnostics/types.ts';
import { CREATE_AUTHORIZATION_POLICY, policyParamsSchema } from './fix-policy-kind.ts';
import { PROXY_CONFIG_ANNOTATION, proxyConfigFields, proxyConfigSettingsSchema } from './fix-proxy-config.ts';
import { POD_TEMPLATE_ANNOTATIONS, templateParamsSchema, type TemplateParams } from './fix-template-kind.ts';

const LABEL_MAX = 75;
const WHY_MAX = 600;
const RESOURCE_KEYS = ['proxyCPU', 'proxyMemory', 'proxyCPULimit', 'proxyMemoryLimit'].map(
  (k) => `sidecar.istio.io/${k}`,
);
const REWRITE_KEY = 'sidecar.istio.io/rewriteAppHTTPProbers';

const templatePatchSchema = z.strictObject({
  spec: z.strictObject({
    template: z.strictObject({ metadata: z.strictObject({ annotations: z.record(z.string(), z.string()) }) }),
  }),
});

/** `<action> <ns>/<name>`, the name cut (never the namespace or the action) to fit Slack's 75 characters. */
export function offerLabel(action: string, namespace: string, name: string): string {
  const full = `${action} ${namespace}/${name}`;
  if (full.length <= LABEL_MAX) return full;
  const room = LABEL_MAX - action.length - namespace.length - 3;
  if (room >= 4) return `${action} ${namespace}/${name.slice(0, room)}…`;
  return `${full.slice(0, LABEL_MAX - 1)}…`;
}

function whyOf(finding: Finding, fix: Fix): string {
  const text = `${finding.title}: ${fix.why}`;
  return text.length > WHY_MAX ? `${text.slice(0, WHY_MAX - 1)}…` : text;
}

/** The ProxyConfig settings a proposed proxy.istio.io/config value is for: those the finding's mesh-wide alternative names, else all of it. */
function proxyConfigSettings(finding: Finding, value: string): Record<string, unknown> | undefined {
  const fields = proxyConfigFields(value);
  if (!fields) return undefined;
  const mesh = [finding.fix, ...(finding.alternatives ?? [])].find((f) => f?.kind === 'mesh-config');
  const named = mesh ? (mesh.patch as { defaultConfig?: Record<string, unknown> }).defaultConfig : undefined;
  const keys = named ? Object.keys(named).filter((k) => k in fields) : Object.keys(fields);
  return keys.length ? Object.fromEntries(keys.map((k) => [k, fields[k]])) : undefined;
}

function templateAction(p: TemplateParams): string {
  const keys = Object.keys(p.annotations ?? {});
  if (p.proxyConfig && 'holdApplicationUntilProxyStarts' in p.proxyConfig && keys.length === 0)
    return 'Hold app until proxy starts:';
  if (p.proxyConfig && keys.length === 0) return 'Merge proxy config:';
  if (!p.proxyConfig && keys.length === RESOURCE_KEYS.length && RESOURCE_KEYS.every((k) => keys.includes(k)))
    return 'Set proxy CPU/memory:';
  if (!p.proxyConfig && keys.length === 1 && keys[0] === REWRITE_KEY) return 'Turn probe rewrite on:';
  return 'Set pod annotations:';
}

function templateOffer(finding: Finding, fix: Extract<Fix, { kind: 'strategic-merge-patch' }>): Offer | undefined {
  if (fix.target.kind !== 'Deployment') return undefined;
  const patch = templatePatchSchema.safeParse(fix.patch);
  if (!patch.success) return undefined;
  const { [PROXY_CONFIG_ANNOTATION]: proxyValue, ...annotations } = patch.data.spec.template.metadata.annotations;
  const raw: Record<string, unknown> = {};
  if (Object.keys(annotations).length) raw.annotations = annotations;
  if (proxyValue !== undefined) {
    const settings = proxyConfigSettingsSchema.safeParse(proxyConfigSettings(finding, proxyValue));
    if (!settings.success) return undefined;
    raw.proxyConfig = settings.data;
  }
  const params = templateParamsSchema.safeParse(raw);
  if (!params.success) return undefined;
  return {
    label: offerLabel(templateAction(params.data), fix.target.namespace, fix.target.name),
    remediation: {
      kind: POD_TEMPLATE_ANNOTATIONS,
      target: { kind: 'Deployment', namespace: fix.target.namespace, name: fix.target.name },
      why: whyOf(finding, fix),
      risk: `changes the pod template: every pod of ${fix.target.namespace}/${fix.target.name} is replaced by a rollout`,
      params: params.data,
    },
  };
}

function policyOffer(finding: Finding, fix: Extract<Fix, { kind: 'create' }>): Offer | undefined {
  if (fix.target.kind !== 'AuthorizationPolicy' || fix.object.kind !== 'AuthorizationPolicy') return undefined;
  const workloadFix = [finding.fix, ...(finding.alternatives ?? [])].find(
    (f) => f?.kind === 'strategic-merge-patch' && f.target.namespace === fix.target.namespace,
  );
  const matchLabels = (fix.object.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
    ?.matchLabels;
  const workload = workloadFix?.target.name ?? matchLabels?.app ?? fix.target.name;
  const params = policyParamsSchema.safeParse({ spec: fix.object.spec, workload });
  if (!params.success) return undefined;
  return {
    label: offerLabel('Allow kubelet probes to', fix.target.namespace, workload),
    remediation: {
      kind: CREATE_AUTHORIZATION_POLICY,
      target: { kind: 'AuthorizationPolicy', namespace: fix.target.namespace, name: fix.target.name },
      why: whyOf(finding, fix),
      risk: 'anyone who can reach the pod, plaintext included, may send these exact probe requests',
      params: params.data,
    },
  };
}

function offerFor(finding: Finding, fix: Fix): Offer | undefined {
  if (fix.kind === 'strategic-merge-patch') return templateOffer(finding, fix);
  if (fix.kind === 'create') return policyOffer(finding, fix);
  return undefined; // mesh-config: the answer names the setting; meshops does not edit istio's ConfigMap
}

/** Offers for the findings' fixes, in the findings' order (each fix before its alternatives), each change once. */
export function offersFor(findings: Finding[]): Offer[] {
  const seen = new Set<string>();
  const out: Offer[] = [];
  for (const finding of findings) {
    for (const fix of [finding.fix, ...(finding.alternatives ?? [])]) {
      if (!fix) continue;
      const offer = offerFor(finding, fix);
      if (!offer) continue;
      const r = offer.remediation;
      const key = JSON.stringify([r.kind, r.target, r.params]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(offer);
    }
  }
  return out;
}
