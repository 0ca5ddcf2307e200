// istiod's validation where it is stricter than the CRD schema, for the kinds added to istio-rules.ts after
// AuthorizationPolicy, PeerAuthentication, Gateway and ServiceEntry (those are in schema-validation.test.ts): per
// kind, objects istiod rejects (the text and the path of each finding) and a valid one that gives nothing, also
// through the kind's schema analyzer (IST0106 errors, IST0133 warnings, the CRD schema's findings included).
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { istioRuleProblems } from '../../src/mesh/analyzers/schema/istio-rules.ts';
import { ENVOY_FILTER_WARNING } from '../../src/mesh/analyzers/schema/rules/extensions.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const API: Record<string, string> = {
  RequestAuthentication: 'security.istio.io/v1',
  Telemetry: 'telemetry.istio.io/v1',
  WasmPlugin: 'extensions.istio.io/v1alpha1',
  EnvoyFilter: 'networking.istio.io/v1alpha3',
  ProxyConfig: 'networking.istio.io/v1beta1',
};

function obj(kind: string, spec: unknown): KubeObject {
  return { apiVersion: API[kind] ?? 'networking.istio.io/v1', kind, metadata: { name: 'x', namespace: 'shop' }, spec };
}

/** What istio-rules.ts finds: [text, path] for errors, [text, path, 'warning'] for warnings. */
function rules(kind: string, spec: unknown): unknown[][] {
  return istioRuleProblems(obj(kind, spec)).map((p) => (p.warning ? [p.text, p.path, 'warning'] : [p.text, p.path]));
}

/** Every message of the kind's schema analyzer: [code, text]. */
function messages(kind: string, spec: unknown): string[][] {
  const ms = analyze(new MeshSnapshot([obj(kind, spec)]), { analyzers: [`schema.ValidationAnalyzer.${kind}`] });
  return ms.map((m) => [m.code, m.text.replace(/^Schema validation (error|warning): /, '')]);
}

const sel = { matchLabels: { app: 'pay' } };
const HCM = 'envoy.filters.network.http_connection_manager';
const port = (number: number, name = `p${number}`) => ({ number, name, protocol: 'HTTP' });

type Case = [what: string, spec: unknown, findings: unknown[][]];

const VALID: Record<string, unknown> = {
  Sidecar: {
    workloadSelector: { labels: { app: 'pay' } },
    ingress: [{ port: port(8080, 'http'), defaultEndpoint: '127.0.0.1:8080' }],
    egress: [{ port: port(9080, 'http'), hosts: ['./*'] }, { hosts: ['istio-system/*', '*/api.example.com', '~/*'] }],
    outboundTrafficPolicy: {
      mode: 'ALLOW_ANY',
      egressProxy: { host: 'egress.istio-system.svc.cluster.local', port: { number: 443 } },
    },
  },
  RequestAuthentication: {
    selector: sel,
    jwtRules: [
      { issuer: 'https://issuer', jwksUri: 'https://issuer/jwks', timeout: '5s' },
      { issuer: 'other', jwks: '{"keys":[{"kty":"RSA","n":"abc","e":"AQAB"}]}' },
    ],
  },
  Telemetry: {
    selector: sel,
    tracing: [
      {
        providers: [{ name: 'zipkin' }],
        randomSamplingPercentage: 10,
        customTags: { env: { literal: { value: 'p' } } },
      },
    ],
    metrics: [
      {
        providers: [{ name: 'prometheus' }],
        overrides: [{ tagOverrides: { request_protocol: { operation: 'REMOVE' }, team: { value: 'pay' } } }],
      },
    ],
  },
  WasmPlugin: {
    selector: sel,
    url: 'oci://ghcr.io/acme/filter:1.0',
    vmConfig: {
      env: [
        { name: 'A', value: '1' },
        { name: 'B', valueFrom: 'HOST' },
      ],
    },
  },
  EnvoyFilter: {
    workloadSelector: { labels: { app: 'pay' } },
    configPatches: [
      {
        applyTo: 'HTTP_FILTER',
        match: {
          context: 'SIDECAR_INBOUND',
          proxy: { proxyVersion: '(?i)^1\\.2[0-9].*' },
          listener: { filterChain: { filter: { name: HCM, subFilter: { name: 'envoy.filters.http.router' } } } },
        },
        patch: { operation: 'INSERT_BEFORE', value: { name: 'acme.lua' } },
      },
      {
        applyTo: 'CLUSTER',
        match: { cluster: { name: 'outbound|80||pay.shop.svc.cluster.local' } },
        patch: { operation: 'REMOVE' },
      },
    ],
  },
  WorkloadEntry: {
    address: 'vm1.example.com',
    labels: { app: 'pay', 'example.com/tier': 'web' },
    ports: { http: 8080 },
  },
  WorkloadGroup: {
    metadata: { labels: { app: 'pay' } },
    template: { serviceAccount: 'pay' },
    probe: { httpGet: { port: 8080, path: '/ready' } },
  },
  ProxyConfig: { selector: sel, concurrency: 0, image: { imageType: 'distroless' } },
};

const INVALID: Record<string, Case[]> = {
  Sidecar: [
    ['an empty configuration', {}, [['sidecar: empty configuration provided', ['spec']]]],
    [
      'egress hosts not namespace/dnsName, a short name, a bad namespace',
      { egress: [{ hosts: ['reviews.shop.svc.cluster.local', './reviews', 'Bad_NS/*'] }] },
      [
        ['host must be of form namespace/dnsName', ['spec', 'egress', 0, 'hosts', 0]],
        ['short names (non FQDN) are not allowed', ['spec', 'egress', 0, 'hosts', 1]],
        ['invalid namespace value "Bad_NS" in sidecar', ['spec', 'egress', 0, 'hosts', 2]],
      ],
    ],
    [
      'an empty hosts list, a duplicated host',
      { egress: [{ port: port(80), hosts: [] }, { hosts: ['./*', './pay.shop.svc.cluster.local'] }] },
      [
        ['sidecar: egress listener must contain at least one host', ['spec', 'egress', 0, 'hosts']],
        ['duplicated egress host: ./pay.shop.svc.cluster.local', ['spec', 'egress', 1, 'hosts', 1], 'warning'],
      ],
    ],
    [
      'the catch-all egress listener not last',
      { egress: [{ hosts: ['./*'] }, { port: port(80), hosts: ['./*'] }] },
      [['sidecar: the egress listener with empty port should be the last listener in the list', ['spec', 'egress', 0]]],
    ],
    [
      'port 0 without a unix socket, a port out of range',
      {
        egress: [
          { port: { number: 0, protocol: 'HTTP' }, hosts: ['./*'] },
          { port: port(70000), hosts: ['./*'] },
        ],
      },
      [
        ['sidecar: ports with 0 value must have a unix domain socket bind address', ['spec', 'egress', 0, 'port']],
        ['port number 70000 must be in the range 1..65535', ['spec', 'egress', 1, 'port']],
      ],
    ],
    [
      'two ingress listeners on one port, a defaultEndpoint on another host',
      { ingress: [{ port: port(8080), defaultEndpoint: '10.0.0.1:8080' }, { port: port(8080, 'again') }] },
      [
        [
          'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset',
          ['spec', 'ingress', 0, 'defaultEndpoint'],
        ],
        ['sidecar: ports on IP bound listeners must be unique', ['spec', 'ingress', 1, 'port', 'number']],
      ],
    ],
    [
      'ingress TLS in ISTIO_MUTUAL mode with a credentialName',
      { ingress: [{ port: port(8443), tls: { mode: 'ISTIO_MUTUAL', credentialName: 'c' } }] },
      [
        ['sidecar: credentialName is not currently supported', ['spec', 'ingress', 0, 'tls', 'credentialName']],
        [
          'configuration is invalid: cannot set mode to ISTIO_MUTUAL in sidecar ingress tls',
          ['spec', 'ingress', 0, 'tls', 'mode'],
        ],
      ],
    ],
    [
      'an egress proxy without ALLOW_ANY',
      { egress: [{ hosts: ['./*'] }], outboundTrafficPolicy: { egressProxy: { host: 'egress.example.com' } } },
      [
        [
          'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode',
          ['spec', 'outboundTrafficPolicy', 'mode'],
        ],
      ],
    ],
    [
      'a workload selector without labels (a warning), an inbound pool with a negative limit',
      { workloadSelector: { labels: {} }, inboundConnectionPool: { tcp: { maxConnections: -1 } } },
      [
        [
          'sidecar: workload selector specified without labels, will be applied to all services in namespace',
          ['spec', 'workloadSelector'],
          'warning',
        ],
        ['max connections must be non-negative', ['spec', 'inboundConnectionPool', 'tcp', 'maxConnections']],
      ],
    ],
  ],
  RequestAuthentication: [
    [
      'a JWT rule without issuer',
      { jwtRules: [{ jwksUri: 'https://i/jwks' }] },
      [['issuer must be set', ['spec', 'jwtRules', 0]]],
    ],
    [
      'inline jwks that do not parse, a timeout finer than 1ms',
      { jwtRules: [{ issuer: 'i', jwks: '{"keys": [', timeout: '1.5ms' }] },
      [
        ['jwks parse error: not valid JSON', ['spec', 'jwtRules', 0, 'jwks']],
        ['only durations to ms precision are supported', ['spec', 'jwtRules', 0, 'timeout']],
      ],
    ],
    [
      'a selector without labels (a warning)',
      { selector: {}, jwtRules: [{ issuer: 'i' }] },
      [['workload selector specified without labels', ['spec', 'selector'], 'warning']],
    ],
  ],
  Telemetry: [
    [
      'a tag override without operation (UPSERT) or value',
      { metrics: [{ overrides: [{ tagOverrides: { team: {} } }] }] },
      [
        [
          'tagOverrides.value must be set when operation is UPSERT',
          ['spec', 'metrics', 0, 'overrides', 0, 'tagOverrides', 'team'],
        ],
      ],
    ],
    [
      'a custom tag without name, two tracing entries (a warning)',
      { tracing: [{ customTags: { '': { literal: { value: 'v' } } } }, {}] },
      [
        ['multiple tracing is not currently supported', ['spec', 'tracing'], 'warning'],
        ['tag name may not be empty', ['spec', 'tracing', 0, 'customTags']],
      ],
    ],
  ],
  WasmPlugin: [
    [
      'an env name twice',
      { url: 'file:///f.wasm', vmConfig: { env: [{ name: 'A' }, { name: 'A', value: '2' }] } },
      [['duplicate env', ['spec', 'vmConfig', 'env', 1, 'name']]],
    ],
  ],
  EnvoyFilter: [
    [
      'a MERGE without value, a patch without applyTo',
      {
        configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'MERGE' } }, { patch: { operation: 'REMOVE' } }],
      },
      [
        ['Envoy filter: missing patch value for non-remove operation', ['spec', 'configPatches', 0, 'patch']],
        ['Envoy filter: missing applyTo', ['spec', 'configPatches', 1, 'applyTo']],
      ],
    ],
    [
      'matches that do not fit applyTo',
      {
        configPatches: [
          { applyTo: 'CLUSTER', match: { listener: { name: 'l' } }, patch: { operation: 'REMOVE' } },
          { applyTo: 'HTTP_FILTER', match: { routeConfiguration: { name: 'r' } }, patch: { operation: 'REMOVE' } },
          { applyTo: 'HTTP_ROUTE', match: { cluster: { name: 'c' } }, patch: { operation: 'REMOVE' } },
        ],
      },
      [
        [
          'Envoy filter: applyTo for cluster class objects cannot have non cluster match',
          ['spec', 'configPatches', 0, 'match'],
        ],
        [
          'Envoy filter: applyTo for listener class objects cannot have non listener match',
          ['spec', 'configPatches', 1, 'match'],
        ],
        [
          'Envoy filter: applyTo for http route class objects cannot have non route configuration match',
          ['spec', 'configPatches', 2, 'match'],
        ],
      ],
    ],
    [
      'listener filter matches: a subfilter outside HTTP_FILTER, a filter without name, a filter on a LISTENER',
      {
        configPatches: [
          {
            applyTo: 'NETWORK_FILTER',
            match: { listener: { filterChain: { filter: { name: HCM, subFilter: { name: 'r' } } } } },
            patch: { operation: 'REMOVE' },
          },
          {
            applyTo: 'HTTP_FILTER',
            match: { listener: { filterChain: { filter: {} } } },
            patch: { operation: 'REMOVE' },
          },
          {
            applyTo: 'LISTENER',
            match: { listener: { filterChain: { filter: { name: HCM } } } },
            patch: { operation: 'REMOVE' },
          },
        ],
      },
      [
        [
          'Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only',
          ['spec', 'configPatches', 0, 'match', 'listener', 'filterChain', 'filter', 'subFilter'],
        ],
        [
          'Envoy filter: filter match has no name to match on',
          ['spec', 'configPatches', 1, 'match', 'listener', 'filterChain', 'filter'],
        ],
        [
          'Envoy filter: filter match has no effect when used with LISTENER',
          ['spec', 'configPatches', 2, 'match', 'listener', 'filterChain', 'filter'],
          'warning',
        ],
      ],
    ],
    [
      'a proxyVersion regex RE2 refuses',
      {
        configPatches: [
          { applyTo: 'CLUSTER', match: { proxy: { proxyVersion: '^1(?!2)' } }, patch: { operation: 'REMOVE' } },
        ],
      },
      [
        [
          'Envoy filter: invalid regex for proxy version, [error parsing regexp: invalid or unsupported Perl syntax: `(?!`]',
          ['spec', 'configPatches', 0, 'match', 'proxy', 'proxyVersion'],
        ],
      ],
    ],
    [
      'a wildcard selector key (istiod stops there, without its EnvoyFilter warning)',
      {
        workloadSelector: { labels: { 'app*': 'pay' } },
        configPatches: [{ applyTo: 'CLUSTER', patch: { operation: 'MERGE' } }],
      },
      [['wildcard is not supported in selector: "app*=pay"', ['spec', 'workloadSelector', 'labels', 'app*']]],
    ],
  ],
  WorkloadEntry: [
    [
      'an address that is no FQDN or IP',
      { address: 'not_a_host!' },
      [['endpoint address "not_a_host!" is not a valid FQDN or an IP address', ['spec', 'address']]],
    ],
    ['an empty address without network', { address: '' }, [['address is required', ['spec', 'address']]]],
    [
      'a bad label key and value',
      { address: '10.0.0.5', labels: { 'bad key': 'x', app: 'bad value!' } },
      [
        ['invalid tag key: "bad key"', ['spec', 'labels']],
        ['invalid tag value: "bad value!"', ['spec', 'labels']],
      ],
    ],
    [
      'a network without address (a warning)',
      { network: 'net1' },
      [['address is unset with network "net1"', ['spec'], 'warning']],
    ],
  ],
  WorkloadGroup: [
    [
      'a probe without a method',
      { template: {}, probe: { periodSeconds: 5 } },
      [['unknown health check method <nil>', ['spec', 'probe']]],
    ],
    [
      'an exec probe without command',
      { template: {}, probe: { exec: { command: [] } } },
      [['exec.command is required', ['spec', 'probe', 'exec', 'command']]],
    ],
    [
      'bad metadata labels (one error, as istiod)',
      { template: {}, metadata: { labels: { 'a b': 'x', c: 'd e' } } },
      [['invalid labels: invalid tag key: "a b"; invalid tag value: "d e"', ['spec', 'metadata', 'labels']]],
    ],
  ],
  ProxyConfig: [
    [
      'a selector without labels (a warning)',
      { selector: {}, concurrency: 2 },
      [['workload selector specified without labels', ['spec', 'selector'], 'warning']],
    ],
  ],
};

describe("istiod's stricter rules, kinds beyond AuthorizationPolicy, PeerAuthentication, Gateway, ServiceEntry", () => {
  for (const [kind, cases] of Object.entries(INVALID)) {
    describe(kind, () => {
      it('a valid object gives no finding, from the rules or from the schema analyzer', () => {
        const valid = VALID[kind];
        if (kind === 'EnvoyFilter') {
          // istiod warns about every EnvoyFilter; nothing else.
          expect(rules(kind, valid)).toEqual([[ENVOY_FILTER_WARNING, ['spec'], 'warning']]);
          expect(messages(kind, valid)).toEqual([['IST0133', ENVOY_FILTER_WARNING]]);
        } else {
          expect(rules(kind, valid)).toEqual([]);
          expect(messages(kind, valid)).toEqual([]);
        }
      });

      for (const [what, spec, findings] of cases) {
        it(`${what}: ${findings.map((f) => f[0]).join(' / ')}`, () => {
          const found = rules(kind, spec).filter((f) => f[0] !== ENVOY_FILTER_WARNING);
          expect(found).toEqual(findings);
          const codes = messages(kind, spec);
          for (const [text, , warning] of findings)
            expect(codes).toContainEqual([warning ? 'IST0133' : 'IST0106', text]);
        });
      }
    });
  }

  it('Sidecar: a wildcard egress host other than a first label is an invalid domain (Istio reports it twice)', () => {
    const found = rules('Sidecar', { egress: [{ hosts: ['./*.x*y.com'] }] });
    const invalid = ['domain name "x*y.com" invalid (label "x*y" invalid)', ['spec', 'egress', 0, 'hosts', 0]];
    expect(found).toEqual([invalid, invalid]);
    // The analyzer's messages are de-duplicated: one IST0106.
    expect(messages('Sidecar', { egress: [{ hosts: ['./*.x*y.com'] }] })).toEqual([['IST0106', invalid[0]]]);
  });

  it('Sidecar: a defaultEndpoint without port is the split error and the port error, as Go reports them', () => {
    expect(rules('Sidecar', { ingress: [{ port: port(8080), defaultEndpoint: '127.0.0.1' }] })).toEqual([
      ['address 127.0.0.1: missing port in address', ['spec', 'ingress', 0, 'defaultEndpoint']],
      [
        'sidecar: defaultEndpoint port () is not a number: strconv.Atoi: parsing "": invalid syntax',
        ['spec', 'ingress', 0, 'defaultEndpoint'],
      ],
    ]);
  });

  it('what the CRD schema already refuses is reported once, by the schema, not again by the rules', () => {
    // ProxyConfig concurrency < 0: istiod's "concurrency must be greater than or equal to 0" is the CRD's minimum.
    expect(rules('ProxyConfig', { concurrency: -1 })).toEqual([]);
    expect(messages('ProxyConfig', { concurrency: -1 })).toEqual([
      ['IST0106', 'spec.concurrency: Invalid value: -1: spec.concurrency in body should be greater than or equal to 0'],
    ]);
    // WorkloadEntry without address or network: the CRD's CEL rule says "Address is required".
    expect(rules('WorkloadEntry', { labels: { app: 'pay' } })).toEqual([]);
    // Telemetry tracing sampling over 100 and an empty provider name: the CRD's bounds.
    expect(rules('Telemetry', { tracing: [{ randomSamplingPercentage: 150, providers: [{ name: '' }] }] })).toEqual([]);
    // RequestAuthentication jwksUri with another scheme: the CRD's CEL rule.
    expect(rules('RequestAuthentication', { jwtRules: [{ issuer: 'i', jwksUri: 'ftp://i/jwks' }] })).toEqual([]);
  });
});
