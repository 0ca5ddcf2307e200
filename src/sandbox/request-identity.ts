// Who a request to the sandbox API server acts as: the bearer token's user, then impersonation
// (Impersonate-User / Impersonate-Group), each impersonated name allowed by RBAC's `impersonate` verb.
import type { IncomingMessage } from 'node:http';
import { forbidden, unauthorized } from './api-errors.ts';
import { authorized } from './api-handler.ts';
import { type Identity, impersonatedIdentity, impersonationOf, type TokenBook } from './auth.ts';
import type { SandboxStore } from './store.ts';

/** Authenticate and apply impersonation; throws 401/403 ApiErrors. */
export function identifyRequest(store: SandboxStore, tokens: TokenBook, req: IncomingMessage): Identity {
  const requester = tokens.authenticate(req);
  if (!requester) throw unauthorized();
  const imp = impersonationOf(req);
  if (!imp) return requester;
  if (imp.user !== undefined) {
    const sa = imp.user.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
    const ok = sa
      ? authorized(store, requester, 'impersonate', '', 'serviceaccounts', sa[1], sa[2])
      : authorized(store, requester, 'impersonate', '', 'users', undefined, imp.user);
    if (!ok)
      throw forbidden({
        user: requester.user,
        verb: 'impersonate',
        group: '',
        resource: sa ? 'serviceaccounts' : 'users',
        ...(sa ? { namespace: sa[1] as string, name: sa[2] as string } : { name: imp.user }),
      });
  }
  for (const g of imp.groups) {
    if (!authorized(store, requester, 'impersonate', '', 'groups', undefined, g)) {
      throw forbidden({ user: requester.user, verb: 'impersonate', group: '', resource: 'groups', name: g });
    }
  }
  return impersonatedIdentity(imp, requester);
}
