// Suppressing messages as istioctl analyze does (pkg/config/analysis/local/analyze.go, FilterMessages):
// * a resource annotated `galley.istio.io/analyze-suppress` with a comma-separated list of codes (`*` for all)
//   reports none of them; the codes are compared exactly, as Istio splits on "," without trimming;
// * `--suppress CODE=RESOURCE` (istioctl's -S), RESOURCE a glob (`*` matches anything) on the resource's
//   friendly name, `<Kind> <name>.<namespace>` or `<Kind> <name>` (Origin.FriendlyName).
import type { KubeObject } from '../../kube/objects.ts';
import type { MeshSnapshot } from '../snapshot.ts';
import type { AnalysisMessage } from './types.ts';

export const SUPPRESS_ANNOTATION = 'galley.istio.io/analyze-suppress';

export interface Suppression {
  code: string;
  /** A glob on the friendly name. */
  resource: string;
}

/** `<Kind> <name>.<namespace>` (istioctl's convention), or `<Kind> <name>` for an object without a namespace. */
export function friendlyName(m: AnalysisMessage): string {
  const { kind, namespace, name } = m.resource;
  return namespace ? `${kind} ${name}.${namespace}` : `${kind} ${name}`;
}

/** Parses `CODE=RESOURCE`; undefined when it is not of that form. */
export function parseSuppression(text: string): Suppression | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) return undefined;
  return { code: text.slice(0, eq), resource: text.slice(eq + 1) };
}

/**
 * `*` alone is special, as in the go-glob istioctl matches suppressions with (approvals/glob.ts, for policy entries,
 * also takes `?`, which istioctl would compare literally).
 */
function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[\\s\\S]*')}$`);
  return re.test(text);
}

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The object a message is about, when the snapshot has it (any group of that kind). */
function objectOf(snapshot: MeshSnapshot, m: AnalysisMessage): KubeObject | undefined {
  return snapshot.get(m.resource.kind, m.resource.namespace, m.resource.name);
}

export function isSuppressed(m: AnalysisMessage, snapshot: MeshSnapshot, suppressions: readonly Suppression[] = []) {
  const codes = objectOf(snapshot, m)?.metadata.annotations?.[SUPPRESS_ANNOTATION];
  if (codes?.split(',').some((c) => c === '*' || c === m.code)) return true;
  return suppressions.some((s) => s.code === m.code && globMatch(s.resource, friendlyName(m)));
}
