// List semantics as kube-apiserver serves them: ListOptions validation (resourceVersionMatch rules),
// where a list is served from (the "watch cache" for resourceVersion=0 or a minimum version without a
// limit, "etcd" otherwise), limit/continue paging over keys in storage order with remainingItemCount,
// consistent pages (a continue token lists the snapshot of the first page, rebuilt from the event
// history), and the errors for versions the server has not reached (504) or no longer has (410).
import type { KubeObject } from '../kube/objects.ts';
import { ApiError, badRequest, invalid } from './api-errors.ts';
import type { ResourceType } from './resource-types.ts';
import { groupResource } from './resource-types.ts';
import type { SandboxStore } from './store.ts';

export interface ListParams {
  resourceVersion?: string;
  resourceVersionMatch?: string;
  limit?: number;
  continue?: string;
  watch?: boolean;
  sendInitialEvents?: boolean;
}

/** ValidateListOptions: a 422 on ListOptions.meta.k8s.io when the combination is not allowed. */
export function validateListOptions(o: ListParams): void {
  const errs: Parameters<typeof invalid>[3] = [];
  const match = o.resourceVersionMatch;
  if (match) {
    if (o.watch)
      errs.push({
        type: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        detail: 'resourceVersionMatch is forbidden for watch',
      });
    if (!o.resourceVersion)
      errs.push({
        type: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided',
      });
    if (o.continue)
      errs.push({
        type: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        detail: 'resourceVersionMatch is forbidden when continue is provided',
      });
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      errs.push({
        type: 'FieldValueNotSupported',
        field: 'resourceVersionMatch',
        value: match,
        detail: 'supported values: "Exact", "NotOlderThan", ""',
      });
    }
    if (match === 'Exact' && o.resourceVersion === '0')
      errs.push({
        type: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      });
  }
  if (errs.length) throw invalid('meta.k8s.io', 'ListOptions', '', errs);
}

export function tooLargeResourceVersion(wanted: number, current: number, retryAfterSeconds: number): ApiError {
  const err = new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
  });
  return err;
}

const EXPIRED = 'The resourceVersion for the provided list is too old.';
const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

function expired(message: string, continueToken?: string): ApiError {
  const err = new ApiError(410, 'Expired', message);
  if (continueToken) (err.status as { metadata: Record<string, unknown> }).metadata = { continue: continueToken };
  return err;
}

function objKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Keys compare as bytes, as etcd orders them. */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

export function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (e) {
    throw badRequest(`invalid continue token: continue key is not valid: ${(e as Error).message}`);
  }
  const t = parsed as Partial<ContinueToken> | null;
  if (t?.v !== 'meta.k8s.io/v1')
    throw badRequest(
      'invalid continue token: continue key is not valid: server does not recognize this encoded version',
    );
  if (typeof t.rv !== 'number' || t.rv === 0)
    throw badRequest(
      'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  if (typeof t.start !== 'string' || t.start === '')
    throw badRequest(
      'invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)',
    );
  return t as ContinueToken;
}

/** The objects of one resource (optionally one namespace) as they were at `rv`, or undefined when the history is gone. */
export function snapshotAt(
  store: SandboxStore,
  rt: ResourceType,
  namespace: string | undefined,
  rv: number,
): KubeObject[] | undefined {
  const events = store.eventsSince(rv);
  if (events === undefined) return undefined;
  const state = new Map<string, KubeObject>();
  for (const o of store.scan(rt, namespace)) state.set(objKey(o), o);
  const gr = groupResource(rt);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (!e || groupResource(e.rt) !== gr) continue;
    if (namespace !== undefined && e.object.metadata.namespace !== namespace) continue;
    const key = objKey(e.object);
    if (e.type === 'ADDED') state.delete(key);
    else if (e.old) state.set(key, e.old);
  }
  return [...state.values()];
}

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ListRequest extends ListParams {
  /** Whether label/field selectors narrow the list (remainingItemCount is then unknown). */
  filtered: boolean;
  matches: (o: KubeObject) => boolean;
}

const FRESHNESS_WAIT_MS = 3000;

async function waitForVersion(store: SandboxStore, wanted: number): Promise<void> {
  const deadline = Date.now() + FRESHNESS_WAIT_MS;
  while (Number(store.resourceVersion) < wanted) {
    if (Date.now() >= deadline) throw tooLargeResourceVersion(wanted, Number(store.resourceVersion), 1);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseRv(raw: string): number {
  if (!/^\d+$/.test(raw)) throw badRequest(`invalid resource version: ${raw}`);
  return Number(raw);
}

/** Serve one list request: the page of matching objects, in key order, with the list's metadata. */
export async function listObjects(
  store: SandboxStore,
  rt: ResourceType,
  namespace: string | undefined,
  req: ListRequest,
): Promise<ListPage> {
  validateListOptions(req);
  const current = Number(store.resourceVersion);
  const limit = req.limit !== undefined && req.limit > 0 ? req.limit : undefined;
  const rvParam = req.resourceVersion ?? '';
  let source: KubeObject[];
  let listRv = current;
  let start: string | undefined;

  if (req.continue) {
    const token = decodeContinue(req.continue);
    start = token.start;
    if (token.rv === -1) {
      source = store.scan(rt, namespace);
    } else {
      const snap = snapshotAt(store, rt, namespace, token.rv);
      if (!snap)
        throw expired(
          INCONSISTENT_CONTINUE,
          Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: -1, start })).toString('base64url'),
        );
      source = snap;
      listRv = token.rv;
    }
  } else if (rvParam === '') {
    source = store.scan(rt, namespace);
  } else {
    const rv = parseRv(rvParam);
    const fromStorage = req.resourceVersionMatch === 'Exact' || (limit !== undefined && rv !== 0);
    if (!fromStorage) {
      // The watch cache: at least as new as rv (waiting a little for it), never paged.
      if (rv > 0) await waitForVersion(store, rv);
      const all = store.scan(rt, namespace).filter(req.matches);
      return { items: all, resourceVersion: store.resourceVersion };
    }
    if (rv > current) throw tooLargeResourceVersion(rv, current, 0);
    if (req.resourceVersionMatch === 'NotOlderThan') {
      source = store.scan(rt, namespace);
    } else {
      // Exact, or a legacy resourceVersion with a limit: the list as of that version.
      const snap = snapshotAt(store, rt, namespace, rv);
      if (!snap) throw expired(EXPIRED);
      source = snap;
      listRv = rv;
    }
  }

  const sorted = [...source].sort((a, b) => byKey(objKey(a), objKey(b)));
  const keys = start === undefined ? sorted : sorted.filter((o) => byKey(objKey(o), start as string) >= 0);
  const items: KubeObject[] = [];
  let lastIndex = -1;
  for (let i = 0; i < keys.length; i++) {
    const o = keys[i] as KubeObject;
    if (!req.matches(o)) continue;
    items.push(o);
    lastIndex = i;
    if (limit !== undefined && items.length === limit) break;
  }
  const page: ListPage = { items, resourceVersion: String(listRv) };
  if (limit !== undefined && items.length === limit && lastIndex < keys.length - 1) {
    page.continue = encodeContinue(listRv, objKey(keys[lastIndex] as KubeObject));
    if (!req.filtered) page.remainingItemCount = keys.length - 1 - lastIndex;
  }
  return page;
}
