// Facts, not layout: `istioctl x describe service` text and our ServiceDescription are both turned
// into the same flat fact strings, so the conformance test can ask "is every fact istioctl states
// also in our answer?" while our rendering stays free to differ.
import type { RouteSummary, VirtualServiceSummary } from '../../src/mesh/traffic-routing.ts';
import type { ServiceDescription } from '../../src/mesh/workload.ts';

/** istioctl's kname: the bare name in the described namespace, `name.namespace` elsewhere. */
function kname(ref: { name: string; namespace: string }, describeNamespace: string): string {
  return ref.namespace === describeNamespace ? ref.name : `${ref.name}.${ref.namespace}`;
}

function uriFact(kind: 'exact' | 'prefix' | 'regex', value: string, uncased: boolean): string {
  return `uri ${kind} ${value}${uncased ? ' uncased' : ''}`;
}

/** istioctl's renderStringMatch reversed: `x*` is a prefix, anything else exact. */
function parseStringMatch(text: string): { kind: 'exact' | 'prefix'; value: string } {
  return text.endsWith('*') ? { kind: 'prefix', value: text.slice(0, -1) } : { kind: 'exact', value: text };
}

function parseMatch(text: string): string[] {
  // "Match: /prefix* uncased when headers are a=b; c=d*"
  let rest = text.replace(/^Match:\s*/, '');
  const facts: string[] = [];
  const headersAt = rest.indexOf(' when headers are ');
  let headers = '';
  if (headersAt >= 0) {
    headers = rest.slice(headersAt + ' when headers are '.length);
    rest = rest.slice(0, headersAt);
  } else if (rest.startsWith('when headers are ')) {
    headers = rest.slice('when headers are '.length);
    rest = '';
  }
  const uncased = rest.endsWith(' uncased');
  if (uncased) rest = rest.slice(0, -' uncased'.length);
  if (rest) {
    const m = parseStringMatch(rest);
    facts.push(uriFact(m.kind, m.value, uncased));
  }
  for (const h of headers ? headers.split('; ') : []) {
    const eq = h.indexOf('=');
    const m = parseStringMatch(h.slice(eq + 1));
    facts.push(`header ${h.slice(0, eq)} ${m.kind} ${m.value}`);
  }
  return facts;
}

/** Facts stated by istioctl describe service output. Throws on a line it does not understand. */
export function factsFromIstioctl(text: string): string[] {
  const facts: string[] = [];
  let section = '';
  let dr = '';
  let vs = '';
  let port = '';
  let inPortLevel = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if (line === '--------------------') {
      section = 'ingress ';
      dr = vs = port = '';
      inPortLevel = false;
    } else if ((m = /^Service: (\S+)$/.exec(line))) {
      facts.push(`service ${m[1]}`);
    } else if ((m = /^Port: (\S*) (\d+)\/(\S+) targets pod port (\d+)$/.exec(line))) {
      facts.push(`service port ${m[2]} protocol ${m[3]}`, `service port ${m[2]} targets ${m[4]}`);
    } else if ((m = /^DestinationRule: (\S+) for "([^"]+)"$/.exec(line))) {
      dr = m[1]!;
      vs = '';
      inPortLevel = false;
      facts.push(`${section}dr ${dr} host ${m[2]}`);
    } else if ((m = /^WARNING POD DOES NOT MATCH ANY SUBSETS\.\s+\(Non matching subsets (.*)\)$/.exec(line))) {
      facts.push(`${section}dr ${dr} pod in no subset`, `${section}dr ${dr} non-matching subsets ${m[1]}`);
    } else if ((m = /^Matching subsets:\s*(.*)$/.exec(line))) {
      facts.push(`${section}dr ${dr} matching subsets ${m[1]}`);
    } else if ((m = /^\(Non-matching subsets (.*)\)$/.exec(line))) {
      facts.push(`${section}dr ${dr} non-matching subsets ${m[1]}`);
    } else if (line === 'No Traffic Policy') {
      facts.push(`${section}dr ${dr} no traffic policy`);
    } else if ((m = /^Traffic Policy TLS Mode: (\S+)$/.exec(line))) {
      facts.push(`${section}dr ${dr} tls ${m[1]}`);
    } else if (line === 'Port Level Settings:') {
      inPortLevel = true;
    } else if (inPortLevel && (m = /^(\d+):$/.exec(line))) {
      port = m[1]!;
    } else if (inPortLevel && (m = /^TLS Mode: (\S+)$/.exec(line))) {
      facts.push(`${section}dr ${dr} port ${port} tls ${m[1]}`);
    } else if ((m = /^Policies: (.+)$/.exec(line))) {
      for (const p of m[1]!.split('/'))
        facts.push(`${section}dr ${dr}${inPortLevel ? ` port ${port}` : ''} policy ${p}`);
    } else if ((m = /^VirtualService: (\S+)$/.exec(line))) {
      vs = m[1]!;
      dr = '';
      inPortLevel = false;
      facts.push(`${section}vs ${vs}`);
    } else if ((m = /^Route to host "([^"]+)"(?: subset "([^"]+)")? with weight (\d+)%$/.exec(line))) {
      facts.push(`${section}vs ${vs} route to ${m[1]}${m[2] ? ` subset ${m[2]}` : ''} weight ${m[3]}`);
    } else if (line.startsWith('Match:')) {
      for (const part of line.split(', Match: '))
        for (const f of parseMatch(part)) facts.push(`${section}vs ${vs} match ${f}`);
    } else if ((m = /^Exposed on Ingress Gateway (\S+)$/.exec(line))) {
      facts.push(`ingress exposed ${m[1]}`);
    } else {
      throw new Error(`factsFromIstioctl: no rule for line ${JSON.stringify(raw)}`);
    }
  }
  return facts;
}

function routeFacts(prefix: string, vsName: string, routes: readonly RouteSummary[]): string[] {
  const facts: string[] = [];
  for (const r of routes) {
    if (!r.destinations.some((d) => d.toThisService)) continue;
    for (const d of r.destinations)
      facts.push(`${prefix}vs ${vsName} route to ${d.host}${d.subset ? ` subset ${d.subset}` : ''} weight ${d.weight}`);
    for (const m of r.matches) {
      if (m.uri) facts.push(`${prefix}vs ${vsName} match ${uriFact(m.uri.kind, m.uri.value, m.ignoreUriCase)}`);
      for (const h of m.headers)
        facts.push(`${prefix}vs ${vsName} match header ${h.name} ${h.match.kind} ${h.match.value}`);
    }
  }
  return facts;
}

function vsFacts(prefix: string, vs: VirtualServiceSummary, ns: string): string[] {
  const name = kname(vs.ref, ns);
  return [`${prefix}vs ${name}`, ...routeFacts(prefix, name, vs.routes)];
}

/** The same kinds of facts, read from our model. */
export function factsFromDescription(d: ServiceDescription): string[] {
  const ns = d.service.namespace;
  const facts: string[] = [`service ${kname(d.service, ns)}`];
  for (const p of d.ports) {
    facts.push(`service port ${p.port} protocol ${p.protocol.sniffed ? 'auto-detect' : p.protocol.protocol}`);
    if (p.targetPort !== undefined) facts.push(`service port ${p.port} targets ${p.targetPort}`);
  }
  for (const dr of d.destinationRules) {
    const n = kname(dr.ref, ns);
    facts.push(`dr ${n} host ${dr.host}`);
    if (dr.matchingSubsets.length + dr.nonMatchingSubsets.length > 0) {
      facts.push(`dr ${n} matching subsets ${dr.matchingSubsets.join(',')}`);
      if (dr.nonMatchingSubsets.length) facts.push(`dr ${n} non-matching subsets ${dr.nonMatchingSubsets.join(',')}`);
      if (dr.matchingSubsets.length === 0) facts.push(`dr ${n} pod in no subset`);
    }
    if (!dr.trafficPolicy) facts.push(`dr ${n} no traffic policy`);
    else {
      if (dr.trafficPolicy.tlsMode) facts.push(`dr ${n} tls ${dr.trafficPolicy.tlsMode}`);
      for (const p of dr.trafficPolicy.policies) facts.push(`dr ${n} policy ${p}`);
    }
    for (const pl of dr.portLevel) {
      if (pl.tlsMode) facts.push(`dr ${n} port ${pl.port} tls ${pl.tlsMode}`);
      for (const p of pl.policies) facts.push(`dr ${n} port ${pl.port} policy ${p}`);
    }
  }
  // istioctl's fixtures give the productpage sidecar a config_dump with routes from VirtualService bookinfo, which
  // is bound to `fake-gw` only; istiod never sends such routes to a sidecar, and we list that VirtualService under
  // the gateway exposure instead. Its facts count wherever the description states them.
  for (const vs of [...d.virtualServices, ...d.gatewayVirtualServices]) facts.push(...vsFacts('', vs, ns));
  for (const e of d.ingress) {
    facts.push(`ingress exposed ${e.url}`);
    const vs = [...d.virtualServices, ...d.gatewayVirtualServices].find(
      (v) => v.ref.namespace === e.virtualService.namespace && v.ref.name === e.virtualService.name,
    );
    if (vs) facts.push(...vsFacts('ingress ', vs, ns));
  }
  return [...new Set(facts)];
}
