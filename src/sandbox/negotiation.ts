// Output content negotiation as k8s.io/apiserver does it (endpoints/handlers/negotiation): the Accept
// header is parsed like goautoneg (clauses ordered by q, then by specificity, otherwise as sent), and
// the first clause that one of the server's media types satisfies wins. Parameters: `as`/`g`/`v` ask
// for a transformation (Table, PartialObjectMetadata[List]), which only resource endpoints allow;
// `stream` must be `watch` and only resource endpoints allow it; `pretty`, `charset`... are ignored.
// No clause satisfied → 406 NotAcceptable naming the media types the server offers. An empty Accept
// gets JSON.
//
// The sandbox encodes JSON and YAML. When protobuf is negotiated it answers JSON, labelled
// application/json, which client-go decodes by the response's Content-Type.
import type { ServerResponse } from 'node:http';
import { ApiError } from './api-errors.ts';

export const SERVED_MEDIA_TYPES = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
] as const;
export type MediaType = (typeof SERVED_MEDIA_TYPES)[number];

export interface AcceptClause {
  type: string;
  subType: string;
  q: number;
  params: Record<string, string>;
}

export interface Negotiated {
  mediaType: MediaType;
  /** The transformation asked for (`as=Table;g=meta.k8s.io;v=v1`). */
  convert?: { kind: string; group: string; version: string };
  stream?: string;
  pretty: boolean;
}

/** What an endpoint allows beyond plain output. */
export interface EndpointRestrictions {
  /** Resource endpoints: Table and PartialObjectMetadata conversions, and stream=watch. */
  resource: boolean;
}

/** goautoneg.ParseAccept: clauses without a subtype are dropped, `*` means `*\/*`; sorted by q, then specificity. */
export function parseAccept(header: string): AcceptClause[] {
  const out: AcceptClause[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...paramParts] = part.split(';');
    const sp = range.split('/');
    const type = (sp[0] ?? '').trim();
    let subType: string;
    if (sp.length === 1 && type === '*') subType = '*';
    else if (sp.length === 2) subType = (sp[1] as string).trim();
    else continue;
    const clause: AcceptClause = { type, subType, q: 1, params: {} };
    for (const param of paramParts) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const token = param.slice(0, eq).trim();
      const value = param.slice(eq + 1);
      if (token === 'q') {
        const q = Number.parseFloat(value);
        clause.q = Number.isNaN(q) ? 0 : q;
      } else {
        clause.params[token] = value.trim();
      }
    }
    out.push(clause);
  }
  // A stable insertion sort, as Go's sort.Sort is for short slices, with goautoneg's Less.
  const less = (a: AcceptClause, b: AcceptClause) =>
    a.q > b.q || (a.type !== '*' && b.type === '*') || (a.subType !== '*' && b.subType === '*');
  for (let i = 1; i < out.length; i++) {
    for (let j = i; j > 0 && less(out[j] as AcceptClause, out[j - 1] as AcceptClause); j--) {
      const t = out[j] as AcceptClause;
      out[j] = out[j - 1] as AcceptClause;
      out[j - 1] = t;
    }
  }
  return out;
}

function allowsConversion(
  convert: { kind: string; group: string; version: string },
  mediaType: MediaType,
  endpoint: EndpointRestrictions,
): boolean {
  if (!endpoint.resource) return false;
  if (convert.group !== 'meta.k8s.io' || (convert.version !== 'v1' && convert.version !== 'v1beta1')) return false;
  if (convert.kind === 'Table') return mediaType === 'application/json' || mediaType === 'application/yaml';
  return convert.kind === 'PartialObjectMetadata' || convert.kind === 'PartialObjectMetadataList';
}

function acceptOptions(
  params: Record<string, string>,
  mediaType: MediaType,
  endpoint: EndpointRestrictions,
): Negotiated | undefined {
  const out: Negotiated = { mediaType, pretty: false };
  let convert: { kind: string; group: string; version: string } | undefined;
  for (const [k, v] of Object.entries(params)) {
    switch (k) {
      case 'as':
        convert = { ...(convert ?? { group: '', version: '' }), kind: v };
        break;
      case 'g':
        convert = { ...(convert ?? { kind: '', version: '' }), group: v };
        break;
      case 'v':
        convert = { ...(convert ?? { kind: '', group: '' }), version: v };
        break;
      case 'stream':
        if (v !== '' && !(endpoint.resource && v === 'watch')) return undefined;
        out.stream = v;
        break;
      case 'pretty':
        out.pretty = v === '1';
        break;
      default:
        break; // unrecognized parameters are ignored
    }
  }
  if (convert) {
    if (!allowsConversion(convert, mediaType, endpoint)) return undefined;
    out.convert = convert;
  }
  return out;
}

export function notAcceptable(): ApiError {
  return new ApiError(
    406,
    'NotAcceptable',
    `only the following media types are accepted: ${SERVED_MEDIA_TYPES.join(', ')}`,
  );
}

/** The output an Accept header negotiates at an endpoint; throws 406 NotAcceptable when none. */
export function negotiateOutput(accept: string | undefined, endpoint: EndpointRestrictions): Negotiated {
  if (accept === undefined || accept === '') return { mediaType: 'application/json', pretty: false };
  for (const clause of parseAccept(accept)) {
    for (const mediaType of SERVED_MEDIA_TYPES) {
      const [type, subType] = mediaType.split('/') as [string, string];
      const matches =
        (clause.type === type && (clause.subType === subType || clause.subType === '*')) ||
        (clause.type === '*' && clause.subType === '*');
      if (!matches) continue;
      const got = acceptOptions(clause.params, mediaType, endpoint);
      if (got) return got;
    }
  }
  throw notAcceptable();
}

/** The output negotiated for a response (sendJson encodes by it); JSON when none was recorded. */
const outputs = new WeakMap<ServerResponse, Negotiated>();

export function recordOutput(res: ServerResponse, n: Negotiated): void {
  outputs.set(res, n);
}

export function outputOf(res: ServerResponse): Negotiated | undefined {
  return outputs.get(res);
}

/** Does the Accept header negotiate a Table at a resource endpoint (kubectl get)? */
export function negotiatesTable(accept: string | undefined): boolean {
  try {
    return negotiateOutput(accept, { resource: true }).convert?.kind === 'Table';
  } catch {
    return false;
  }
}
