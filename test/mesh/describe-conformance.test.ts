// Conformance with `istioctl x describe` (../shared/conformance/istio/describe). The goldens are
// `describe service productpage` outputs; istioctl finds the VirtualService and DestinationRule
// through the pod's Envoy config_dump, we find them from the objects themselves. Each golden is
// read into facts (service, DestinationRule and its subsets and traffic policy, VirtualService
// routes and matches, ingress exposure) and every fact must appear among the facts of our
// ServiceDescription for the same objects. The config_dump is still read, through
// src/envoy/config-dump.ts, to check that the proxy's view names the same objects as ours.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../src/errors.ts';
import { parseConfigDump, parseIstioConfigPath, virtualServicePathForService } from '../../src/envoy/config-dump.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { findProtocolForPort } from '../../src/mesh/port-protocol.ts';
import { revisionFromPodAnnotations } from '../../src/mesh/sidecar-proxy.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describeService, ServiceNotFoundError } from '../../src/mesh/workload.ts';
import { parseWorkloadRef, resolveWorkload, WorkloadNotFoundError } from '../../src/mesh/workload-ref.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';
import { factsFromDescription, factsFromIstioctl } from './describe-facts.ts';

const dir = join(conformanceDir, 'istio', 'describe');

const describeCase = z.object({
  id: z.string(),
  args: z.array(z.string()),
  expectedString: z.string().optional(),
  wantException: z.boolean(),
  namespace: z.string().optional(),
  istioNamespace: z.string().optional(),
  objectsFile: z.string().optional(),
  expectedOutputFile: z.string().optional(),
  expectedOutput: z.string().optional(),
  configDumps: z.record(z.string(), z.string()).optional(),
});

const casesSchema = z.object({
  TestDescribe: z.array(describeCase),
  TestFindProtocolForPort: z.object({
    cases: z.array(
      z.object({
        port: z.object({
          name: z.string().optional(),
          protocol: z.string(),
          port: z.number().optional(),
          appProtocol: z.string().optional(),
        }),
        expectedProtocol: z.string(),
      }),
    ),
  }),
  TestGetRevisionFromPodAnnotation: z.object({
    cases: z.array(z.object({ annotations: z.record(z.string(), z.string()), expected: z.string() })),
  }),
  TestGetIstioVirtualServicePathForSvcFromRoute: z.object({
    cases: z.array(
      z.object({
        name: z.string(),
        inputConfig: z.string(),
        service: z.object({ name: z.string(), namespace: z.string() }),
        port: z.number(),
        expected: z.string(),
      }),
    ),
  }),
});

const kubeObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});

function loadCases() {
  return casesSchema.parse(JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')));
}

function loadObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((o) => o !== null)
    .map((o) => kubeObjectSchema.parse(o) as KubeObject);
}

function snapshotFor(c: z.infer<typeof describeCase>, mutate?: (objs: KubeObject[]) => KubeObject[]): MeshSnapshot {
  let objects = loadObjects(c.objectsFile!);
  if (mutate) objects = mutate(objects);
  return new MeshSnapshot(objects, { istioNamespace: c.istioNamespace ?? 'istio-system' });
}

function missing(expected: readonly string[], ours: readonly string[]): string[] {
  const have = new Set(ours);
  return expected.filter((f) => !have.has(f));
}

// Cases that are about istioctl's CLI rather than facts about objects.
const notApplicable: Record<string, string> = {
  'case0-help': 'prints cobra help text; our help belongs to the command router',
};

describeWithShared('istioctl x describe conformance', () => {
  const cases = loadCases();
  const full = cases.TestDescribe.filter((c) => c.objectsFile);

  it('covers every TestDescribe case: 4 full outputs, 3 errors, 1 CLI-only', () => {
    expect(full.map((c) => c.id)).toEqual([
      'case4-vs-multiple-hosts',
      'case5-vs-multiple-hosts-istio-ingressgateway-svc',
      'case6-traffic-policy',
      'case7-ingress-gateway',
    ]);
    const errors = cases.TestDescribe.filter((c) => c.wantException).map((c) => c.id);
    expect(errors).toEqual(['case1-pod-no-name', 'case2-unknown-pod', 'case3-unknown-service']);
    const rest = cases.TestDescribe.filter((c) => !c.objectsFile && !c.wantException).map((c) => c.id);
    expect(rest.every((id) => id in notApplicable)).toBe(true);
  });

  for (const c of full) {
    it(`${c.id}: every fact istioctl prints is in our description`, () => {
      const expectedText = readFileSync(join(dir, c.expectedOutputFile!), 'utf8');
      expect(expectedText).toBe(c.expectedOutput);
      const expected = factsFromIstioctl(expectedText);
      expect(expected.length).toBeGreaterThan(8);
      const [kind, name] = c.args as [string, string];
      expect(kind).toBe('service');
      const ours = factsFromDescription(describeService(snapshotFor(c), name, c.namespace ?? 'default'));
      expect(missing(expected, ours)).toEqual([]);
      // Exposure is a claim we must not over-make: cases 4-6 have no Gateway object, so no URL.
      const exposed = (facts: string[]) => facts.filter((f) => f.startsWith('ingress exposed')).sort();
      expect(exposed(ours)).toEqual(exposed(expected));
    });

    it(`${c.id}: the productpage proxy's config_dump names the same VirtualService and DestinationRule`, () => {
      const dumpFile = c.configDumps?.['productpage-v1-1234567890'];
      expect(dumpFile).toBe('testdata/http_config.json');
      const dump = parseConfigDump(readFileSync(join(dir, dumpFile!), 'utf8'));
      const d = describeService(snapshotFor(c), 'productpage', 'default', { configDump: dump });
      expect(d.proxyView?.pod.name).toBe('productpage-v1-1234567890');
      expect(d.proxyView?.ports).toEqual([
        {
          port: 9080,
          virtualService: { namespace: 'default', name: 'bookinfo', exists: true },
          destinationRule: { namespace: 'default', name: 'productpage', exists: true },
        },
      ]);
      // bookinfo is bound to gateway fake-gw without `mesh`: by Istio's rules it does not apply to sidecars (the
      // fixture's dump is synthetic), so we list it as gateway exposure, not as sidecar routing.
      expect(d.gatewayVirtualServices.map((v) => v.ref.name)).toContain('bookinfo');
      expect(d.virtualServices.map((v) => v.ref.name)).not.toContain('bookinfo');
      expect(d.destinationRules.map((r) => r.ref.name)).toContain('productpage');
      expect(d.warnings.filter((w) => w.code === 'stale-proxy-config')).toEqual([]);
    });
  }

  it('the fact comparison notices a changed fact (case6 with tls.mode SIMPLE instead of ISTIO_MUTUAL)', () => {
    const c = full.find((x) => x.id === 'case6-traffic-policy')!;
    const expected = factsFromIstioctl(readFileSync(join(dir, c.expectedOutputFile!), 'utf8'));
    const snapshot = snapshotFor(c, (objs) =>
      objs.map((o) => {
        if (o.kind !== 'DestinationRule') return o;
        const spec = structuredClone(o.spec) as { trafficPolicy: { tls: { mode: string } } };
        spec.trafficPolicy.tls.mode = 'SIMPLE';
        return { ...o, spec };
      }),
    );
    expect(missing(expected, factsFromDescription(describeService(snapshot, 'productpage', 'default')))).toEqual([
      'dr productpage tls ISTIO_MUTUAL',
    ]);
  });

  it('a stale proxy: the config_dump names a VirtualService that no longer exists', () => {
    const c = full.find((x) => x.id === 'case4-vs-multiple-hosts')!;
    const dump = parseConfigDump(readFileSync(join(dir, 'testdata/http_config.json'), 'utf8'));
    const snapshot = snapshotFor(c, (objs) => objs.filter((o) => o.kind !== 'VirtualService'));
    const d = describeService(snapshot, 'productpage', 'default', { configDump: dump });
    expect(d.warnings.filter((w) => w.code === 'stale-proxy-config').map((w) => w.message)).toEqual([
      'proxy is stale: it references the non-existent virtual service default/bookinfo',
    ]);
  });

  it('case1-pod-no-name: `pod` alone asks for the pod name', () => {
    const c = cases.TestDescribe.find((x) => x.id === 'case1-pod-no-name')!;
    expect(() => parseWorkloadRef(c.args.join(' '), 'default')).toThrow(UserError);
    expect(() => parseWorkloadRef(c.args.join(' '), 'default')).toThrow(/expecting pod name/i);
  });

  it('case2-unknown-pod: `po not-a-pod` is not found, with the name in the message', () => {
    const c = cases.TestDescribe.find((x) => x.id === 'case2-unknown-pod')!;
    const snapshot = snapshotFor(full[0]!);
    const ref = parseWorkloadRef(c.args.join(' '), 'default');
    expect(ref).toEqual({ kind: 'pod', name: 'not-a-pod', namespace: 'default' });
    expect(() => resolveWorkload(snapshot, ref)).toThrow(WorkloadNotFoundError);
    expect(() => resolveWorkload(snapshot, ref)).toThrow(/not-a-pod/);
  });

  it('case3-unknown-service: the error says services "not-a-service" not found', () => {
    const c = cases.TestDescribe.find((x) => x.id === 'case3-unknown-service')!;
    expect(() => describeService(snapshotFor(full[0]!), c.args[1]!, 'default')).toThrow(ServiceNotFoundError);
    expect(() => describeService(snapshotFor(full[0]!), c.args[1]!, 'default')).toThrow(c.expectedString!);
  });

  it('TestFindProtocolForPort: all six cases', () => {
    const got = cases.TestFindProtocolForPort.cases.map((x) => findProtocolForPort(x.port));
    expect(got).toEqual(cases.TestFindProtocolForPort.cases.map((x) => x.expectedProtocol));
    expect(got).toHaveLength(6);
  });

  it('TestGetRevisionFromPodAnnotation: all three cases', () => {
    const got = cases.TestGetRevisionFromPodAnnotation.cases.map((x) => revisionFromPodAnnotations(x.annotations));
    expect(got).toEqual(['', '', '1-13-2']);
    expect(got).toEqual(cases.TestGetRevisionFromPodAnnotation.cases.map((x) => x.expected));
  });

  it('TestGetIstioVirtualServicePathForSvcFromRoute: both config_dumps', () => {
    const list = cases.TestGetIstioVirtualServicePathForSvcFromRoute.cases;
    expect(list).toHaveLength(2);
    for (const x of list) {
      const dump = parseConfigDump(readFileSync(join(dir, x.inputConfig), 'utf8'));
      const path = virtualServicePathForService(dump, x.service, x.port);
      expect(path).toBe(x.expected);
      expect(parseIstioConfigPath(path!)).toMatchObject({
        namespace: 'default',
        kind: 'virtual-service',
        name: 'bookinfo',
      });
    }
  });

  it('an empty config_dump ({}) holds nothing, as istioctl treats the ingress pod in cases 4-6', () => {
    const dump = parseConfigDump('{}');
    expect(virtualServicePathForService(dump, { name: 'productpage', namespace: 'default' }, 9080)).toBeUndefined();
  });
});
