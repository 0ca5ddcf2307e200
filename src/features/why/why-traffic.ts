// The checks of `/mesh why` that follow the traffic: the 5xx in the workload's own sidecar access logs,
// grouped by response flag and destination (the symptoms); the endpoints and DestinationRule subsets of the
// workload's Services and of the destinations its failures went to (a subset whose labels select no pod:
// Envoy answers 503 UH); and the mTLS modes toward them (a DestinationRule with ISTIO_MUTUAL toward pods
// without a sidecar meets plaintext: 503 UF/URX; DISABLE toward a STRICT workload is refused). Pure over
// what why-checks.ts read.
import { type AccessLogEntry, parseAccessLogLine } from '../../envoy/access-log.ts';
import type { Sample } from '../../envoy/istio-metrics.ts';
import { responseFlag } from '../../envoy/response-flags.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { destinationRulesForService } from '../../mesh/destination-rules.ts';
import { parseField, serviceSpecSchema } from '../../mesh/istio-specs.ts';
import { effectivePeerAuthentication } from '../../mesh/peer-authentication.ts';
import { hasSidecar, isPodReady } from '../../mesh/pods.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import type { Symptom, WhyFinding } from './why-rank.ts';

/** Flags that a TLS mismatch produces at the caller: the handshake fails or the connection is reset. */
const TLS_FLAGS = new Set(['UF', 'URX', 'UC']);

export interface Destination {
  service: string;
  namespace: string;
  subset?: string;
}

/** `outbound|8080|v2|payments.checkout.svc.cluster.local` → payments in checkout, subset v2. */
export function destinationOf(cluster: string | undefined): Destination | undefined {
  const parts = cluster?.split('|');
  if (parts?.length !== 4) return undefined;
  const host = parts[3]!.split('.');
  if (host.length < 3 || host[2] !== 'svc') return undefined;
  return { service: host[0]!, namespace: host[1]!, ...(parts[2] ? { subset: parts[2] } : {}) };
}

const dirOf = (e: AccessLogEntry): 'inbound' | 'outbound' =>
  e.upstreamCluster?.startsWith('inbound|') ? 'inbound' : 'outbound';

/** The 5xx in the access logs (pod → log text), one symptom per status, flags and destination. */
export function symptomsFromLogs(logs: Record<string, string>): { symptoms: Symptom[]; accessLines: number } {
  const groups = new Map<string, Symptom>();
  let accessLines = 0;
  for (const text of Object.values(logs)) {
    for (const line of text.split('\n')) {
      const e = parseAccessLogLine(line);
      if (!e) continue;
      accessLines++;
      if (e.responseCode < 500) continue;
      const dir = dirOf(e);
      const dest = dir === 'outbound' ? destinationOf(e.upstreamCluster) : undefined;
      const service = dest ? `${dest.service}.${dest.namespace}` : undefined;
      const flags = e.responseFlags.filter((f) => f !== '-');
      const key = [dir, e.responseCode, flags.join(','), service ?? '', dest?.subset ?? ''].join('|');
      const found = groups.get(key);
      if (found) {
        found.count++;
        continue;
      }
      const where =
        dir === 'inbound'
          ? 'answered to its callers'
          : `toward ${service ?? e.authority ?? e.upstreamCluster ?? 'an unknown upstream'}${dest?.subset ? ` subset ${dest.subset}` : ''}`;
      groups.set(key, {
        key,
        text: `${e.responseCode}${flags.length ? ` ${flags.join(',')}` : ''} ${where}`,
        count: 1,
        flags,
        ...(service ? { service } : {}),
        ...(dest?.subset ? { subset: dest.subset } : {}),
        direction: dir,
        sample: line.trim(),
        source: 'access-log',
      });
    }
  }
  return { symptoms: [...groups.values()].sort((a, b) => b.count - a.count), accessLines };
}

/**
 * The 5xx in the sidecars' istio_requests_total (Istio's standard metric; counted since each proxy started), for
 * when there is no access log: reporter="source" is the workload calling out, reporter="destination" its callers.
 */
export function symptomsFromMetrics(samples: ReadonlyMap<string, readonly Sample[]>): Symptom[] {
  const groups = new Map<string, Symptom>();
  for (const list of samples.values()) {
    for (const m of list) {
      const code = Number(m.labels.response_code);
      if (m.name !== 'istio_requests_total' || !(code >= 500) || !(m.value > 0)) continue;
      const dir = m.labels.reporter === 'destination' ? ('inbound' as const) : ('outbound' as const);
      const host = m.labels.destination_service?.split('.');
      const service = dir === 'outbound' && host && host.length >= 2 && host[1] ? `${host[0]}.${host[1]}` : undefined;
      const flags = (m.labels.response_flags ?? '-').split(',').filter((f) => f && f !== '-');
      const key = ['metrics', dir, code, flags.join(','), service ?? ''].join('|');
      const where =
        dir === 'inbound'
          ? 'answered to its callers'
          : `toward ${service ?? m.labels.destination_service ?? 'an unknown upstream'}`;
      const found = groups.get(key);
      if (found) found.count += m.value;
      else
        groups.set(key, {
          key,
          text: `${code}${flags.length ? ` ${flags.join(',')}` : ''} ${where} (istio_requests_total)`,
          count: m.value,
          flags,
          ...(service ? { service } : {}),
          direction: dir,
          source: 'metrics',
        });
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** What the flags mean in Istio terms, once each. */
export function flagWords(flags: readonly string[]): string[] {
  return flags.flatMap((f) => {
    const rf = responseFlag(f);
    return rf ? [`${f} (${rf.long}): ${rf.envoy}`] : [];
  });
}

/** The Services whose selector picks any of the pods. */
export function servicesOf(snapshot: MeshSnapshot, namespace: string, pods: readonly KubeObject[]): KubeObject[] {
  return snapshot.list('Service', namespace).filter((svc) => {
    const sel = parseField(svc, serviceSpecSchema)?.selector ?? {};
    if (!Object.keys(sel).length) return false;
    return pods.some((p) => Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v));
  });
}

function servicePods(snapshot: MeshSnapshot, dest: Destination): KubeObject[] | undefined {
  const svc = snapshot.get('Service', dest.namespace, dest.service);
  if (!svc) return undefined;
  const sel = parseField(svc, serviceSpecSchema)?.selector ?? {};
  return Object.keys(sel).length ? snapshot.podsMatching(dest.namespace, sel) : [];
}

const symptomsToward = (symptoms: readonly Symptom[], service: string, pred: (s: Symptom) => boolean) =>
  symptoms.filter((s) => s.service === service && pred(s));

const seen = (list: readonly Symptom[]) => list.map((s) => `seen: ${s.count}× ${s.text}`);

/** Endpoints and subsets of one destination: no ready pod, a subset that selects nothing. */
export function checkEndpoints(
  snapshot: MeshSnapshot,
  dest: Destination,
  symptoms: readonly Symptom[],
  own: boolean,
): { findings: WhyFinding[]; notes: string[] } {
  const name = `${dest.service}.${dest.namespace}`;
  const pods = servicePods(snapshot, dest);
  const findings: WhyFinding[] = [];
  const notes: string[] = [];
  if (!pods) return { findings, notes: [`Service ${name} is not in the cluster's objects`] };
  const ready = pods.filter(isPodReady);
  if (pods.length === 0 || ready.length === 0) {
    const hits = symptomsToward(symptoms, name, (s) => s.flags.includes('UH'));
    findings.push({
      check: 'endpoints',
      title: `Service ${name} has no ready endpoint`,
      objects: [`Service/${dest.namespace}/${dest.service}`],
      cause:
        pods.length === 0
          ? `its selector matches no pod, so callers' sidecars have no endpoint and answer 503 UH`
          : `none of its ${pods.length} pod${pods.length === 1 ? ' is' : 's are'} Ready, so callers' sidecars have no endpoint and answer 503 UH`,
      evidence: [
        ...pods.map((p) => `pod ${p.metadata.name}: Ready ${isPodReady(p) ? 'True' : 'False'}`),
        ...seen(hits),
        ...(own || !pods.length
          ? []
          : [`why its pods are not ready: \`/mesh why ${dest.service} -n ${dest.namespace}\``]),
      ],
      confidence: 'high',
      pods: pods.map((p) => p.metadata.name),
      explains: [...hits.map((s) => s.key), ...(own && pods.length ? ['runtime'] : [])],
    });
  }
  const labels = pods.map((p) => p.metadata.labels ?? {});
  for (const dr of destinationRulesForService(snapshot, dest.service, dest.namespace, labels, labels)) {
    for (const subset of dr.subsetsSelectingNoPods) {
      // istio_requests_total names no subset: a UH toward the service counted there may be this subset's.
      const hits = symptomsToward(
        symptoms,
        name,
        (s) => s.subset === subset || (s.source === 'metrics' && s.flags.includes('UH')),
      );
      findings.push({
        check: 'endpoints',
        title: `subset ${subset} of DestinationRule ${dr.ref.namespace}/${dr.ref.name} selects no pod`,
        objects: [`DestinationRule/${dr.ref.namespace}/${dr.ref.name}`],
        cause: `traffic routed to ${name} subset ${subset} has no endpoint: Envoy answers 503 UH (no healthy upstream)`,
        evidence: [
          `DestinationRule ${dr.ref.namespace}/${dr.ref.name} (host ${dr.host}) defines subset ${subset}; none of the ${pods.length} pod${pods.length === 1 ? '' : 's'} of ${name} has its labels`,
          ...seen(hits),
        ],
        confidence: hits.length ? 'high' : 'medium',
        pods: [],
        explains: hits.map((s) => s.key),
      });
    }
  }
  if (!findings.length) notes.push(`${name}: ${ready.length} of ${pods.length} pods ready, every subset selects a pod`);
  return { findings, notes };
}

/** mTLS between the DestinationRules toward one destination and what its pods accept. */
export function checkMtls(
  snapshot: MeshSnapshot,
  dest: Destination,
  symptoms: readonly Symptom[],
): { findings: WhyFinding[]; notes: string[] } {
  const name = `${dest.service}.${dest.namespace}`;
  const pods = servicePods(snapshot, dest) ?? [];
  const findings: WhyFinding[] = [];
  const notes: string[] = [];
  if (!pods.length) return { findings, notes };
  const labels = pods.map((p) => p.metadata.labels ?? {});
  const without = pods.filter((p) => !hasSidecar(p));
  const pa = effectivePeerAuthentication(snapshot, dest.namespace, labels[0], []);
  const tlsHits = symptomsToward(symptoms, name, (s) => s.flags.some((f) => TLS_FLAGS.has(f)));
  for (const dr of destinationRulesForService(snapshot, dest.service, dest.namespace, labels, labels)) {
    const modes = [
      ...(dr.trafficPolicy?.tlsMode ? [{ at: 'top level', mode: dr.trafficPolicy.tlsMode }] : []),
      ...dr.portLevel.flatMap((p) => (p.tlsMode ? [{ at: `port ${p.port}`, mode: p.tlsMode }] : [])),
    ];
    const ref = `DestinationRule ${dr.ref.namespace}/${dr.ref.name}`;
    for (const { at, mode } of modes) {
      if (mode === 'ISTIO_MUTUAL' && without.length) {
        findings.push({
          check: 'mtls',
          objects: [`DestinationRule/${dr.ref.namespace}/${dr.ref.name}`],
          title: `${ref} sends ISTIO_MUTUAL to ${name}, whose pods have no sidecar`,
          cause: `the callers' sidecars start an Istio mTLS handshake that the plaintext app cannot answer: the connection fails (503 UF, URX after retries)`,
          evidence: [
            `${ref} tls.mode ISTIO_MUTUAL (${at}, host ${dr.host})`,
            `${without.length} of ${pods.length} pods of ${name} run no istio-proxy: ${without.map((p) => p.metadata.name).join(', ')}`,
            ...seen(tlsHits),
          ],
          confidence: tlsHits.length ? 'high' : 'medium',
          pods: without.map((p) => p.metadata.name),
          explains: tlsHits.map((s) => s.key),
        });
      } else if (mode === 'ISTIO_MUTUAL' && pa.workloadMode === 'DISABLE') {
        findings.push({
          check: 'mtls',
          objects: [`DestinationRule/${dr.ref.namespace}/${dr.ref.name}`],
          title: `${ref} sends ISTIO_MUTUAL to ${name}, whose PeerAuthentication is DISABLE`,
          cause: `the callers' sidecars open mTLS toward sidecars that accept only plaintext: the handshake fails and the connection is reset (IST0113's conflict of modes)`,
          evidence: [
            `${ref} tls.mode ISTIO_MUTUAL (${at}, host ${dr.host})`,
            `mTLS DISABLE: ${pa.decidedBy.text}`,
            ...seen(tlsHits),
          ],
          confidence: tlsHits.length ? 'high' : 'medium',
          pods: pods.map((p) => p.metadata.name),
          explains: tlsHits.map((s) => s.key),
        });
      } else if (mode === 'DISABLE' && pa.workloadMode === 'STRICT' && without.length < pods.length) {
        findings.push({
          check: 'mtls',
          objects: [`DestinationRule/${dr.ref.namespace}/${dr.ref.name}`],
          title: `${ref} turns TLS off toward ${name}, whose PeerAuthentication is STRICT`,
          cause: `callers send plaintext that ${name}'s sidecars refuse (STRICT accepts only mTLS): the connection is reset`,
          evidence: [
            `${ref} tls.mode DISABLE (${at}, host ${dr.host})`,
            `mTLS STRICT: ${pa.decidedBy.text}`,
            ...seen(tlsHits),
          ],
          confidence: tlsHits.length ? 'high' : 'medium',
          pods: pods.map((p) => p.metadata.name),
          explains: tlsHits.map((s) => s.key),
        });
      }
    }
  }
  if (!findings.length)
    notes.push(`${name}: no DestinationRule TLS mode disagrees with its pods (mTLS ${pa.workloadMode})`);
  return { findings, notes };
}

/** The destinations to check: the workload's own Services, and every service its 5xx went to. */
export function destinationsToCheck(
  own: readonly KubeObject[],
  symptoms: readonly Symptom[],
): { dest: Destination; own: boolean }[] {
  const out = new Map<string, { dest: Destination; own: boolean }>();
  for (const svc of own) {
    const ns = svc.metadata.namespace ?? 'default';
    out.set(`${svc.metadata.name}.${ns}`, { dest: { service: svc.metadata.name, namespace: ns }, own: true });
  }
  for (const s of symptoms) {
    if (!s.service || out.has(s.service)) continue;
    const [service, namespace] = s.service.split('.') as [string, string];
    out.set(s.service, { dest: { service, namespace }, own: false });
  }
  return [...out.values()];
}
