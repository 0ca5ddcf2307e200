// The wire side of a resource request: reading its body (JSON, YAML or Kubernetes protobuf, at most
// 3 MiB), the options every write reads from the query (dryRun, fieldManager), and writing the answer
// in the negotiated output with Kubernetes' warning headers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ApiError, badRequest, PlainNotFound, unsupportedMediaType } from './api-errors.ts';
import { outputOf } from './negotiation.ts';
import { decodeObjectBody, type DecodedBody } from './object-decoding.ts';
import type { FieldValidation } from './patch-options.ts';
import { decodeKubeProtobuf } from './protobuf-bodies.ts';
import { dryRunOf, type OptionsKind } from './request-options.ts';
import type { ResourceType } from './resource-types.ts';
import type { SandboxStore } from './store.ts';

const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY)
      throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728', {});
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function decode(buf: Buffer, contentType: string): unknown {
  const text = buf.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    if (/yaml/.test(contentType)) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding request body: ${(e as Error).message}`);
  }
}

/** A request body decoded as its content type says: protobuf, YAML or JSON; undefined when empty. */
export async function bodyObject(req: IncomingMessage): Promise<unknown> {
  const contentType = String(req.headers['content-type'] ?? 'application/json');
  const body = await readBody(req);
  if (/protobuf/.test(contentType)) {
    try {
      return decodeKubeProtobuf(body);
    } catch (e) {
      throw unsupportedMediaType(contentType, [
        'application/json',
        'application/yaml',
        `application/vnd.kubernetes.protobuf (${(e as Error).message})`,
      ]);
    }
  }
  return decode(body, contentType);
}

/** A create/update body: protobuf as kubectl's typed commands send it, else JSON/YAML decoded as the kind's Go type. */
export async function objectBody(
  store: SandboxStore,
  req: IncomingMessage,
  rt: ResourceType,
  version: string,
  validation: FieldValidation,
): Promise<DecodedBody> {
  const contentType = String(req.headers['content-type'] ?? 'application/json');
  if (/protobuf/.test(contentType)) return { body: await bodyObject(req), warnings: [] };
  return decodeObjectBody(await readBody(req), contentType, rt, version, store.registry, validation);
}

export function isDryRun(params: URLSearchParams, kind: OptionsKind, bodyDryRun?: string[]): boolean {
  return dryRunOf(params, kind, bodyDryRun);
}

export function managerOf(params: URLSearchParams, req: IncomingMessage): string {
  const fm = params.get('fieldManager');
  if (fm) return fm;
  // Kubernetes derives the default manager from the user agent's program name.
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0] || 'unknown';
}

export function sendJson(res: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
  // The negotiated output (negotiation.ts): YAML when asked for, JSON otherwise.
  const yaml = outputOf(res)?.mediaType === 'application/yaml';
  const text = yaml ? toYaml(body) : JSON.stringify(body);
  const headers: Record<string, string | number | string[]> = {
    'content-type': yaml ? 'application/yaml' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
  };
  // Kubernetes' warning headers: `299 - "<text>"`, one per warning.
  if (warnings.length) headers.warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err instanceof PlainNotFound) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end('404 page not found\n');
    return;
  }
  sendJson(res, err.code, err.status);
}
