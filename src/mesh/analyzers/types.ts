// The shapes every analyzer shares: what it is, what it reports, and how a report is built from the
// catalogue (Istio's messages, IST codes, and meshops' own, MSH codes) so that code, name, level and wording
// always come from one place.
import type { KubeObject } from '../../kube/objects.ts';
import { formatResource } from '../../kube/objects.ts';
import type { KindRef, SnapshotReader } from '../snapshot.ts';
import { MESHOPS_MESSAGE_TYPES } from './meshops-messages.ts';
import { MESSAGE_TYPES } from './messages.ts';
import type { MessageType } from './messages.ts';
import { sourceOf } from './util/source.ts';

export type Level = 'Error' | 'Warning' | 'Info';

export interface AnalysisMessage {
  /** Istio's code, e.g. IST0101, or meshops' own, e.g. MSH0001. */
  code: string;
  /** Istio's message name, e.g. ReferencedResourceNotFound. */
  name: string;
  level: Level;
  resource: { kind: string; namespace?: string; name: string };
  /** Rendered from the catalogue's template. */
  text: string;
  /** Line in the source file, when the object came from YAML. */
  line?: number;
  /** The file the object came from, when it came from YAML. */
  origin?: string;
}

/** A kind an analyzer reads. */
export interface AnalyzerInput extends KindRef {
  /**
   * Set when the analyzer still runs without this kind, and says what it then leaves out ("the injector's
   * enableNamespacesByDefault"). Without it the kind is required: the analyzer is skipped when it is missing.
   */
  readonly optional?: string;
}

export interface Analyzer {
  /** Istio's analyzer name, e.g. `virtualservice.GatewayAnalyzer`; meshops' own start with `meshops.`. */
  readonly name: string;
  readonly description: string;
  /** Runs only when asked for by name (Istio leaves it out of its default set too). */
  readonly optIn?: boolean;
  /**
   * Every kind it reads, with its group (Istio's Metadata.Inputs). The live snapshot lists the union of the
   * chosen analyzers' inputs; a test fails when an analyzer reads a kind not declared here.
   */
  readonly inputs: readonly AnalyzerInput[];
  analyze(snapshot: SnapshotReader): AnalysisMessage[];
}

/** An input the analyzer can do without, and what it then does not check. */
export function optional(ref: KindRef, without: string): AnalyzerInput {
  return { group: ref.group, kind: ref.kind, optional: without };
}

/** Every message an analyzer can report: Istio's catalogue and meshops' own (scripts/meshops-messages.yaml). */
export const CATALOGUE = { ...MESSAGE_TYPES, ...MESHOPS_MESSAGE_TYPES } as const satisfies Record<string, MessageType>;
export type MessageName = keyof typeof CATALOGUE;

/** Codes that are meshops' own (MSH...), not Istio's: they have no page on istio.io. */
export function isMeshopsCode(code: string): boolean {
  return code.startsWith('MSH');
}

/** `<Kind> <namespace>/<name>` or `<Kind> <name>`: the resource as Istio prints it. */
export function messageResource(m: Pick<AnalysisMessage, 'resource'>): string {
  return formatResource(m.resource.kind, m.resource.namespace, m.resource.name);
}

/**
 * Builds a message of a catalogue type about an object. `path` points at the offending field
 * (e.g. ['spec', 'gateways', 0]) so the line can be found when the object came from YAML.
 */
export function message(
  type: MessageName,
  obj: KubeObject,
  args: readonly unknown[],
  path?: readonly (string | number)[],
): AnalysisMessage {
  const t: MessageType = CATALOGUE[type];
  const msg: AnalysisMessage = {
    code: t.code,
    name: t.name,
    level: t.level,
    resource: {
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    },
    text: formatGo(t.template, args),
  };
  const source = sourceOf(obj);
  if (source) {
    msg.origin = source.file;
    const line = source.lineOf(path ?? ['metadata', 'name']) ?? source.line;
    if (line !== undefined) msg.line = line;
  }
  return msg;
}

/** A small subset of Go's fmt verbs (%s %v %q %d %%), enough for Istio's message templates. */
export function formatGo(template: string, args: readonly unknown[]): string {
  let i = 0;
  return template.replace(/%([svqd%])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[i++];
    if (arg === undefined) return `%!${verb}(MISSING)`;
    return goValue(arg, verb);
  });
}

function goValue(arg: unknown, verb: string): string {
  if (Array.isArray(arg)) return `[${arg.map((a) => goValue(a, verb)).join(' ')}]`;
  if (arg instanceof Error) return verb === 'q' ? JSON.stringify(arg.message) : arg.message;
  if (verb === 'q') return JSON.stringify(String(arg));
  return String(arg);
}

/**
 * Istio's page for a message code (istioctl prints `https://istio.io/v<minor>/docs/reference/config/analysis/<code>/`);
 * `version` is e.g. `1.24`, default the latest docs.
 */
export function documentationUrl(code: string, version?: string): string {
  const base = version ? `https://istio.io/v${version}` : 'https://istio.io/latest';
  return `${base}/docs/reference/config/analysis/${code.toLowerCase()}/`;
}
