// schema.ValidationAnalyzer.<Kind>: each Istio kind checked against its CRD's OpenAPI schema (generated from
// ../shared's crd-all.gen.yaml) and, for the kinds istiod validates more strictly, istiod's rules; IST0106 each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { defaultCrdSource, readCrds, renderCrdModule } from '../../scripts/generate-crd-schemas.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze, analyzerNames } from '../../src/mesh/analyzers/index.ts';
import { celRuleKnown, parseDurationMs } from '../../src/mesh/analyzers/schema/cel.ts';
import { CRD_SCHEMAS } from '../../src/mesh/analyzers/schema/crd-schemas.ts';
import { VALIDATED_KINDS } from '../../src/mesh/analyzers/schema/crd.ts';
import { validateSchema } from '../../src/mesh/analyzers/schema/openapi.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { projectRoot } from '../support/shared.ts';

const API: Record<string, string> = {
  AuthorizationPolicy: 'security.istio.io/v1',
  PeerAuthentication: 'security.istio.io/v1',
  RequestAuthentication: 'security.istio.io/v1',
  Telemetry: 'telemetry.istio.io/v1',
  WasmPlugin: 'extensions.istio.io/v1alpha1',
  EnvoyFilter: 'networking.istio.io/v1alpha3',
  ProxyConfig: 'networking.istio.io/v1beta1',
};

function obj(kind: string, spec: unknown, name = 'x'): KubeObject {
  return { apiVersion: API[kind] ?? 'networking.istio.io/v1', kind, metadata: { name, namespace: 'shop' }, spec };
}

/** IST0106 texts for one object, run through that kind's analyzer only. */
function errors(o: KubeObject): string[] {
  const ms = analyze(new MeshSnapshot([o]), { analyzers: [`schema.ValidationAnalyzer.${o.kind}`] });
  return ms.filter((m) => m.code === 'IST0106').map((m) => m.text.replace(/^Schema validation error: /, ''));
}

const sel = { matchLabels: { app: 'pay' } };

// For each kind: a valid spec, an invalid one, and (part of) the message the invalid one must give.
const CASES: Record<(typeof VALIDATED_KINDS)[number], [unknown, unknown, string]> = {
  AuthorizationPolicy: [
    { selector: sel, action: 'ALLOW', rules: [{ to: [{ operation: { ports: ['8080'], methods: ['GET'] } }] }] },
    { action: 'CUSTOM', rules: [{}] },
    '`provider.name` must not be empty',
  ],
  DestinationRule: [
    { host: 'pay', trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } } } },
    { host: 'pay', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } },
    'spec.trafficPolicy.loadBalancer.simple: Unsupported value: "FASTEST"',
  ],
  EnvoyFilter: [
    { configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'MERGE', value: { any: { thing: 1 } } } }] },
    { configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'MERGE' } }], workloadLabels: { app: 'pay' } },
    'unknown field "spec.workloadLabels"',
  ],
  Gateway: [
    {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
    },
    { selector: { istio: 'ingressgateway' }, servers: [{ hosts: ['*'] }] },
    'spec.servers[0].port: Required value',
  ],
  PeerAuthentication: [
    { selector: sel, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } },
    { mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } },
    'mesh/namespace peer authentication cannot have port level mTLS',
  ],
  ProxyConfig: [
    { selector: sel, concurrency: 2, environmentVariables: { A: 'b' } },
    { concurrency: 'two' },
    'spec.concurrency: Invalid value: "string": spec.concurrency in body must be of type integer',
  ],
  RequestAuthentication: [
    { selector: sel, jwtRules: [{ issuer: 'https://issuer', jwksUri: 'https://issuer/jwks' }] },
    { jwtRules: [{ issuer: 'https://issuer', jwksUri: 'ftp://issuer/jwks' }] },
    'url must have scheme http:// or https://',
  ],
  ServiceEntry: [
    { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], resolution: 'DNS' },
    {
      hosts: ['api.example.com'],
      ports: [
        { number: 443, name: 'https' },
        { number: 443, name: 'again' },
      ],
    },
    'port number cannot be duplicated',
  ],
  Sidecar: [
    { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
    { egress: [{ hosts: ['./*'] }], outboundTrafficPolicy: { mode: 'ALLOW_EVERYTHING' } },
    'spec.outboundTrafficPolicy.mode: Unsupported value: "ALLOW_EVERYTHING"',
  ],
  Telemetry: [
    { selector: sel, accessLogging: [{ providers: [{ name: 'envoy' }] }] },
    { tracing: [{ randomSamplingPercentage: 150 }] },
    'spec.tracing[0].randomSamplingPercentage: Invalid value: 150',
  ],
  VirtualService: [
    { hosts: ['pay'], http: [{ route: [{ destination: { host: 'pay' } }], timeout: '5s' }] },
    { hosts: ['pay'], http: [{ route: [{ destination: { host: 'pay' } }], timeout: '0.1ms' }] },
    'must be a valid duration greater than 1ms',
  ],
  WasmPlugin: [
    { selector: sel, url: 'oci://ghcr.io/acme/filter:1.0', phase: 'AUTHN' },
    { url: 'oci://ghcr.io/acme/filter:1.0', phase: 'FIRST' },
    'spec.phase: Unsupported value: "FIRST"',
  ],
  WorkloadEntry: [
    { address: '10.0.0.5', labels: { app: 'pay' }, ports: { http: 8080 } },
    { labels: { app: 'pay' } },
    'Address is required',
  ],
  WorkloadGroup: [
    { template: { labels: { app: 'pay' } }, probe: { httpGet: { port: 8080, path: '/ready' } } },
    { metadata: { labels: { app: 'pay' } } },
    'spec.template: Required value',
  ],
};

describe('schema.ValidationAnalyzer.<Kind>', () => {
  it('has one analyzer per Istio kind meshops reads, each with a CRD schema', () => {
    for (const kind of VALIDATED_KINDS) {
      expect(analyzerNames()).toContain(`schema.ValidationAnalyzer.${kind}`);
      expect(CRD_SCHEMAS.some((c) => c.kind === kind)).toBe(true);
    }
  });

  for (const kind of VALIDATED_KINDS) {
    const [valid, invalid, expected] = CASES[kind];
    it(`${kind}: a valid object passes, an invalid one is IST0106 with the reason`, () => {
      expect(errors(obj(kind, valid))).toEqual([]);
      const found = errors(obj(kind, invalid));
      expect(found.some((t) => t.includes(expected))).toBe(true);
    });
  }

  it('reports one Error-level IST0106 about the object for one problem', () => {
    const o = obj('Sidecar', { egress: [{ hosts: ['./*'] }], outboundTrafficPolicy: { mode: 'NOPE' } });
    const ms = analyze(new MeshSnapshot([o]), { analyzers: ['schema.ValidationAnalyzer.Sidecar'] });
    expect(ms.map((m) => [m.code, m.level, m.resource.kind])).toEqual([['IST0106', 'Error', 'Sidecar']]);
  });

  it('respects x-kubernetes-preserve-unknown-fields (EnvoyFilter patch values, WasmPlugin pluginConfig)', () => {
    expect(errors(obj('WasmPlugin', { url: 'file:///f.wasm', pluginConfig: { any: { nested: [1, 'two'] } } }))).toEqual(
      [],
    );
  });

  it("VirtualService: istiod's own wording of a missing destination host is not repeated by the CRD's", () => {
    const found = errors(obj('VirtualService', { hosts: ['pay'], http: [{ route: [{ destination: {} }] }] }));
    expect(found).toEqual(['destination.host is required']);
  });

  it('reports an apiVersion the CRD does not serve', () => {
    const o = { ...obj('Gateway', { servers: [] }), apiVersion: 'networking.istio.io/v2' };
    const found = errors(o);
    expect(found.some((t) => t.includes('no matches for kind "Gateway" in version "networking.istio.io/v2"'))).toBe(
      true,
    );
  });
});

describe("istiod's stricter rules", () => {
  it('AuthorizationPolicy: DENY without rules, provider with ALLOW, non-numeric ports, empty when', () => {
    expect(errors(obj('AuthorizationPolicy', { action: 'DENY' }))).toContain(
      'invalid policy x.shop: DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request',
    );
    expect(errors(obj('AuthorizationPolicy', { action: 'ALLOW', provider: { name: 'ext' }, rules: [{}] }))).toEqual([
      'invalid policy x.shop: `provider` must not be with non CUSTOM action, found ALLOW',
    ]);
    expect(errors(obj('AuthorizationPolicy', { rules: [{ to: [{ operation: { ports: ['http', '80'] } }] }] }))).toEqual(
      ['invalid policy x.shop: invalid port: "http"'],
    );
    expect(errors(obj('AuthorizationPolicy', { rules: [{ when: [{ key: 'request.auth.claims[iss]' }] }] }))).toEqual([
      'invalid policy x.shop: at least one of `values` or `notValues` must be set for key request.auth.claims[iss]',
    ]);
    expect(errors(obj('AuthorizationPolicy', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] }))).toEqual(
      [],
    );
    const custom = {
      action: 'CUSTOM',
      provider: { name: 'ext' },
      rules: [{ from: [{ source: { principals: ['a'] } }] }],
    };
    expect(errors(obj('AuthorizationPolicy', custom))).toEqual([
      'invalid policy x.shop: From.Principals is currently not supported with CUSTOM action',
    ]);
  });

  it('DestinationRule: connection pool durations finer than a millisecond (validateConnectionPool, as for Sidecar)', () => {
    const pool = (tcp: Record<string, unknown>) =>
      errors(obj('DestinationRule', { host: 'pay', trafficPolicy: { connectionPool: { tcp } } }));
    expect(pool({ connectTimeout: '1500us' })).toEqual(['only durations to ms precision are supported']);
    expect(pool({ connectTimeout: '250ms', maxConnectionDuration: '1h' })).toEqual([]);
  });

  it('PeerAuthentication: a port outside 1..65535 in portLevelMtls', () => {
    const found = errors(obj('PeerAuthentication', { selector: sel, portLevelMtls: { '70000': { mode: 'DISABLE' } } }));
    expect(found).toContain('port must be in range 1..65535');
    expect(errors(obj('PeerAuthentication', { selector: sel, portLevelMtls: {} }))).toEqual([
      'spec.portLevelMtls: Invalid value: 0: spec.portLevelMtls in body should have at least 1 properties',
    ]);
  });

  it('Gateway: no servers, HTTPS without TLS, duplicate port names, unknown protocol', () => {
    expect(errors(obj('Gateway', { selector: { istio: 'ingressgateway' } }))).toEqual([
      'gateway must have at least one server',
    ]);
    const https = { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'] };
    expect(errors(obj('Gateway', { servers: [https] }))).toEqual([
      'server must have TLS settings for HTTPS/TLS protocols',
    ]);
    const withTls = { ...https, tls: { mode: 'SIMPLE', credentialName: 'cert' } };
    expect(errors(obj('Gateway', { servers: [withTls, withTls] }))).toEqual([
      'port names in servers must be unique: duplicate name https',
    ]);
    const simple = { ...https, tls: { mode: 'SIMPLE' } };
    expect(errors(obj('Gateway', { servers: [simple] })).sort()).toEqual([
      'SIMPLE TLS requires a private key',
      'SIMPLE TLS requires a server certificate',
    ]);
    expect(errors(obj('Gateway', { servers: [{ ...https, tls: { mode: 'MUTUAL', credentialName: 'c' } }] }))).toEqual(
      [],
    );
    expect(errors(obj('Gateway', { servers: [{ ...https, tls: { mode: 'MUTUAL' } }] }))).toContain(
      'MUTUAL TLS requires a client CA bundle',
    );
    // No mode is PASSTHROUGH, which needs no certificate.
    expect(errors(obj('Gateway', { servers: [{ ...https, tls: {} }] }))).toEqual([]);
    const bad = { port: { number: 80, name: 'h', protocol: 'SMTP' }, hosts: ['*'] };
    expect(errors(obj('Gateway', { servers: [bad] }))[0]).toContain('invalid protocol "SMTP"');
  });

  it('ServiceEntry: wildcard host with DNS and no endpoints, STATIC endpoint that is no IP, NONE with endpoints', () => {
    expect(errors(obj('ServiceEntry', { hosts: ['*.example.com'], resolution: 'DNS' }))).toEqual([
      'hosts must be FQDN if no endpoints are provided for resolution mode DNS',
    ]);
    expect(
      errors(
        obj('ServiceEntry', { hosts: ['db.internal'], resolution: 'STATIC', endpoints: [{ address: 'db.host' }] }),
      ),
    ).toEqual(['endpoint address "db.host" is not a valid IP address']);
    expect(errors(obj('ServiceEntry', { hosts: ['db.internal'], endpoints: [{ address: '10.0.0.1' }] }))).toEqual([
      'spec: Invalid value: "object": NONE mode cannot set endpoints',
    ]);
  });
});

describe('the OpenAPI validator', () => {
  const schema = {
    type: 'object',
    properties: {
      n: { type: 'integer', format: 'int32', minimum: 1, maximum: 10 },
      s: { type: 'string', maxLength: 3, pattern: '^[a-z]+$' },
      l: { type: 'array', maxItems: 1, items: { type: 'string' } },
      m: { type: 'object', additionalProperties: { type: 'string' } },
      p: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      io: { 'x-kubernetes-int-or-string': true },
    },
    required: ['n'],
    oneOf: [{ not: { anyOf: [{ required: ['s'] }, { required: ['l'] }] } }, { required: ['s'] }, { required: ['l'] }],
  };
  it('reports type, bounds, length, pattern, items, unknown fields, required and oneOf', () => {
    const texts = validateSchema(schema, { n: 11, s: 'ABCD', l: ['a', 'b'], m: { k: 1 }, zz: 1, io: true }).map(
      (e) => e.text,
    );
    expect(texts).toEqual(
      expect.arrayContaining([
        'n: Invalid value: 11: n in body should be less than or equal to 10',
        's: Too long: may not be more than 3 bytes',
        's: Invalid value: "ABCD": should match \'^[a-z]+$\'',
        'l: Too many: 2: must have at most 1 items',
        'm.k: Invalid value: "integer": m.k in body must be of type string: "integer"',
        'unknown field "zz"',
        'io: Invalid value: "boolean": io in body must be of type integer or string: "boolean"',
      ]),
    );
    expect(texts.some((t) => t.includes('oneOf') && t.includes('only one of s, l may be set'))).toBe(true);
    expect(validateSchema(schema, {}).map((e) => e.text)).toEqual(['n: Required value']);
    expect(validateSchema(schema, { n: 1, p: { anything: { goes: 1 } }, io: '50%' })).toEqual([]);
  });

  it('parses Go durations as CEL duration() does', () => {
    expect(parseDurationMs('1m30s')).toBe(90000);
    expect(parseDurationMs('0.5ms')).toBe(0.5);
    expect(parseDurationMs('5')).toBeUndefined();
  });
});

describe('generated CRD schemas', () => {
  it('match crd-all.gen.yaml in ../shared (re-run scripts/generate-crd-schemas.ts after updating it)', () => {
    const committed = readFileSync(join(projectRoot, 'src/mesh/analyzers/schema/crd-schemas.ts'), 'utf8');
    expect(committed).toBe(renderCrdModule(readCrds(defaultCrdSource)));
  });

  it('every CEL rule in them is one cel.ts evaluates (a new one must be added there or skipped knowingly)', () => {
    const rules: string[] = [];
    const walk = (s: unknown): void => {
      if (Array.isArray(s)) s.forEach(walk);
      else if (typeof s === 'object' && s !== null) {
        const v = (s as Record<string, unknown>)['x-kubernetes-validations'];
        if (Array.isArray(v)) for (const r of v) rules.push((r as { rule: string }).rule);
        Object.values(s).forEach(walk);
      }
    };
    CRD_SCHEMAS.forEach((c) => walk(c.schema));
    expect(rules.length).toBeGreaterThan(50);
    expect(rules.filter((r) => !celRuleKnown(r))).toEqual([]);
  });
});
