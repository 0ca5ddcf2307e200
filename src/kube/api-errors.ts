// How the Kubernetes API fails, in words: an answer that is not a success (with Kubernetes' own
// reason and message), or no answer at all (refused, timed out, TLS, DNS).
import { z } from 'zod';

const statusSchema = z.object({
  kind: z.literal('Status'),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

/** An answer from the API server that is not a success, with Kubernetes' own words. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

/** The API server could not be reached at all (refused, timed out, TLS, DNS): no answer to show, only a cause. */
export class KubeUnreachableError extends Error {
  readonly server: string;
  constructor(server: string, what: string, cause: unknown) {
    super(`Cannot reach the Kubernetes API at ${server}: ${what}`, { cause });
    this.name = 'KubeUnreachableError';
    this.server = server;
  }
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS lookup failed)',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  UND_ERR_CLOSED: 'the connection was closed',
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'TLS: the server certificate is self-signed and not trusted (check certificate-authority-data)',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: the server certificate chain is not trusted (check certificate-authority-data)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: the server certificate cannot be verified (check certificate-authority-data)',
  CERT_HAS_EXPIRED: 'TLS: the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: the server certificate does not name this host',
};

/** Words for a request that got no answer; the original error stays as `cause`. */
export function unreachable(server: string, err: unknown, timeoutMs: number): Error {
  if (err instanceof KubeApiError) return err;
  const codes: string[] = [];
  let name = '';
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    name ||= (e as { name?: string }).name === 'TimeoutError' ? 'TimeoutError' : '';
  }
  if (name === 'TimeoutError' || codes.includes('UND_ERR_HEADERS_TIMEOUT') || codes.includes('UND_ERR_BODY_TIMEOUT')) {
    return new KubeUnreachableError(server, `no answer within ${Math.round(timeoutMs / 100) / 10} s (timed out)`, err);
  }
  const known = codes.find((c) => NETWORK_WORDS[c]);
  const tls = codes.find((c) => c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS') || c.includes('CERT'));
  const what = known
    ? (NETWORK_WORDS[known] as string)
    : tls
      ? `TLS failed (${tls})`
      : (err as Error)?.message || String(err);
  return new KubeUnreachableError(server, what, err);
}

/** An error answer as a KubeApiError: the Status object's words when the body is one. */
export function toApiError(status: number, text: string, method: string, path: string): KubeApiError {
  try {
    const parsed = statusSchema.safeParse(JSON.parse(text));
    if (parsed.success)
      return new KubeApiError(
        status,
        parsed.data.reason ?? String(status),
        parsed.data.message ?? `${method} ${path} answered ${status}`,
      );
  } catch {
    // not JSON: fall through to a plain message
  }
  return new KubeApiError(status, String(status), `${method} ${path} answered ${status}: ${text.slice(0, 200)}`);
}
