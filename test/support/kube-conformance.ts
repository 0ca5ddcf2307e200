// Holds the sandbox API server to a real kube-apiserver: drives ../shared/conformance/kube-apiserver/probe.py
// (the script that recorded the real server's answers) against a fresh sandbox, through a loopback HTTP
// front like `kubectl proxy` (the admin's token added, every other header passed through), and compares
// its summaries with real-answers.json id by id.
//
// Run by test/sandbox/kube-conformance.test.ts, and by hand:
//   node_modules/.bin/node test/support/kube-conformance.ts [--all] [id ...]
import { request as httpsRequest } from 'node:https';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

export interface ProbeAnswer {
  request: string;
  answer: unknown;
}

export interface ConformanceResult {
  /** id → [real, sandbox], in probe order; sandbox is undefined when the probe did not run it. */
  compared: Array<{ id: string; same: boolean; real: ProbeAnswer; sandbox: ProbeAnswer | undefined }>;
  same: string[];
  different: string[];
}

/** Sorted-key JSON, as probe.py compares (json.dumps(sort_keys=True)). */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * What differs by nature, not by defect (the probe's README): the server's own address in /api, and
 * names the server generated from a generateName.
 */
export function normalize(id: string, answer: unknown): unknown {
  const text = JSON.stringify(answer);
  let out = text.replace(/\\"serverAddress\\": \\"[^"\\]+\\"/g, '\\"serverAddress\\": \\"<address>\\"');
  // uids are random (in a watch event's raw body, possibly cut off mid-uid by the probe's 160 characters)
  out = out.replace(/(\\"uid\\": ?\\")[0-9a-f-]+/g, '$1<uid>');
  // ...and so are uids the server reports in Status details and messages, and its current resourceVersion
  // in a "Too large resource version" answer (one server's counter, not another's).
  out = out.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uid>');
  out = out.replace(/(Too large resource version: \d+, current: )\d+/g, '$1<rv>');
  if (id === 'create-generatename') out = out.replace(/"name":"gen-[a-z0-9]{5}"/, '"name":"gen-<generated>"');
  // the service-account token volume's name ends in 5 random characters (kube-api-access-xxxxx)
  out = out.replace(/kube-api-access-[a-z0-9]{5}/g, 'kube-api-access-<random>');
  return JSON.parse(out);
}

/** A `kubectl proxy` stand-in: plain HTTP on loopback, the admin's bearer token added, all else passed on. */
async function startProxy(sb: Sandbox, token: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers = { ...req.headers, host: `127.0.0.1:${sb.port}`, authorization: `Bearer ${token}` };
    const up = httpsRequest(
      {
        host: '127.0.0.1',
        port: sb.port,
        method: req.method,
        path: req.url,
        headers,
        ca: sb.caCert,
        servername: 'localhost',
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function adminToken(sb: Sandbox): string {
  const m = sb.kubeconfig().match(/token: (\S+)/);
  if (!m) throw new Error('the sandbox kubeconfig has no admin token');
  return m[1] as string;
}

/**
 * Install Istio's real CRDs (full OpenAPI schemas, CEL rules) through the API, as `kubectl apply`
 * would on a real cluster: the sandbox's built-in rows carry no schema.
 */
async function installCrds(base: string, file: string): Promise<void> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'))
    .map((d) => d.toJSON() as { kind?: string; metadata: { name: string; resourceVersion?: string } } | null)
    .filter((d) => d?.kind === 'CustomResourceDefinition');
  for (const crd of docs) {
    if (!crd) continue;
    const url = `${base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
    const cur = await fetch(`${url}/${crd.metadata.name}`, { headers: { accept: 'application/json' } });
    if (cur.ok)
      crd.metadata.resourceVersion = (
        (await cur.json()) as { metadata: { resourceVersion: string } }
      ).metadata.resourceVersion;
    const r = await fetch(cur.ok ? `${url}/${crd.metadata.name}?fieldManager=kubectl` : `${url}?fieldManager=kubectl`, {
      method: cur.ok ? 'PUT' : 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(crd),
    });
    if (!r.ok) throw new Error(`installing CRD ${crd.metadata.name}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  }
}

export async function runKubeConformance(dir: string): Promise<ConformanceResult> {
  const realFile = join(dir, 'real-answers.json');
  const real = (JSON.parse(await readFile(realFile, 'utf8')) as { real: Record<string, ProbeAnswer> }).real;
  const work = await mkdtemp(join(tmpdir(), 'meshops-kubeconf-'));
  // A fresh cluster as the recording had it: system namespaces, Istio's CRDs, controllers running.
  const sb = await startSandbox({ kubernetesVersion: 'v1.24.0+0', nodes: false, rolloutStepMs: 20 });
  const proxy = await startProxy(sb, adminToken(sb));
  try {
    await installCrds(proxy.url, join(dir, '..', 'istio', 'crds', 'crd-all.gen.yaml'));
    const out = join(work, 'sandbox.json');
    await execa('python3', [join(dir, 'probe.py'), `sandbox=${proxy.url}`, '--json', out], { timeout: 120_000 });
    const got = (JSON.parse(await readFile(out, 'utf8')) as { sandbox: Record<string, ProbeAnswer> }).sandbox;
    const result: ConformanceResult = { compared: [], same: [], different: [] };
    for (const [id, r] of Object.entries(real)) {
      const s = got[id];
      const same = s !== undefined && canonical(normalize(id, r.answer)) === canonical(normalize(id, s.answer));
      result.compared.push({ id, same, real: r, sandbox: s });
      (same ? result.same : result.different).push(id);
    }
    return result;
  } finally {
    await proxy.close();
    await sb.close();
    await rm(work, { recursive: true, force: true });
  }
}

// By hand: print `= id` / `≠ id` with both answers, and the totals.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { fileURLToPath } = await import('node:url');
  const conformanceDir = process.env.MESHOPS_SHARED_DIR
    ? join(process.env.MESHOPS_SHARED_DIR, 'conformance')
    : join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'shared', 'conformance');
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const only = new Set(args.filter((a) => !a.startsWith('--')));
  const r = await runKubeConformance(join(conformanceDir, 'kube-apiserver'));
  for (const c of r.compared) {
    if (only.size > 0 && !only.has(c.id)) continue;
    if (c.same) {
      if (all || only.size > 0) console.log(`= ${c.id}`);
      continue;
    }
    console.log(`≠ ${c.id}: ${c.real.request}`);
    console.log(`   real    ${canonical(c.real.answer)}`);
    console.log(`   sandbox ${c.sandbox ? canonical(c.sandbox.answer) : '(not run)'}`);
  }
  console.log(`${r.same.length} same, ${r.different.length} different`);
}
