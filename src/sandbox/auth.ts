// Who is asking: bearer tokens issued by the sandbox (one admin, any number of named users), plus
// Kubernetes impersonation headers. The admin is in system:masters; everyone else goes through RBAC.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { defaultGroupsFor } from './rbac.ts';

export const ADMIN_USER = 'sandbox-admin';

export interface Identity {
  user: string;
  groups: string[];
}

export class TokenBook {
  private readonly byToken = new Map<string, Identity>();
  private readonly byUser = new Map<string, string>();
  readonly adminToken: string;

  constructor() {
    this.adminToken = this.issue(ADMIN_USER, ['system:masters', 'system:authenticated']);
  }

  /** A token for a user (the same one on every call); service accounts get their namespace groups. */
  issue(user: string, groups?: string[]): string {
    const existing = this.byUser.get(user);
    if (existing) return existing;
    const token = `sandbox-${randomBytes(18).toString('base64url')}`;
    this.byToken.set(token, { user, groups: groups ?? defaultGroupsFor(user) });
    this.byUser.set(user, token);
    return token;
  }

  authenticate(req: IncomingMessage): Identity | undefined {
    const h = req.headers.authorization;
    if (!h) return undefined;
    const m = h.match(/^Bearer\s+(\S+)$/i);
    return m ? this.byToken.get(m[1] as string) : undefined;
  }
}

function headerValues(req: IncomingMessage, name: string): string[] {
  const out: string[] = [];
  // rawHeaders keeps repeated headers (Impersonate-Group may appear many times).
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() === name) out.push(req.rawHeaders[i + 1] as string);
  }
  return out;
}

export interface ImpersonationRequest {
  user?: string;
  groups: string[];
}

export function impersonationOf(req: IncomingMessage): ImpersonationRequest | undefined {
  const user = headerValues(req, 'impersonate-user')[0];
  const groups = headerValues(req, 'impersonate-group');
  if (user === undefined && groups.length === 0) return undefined;
  return { ...(user !== undefined ? { user } : {}), groups };
}

/** The identity a request acts as once impersonation applies (groups default as for a token user). */
export function impersonatedIdentity(imp: ImpersonationRequest, requester: Identity): Identity {
  const user = imp.user ?? requester.user;
  const groups = imp.groups.length ? [...imp.groups, 'system:authenticated'] : defaultGroupsFor(user);
  return { user, groups: [...new Set(groups)] };
}
