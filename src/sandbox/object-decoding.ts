// Decoding a create/update body as the API server's handlers do (k8s.io/apiserver handlers'
// transformDecodeError, the JSON serializer's version/kind sniffing, strict decoding):
//   - syntax errors: `the object provided is unrecognized (must be of type ConfigMap): couldn't get
//     version/kind; json parse error: unexpected end of JSON input ({"apiVersion": "v1", "kind": )`
//   - another kind: `Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret)
//     to (core.ConfigMap): unknown conversion`
//   - a wrong type: `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot
//     unmarshal number into Go struct field ConfigMap.data of type string`
//   - unknown/duplicate fields: refused (Strict), warned about (Warn, the default) or ignored, and
//     dropped from built-in objects either way.
// Custom resources are decoded without a typed schema (their CRD schema applies later).
import { parse as parseYaml } from 'yaml';
import { badRequest } from './api-errors.ts';
import { decodeTyped, modelFor, TypeDecodeError } from './field-schema.ts';
import { type JsonNode, JsonSyntaxError, nodeOf, readJson, valueOf } from './json-syntax.ts';
import type { FieldValidation } from './patch-options.ts';
import type { ResourceRegistry, ResourceType } from './resource-types.ts';

export interface DecodedBody {
  body: unknown;
  /** Warning texts for the response (strict findings under fieldValidation=Warn). */
  warnings: string[];
}

/** The handlers' summarizeData: the body itself when it looks like JSON, hex otherwise, cut at 30 bytes. */
function summarize(buf: Buffer): string {
  if (buf.length === 0) return '<empty>';
  const cut = buf.length > 30;
  const head = buf.subarray(0, 30);
  if (buf[0] === 0x7b) return `${head.toString('utf8')}${cut ? ' ...' : ''}`;
  return `${head.toString('hex')}${cut ? ' ...' : ''}`;
}

/** The Go package of a group's internal types, as conversion errors name them. */
function internalPackage(group: string): string {
  if (group === '' || group === 'events.k8s.io') return 'core';
  return group.split('.')[0] as string;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function member(n: JsonNode, key: string): string {
  if (n.k !== 'object') return '';
  let out = '';
  for (const [k, v] of n.members) if (k === key && v.k === 'string') out = v.v;
  return out;
}

/**
 * Decode a create/update body for rt served at version. Throws the 400 Kubernetes answers; returns
 * the object and the warnings to send.
 */
export function decodeObjectBody(
  buf: Buffer,
  contentType: string,
  rt: ResourceType,
  version: string,
  registry: ResourceRegistry,
  validation: FieldValidation,
): DecodedBody {
  let node: JsonNode;
  if (/yaml/.test(contentType)) {
    try {
      node = nodeOf(parseYaml(buf.toString('utf8')));
    } catch (e) {
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
  } else {
    try {
      node = readJson(buf.toString('utf8'));
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      throw badRequest(
        `the object provided is unrecognized (must be of type ${rt.kind}): couldn't get version/kind; json parse error: ${e.message} (${summarize(buf)})`,
      );
    }
  }
  if (node.k !== 'object') {
    throw badRequest(
      `the object provided is unrecognized (must be of type ${rt.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${node.k === 'bool' ? 'bool' : node.k} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (${summarize(buf)})`,
    );
  }
  if (rt.custom) return { body: valueOf(node), warnings: [] };

  // The body's group/version/kind, defaulted from the endpoint where it says nothing.
  const kind = member(node, 'kind') || rt.kind;
  const apiVersion = member(node, 'apiVersion');
  const gv = apiVersion ? splitApiVersion(apiVersion) : { group: rt.group, version };
  const cannot = (why: string) =>
    badRequest(`${kind} in version ${JSON.stringify(gv.version)} cannot be handled as a ${rt.kind}: ${why}`);
  if (kind !== rt.kind || gv.group !== rt.group) {
    const fullVersion = gv.group ? `${gv.group}/${gv.version}` : gv.version;
    const known =
      registry.byApiVersionKind(fullVersion, kind) ??
      (modelFor({ group: gv.group, kind, custom: false }, gv.version) ? kind : undefined);
    if (!known)
      throw cannot(
        `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(fullVersion)} in scheme "pkg/api/legacyscheme/scheme.go:30"`,
      );
    throw cannot(`converting (${gv.version}.${kind}) to (${internalPackage(rt.group)}.${rt.kind}): unknown conversion`);
  }

  const model = modelFor(rt, version);
  if (!model) return { body: valueOf(node), warnings: [] };
  let decoded: ReturnType<typeof decodeTyped>;
  try {
    decoded = decodeTyped(node, model);
  } catch (e) {
    if (e instanceof TypeDecodeError) throw cannot(e.message);
    throw e;
  }
  if (decoded.strict.length && validation === 'Strict')
    throw cannot(`strict decoding error: ${decoded.strict.join(', ')}`);
  return { body: decoded.value, warnings: validation === 'Warn' ? decoded.strict : [] };
}
