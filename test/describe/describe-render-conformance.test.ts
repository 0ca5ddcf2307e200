// Conformance of what people read: every fact `istioctl x describe service` prints for the cases in
// ../shared/conformance/istio/describe must be stated in our rendered answer for the same objects.
// test/mesh/describe-conformance.test.ts checks the model; this checks that rendering drops nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { renderDescribe } from '../../src/features/describe/describe.ts';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describeService } from '../../src/mesh/workload.ts';
import { factsFromIstioctl } from '../mesh/describe-facts.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

const dir = join(conformanceDir, 'istio', 'describe');

const caseSchema = z.object({
  id: z.string(),
  args: z.array(z.string()),
  namespace: z.string().optional(),
  istioNamespace: z.string().optional(),
  objectsFile: z.string().optional(),
  expectedOutputFile: z.string().optional(),
});

const rx = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does the rendered text state this fact? One rule per kind of fact istioctl prints. */
export function statedIn(fact: string, text: string, ns: string): boolean {
  const f = fact.replace(/^ingress /, '');
  const ref = (name: string) =>
    name.includes('.')
      ? `${rx(name.slice(name.lastIndexOf('.') + 1))}/${rx(name.slice(0, name.lastIndexOf('.')))}`
      : `${rx(ns)}/${rx(name)}`;
  let m: RegExpExecArray | null;
  if ((m = /^service (\S+)$/.exec(f))) return new RegExp(`Service ${ref(m[1]!)}`).test(text);
  if ((m = /^service port (\d+) protocol (\S+)$/.exec(f)))
    return new RegExp(`\\b${m[1]} → [^\\n]*: ${m[2] === 'auto-detect' ? 'auto-detect' : rx(m[2]!)}`).test(text);
  if ((m = /^service port (\d+) targets (\d+)$/.exec(f)))
    return new RegExp(`\\b${m[1]} → pod port ${m[2]}\\b`).test(text);
  if ((m = /^dr (\S+) host (\S+)$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\* host \`${rx(m[2]!)}\``).test(text);
  if ((m = /^dr (\S+) matching subsets (.*)$/.exec(f))) {
    const want = m[2]
      ? m[2]
          .split(',')
          .map((s) => `\`${s}\``)
          .join(', ')
      : '_none_';
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*falls into: ${rx(want)}`).test(text);
  }
  if ((m = /^dr (\S+) non-matching subsets (.*)$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*other subsets: ${rx(m[2]!.split(',').join(', '))}`).test(
      text,
    );
  if ((m = /^dr (\S+) pod in no subset$/.exec(f)))
    return new RegExp(`match no subset of DestinationRule ${ref(m[1]!)}`).test(text);
  if ((m = /^dr (\S+) no traffic policy$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*traffic policy: none`).test(text);
  if ((m = /^dr (\S+) tls (\S+)$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*traffic policy: [^\\n]*TLS mode ${m[2]}`).test(text);
  if ((m = /^dr (\S+) policy (.+)$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*traffic policy: [^\\n]*${rx(m[2]!)}`).test(text);
  if ((m = /^dr (\S+) port (\d+) tls (\S+)$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*port ${m[2]}: [^\\n]*TLS mode ${m[3]}`).test(text);
  if ((m = /^dr (\S+) port (\d+) policy (.+)$/.exec(f)))
    return new RegExp(`DestinationRule ${ref(m[1]!)}\\*[^*]*port ${m[2]}: [^\\n]*${rx(m[3]!)}`).test(text);
  if ((m = /^vs (\S+)$/.exec(f))) return new RegExp(`VirtualService ${ref(m[1]!)}\\*`).test(text);
  if ((m = /^vs (\S+) route to (\S+)(?: subset (\S+))? weight (\d+)$/.exec(f))) {
    return new RegExp(
      `VirtualService ${ref(m[1]!)}\\*[^*]*→[^\\n]*\\b${rx(m[2]!)}${m[3] ? ` subset ${rx(m[3])}` : ''}(?: port \\d+)? \\(${m[4]}%\\)`,
    ).test(text);
  }
  if ((m = /^vs (\S+) match uri (exact|prefix|regex) (\S+)( uncased)?$/.exec(f))) {
    const words = { exact: 'is', prefix: 'starts with', regex: 'matches regex' }[m[2] as 'exact' | 'prefix' | 'regex'];
    return new RegExp(
      `VirtualService ${ref(m[1]!)}\\*[^*]*URI ${words} ${rx(m[3]!)}${m[4] ? ' \\(any case\\)' : ''}`,
    ).test(text);
  }
  if ((m = /^vs (\S+) match header (\S+) (exact|prefix|regex) (\S+)$/.exec(f))) {
    const words = { exact: 'is', prefix: 'starts with', regex: 'matches regex' }[m[3] as 'exact' | 'prefix' | 'regex'];
    return new RegExp(`VirtualService ${ref(m[1]!)}\\*[^*]*header ${rx(m[2]!)} ${words} ${rx(m[4]!)}`).test(text);
  }
  if ((m = /^exposed (\S+)$/.exec(f))) return text.includes(m[1]!);
  throw new Error(`no rule for fact ${fact}`);
}

describeWithShared('rendered /mesh describe service states every istioctl fact', () => {
  const cases = z
    .object({ TestDescribe: z.array(caseSchema.loose()) })
    .loose()
    .parse(JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')))
    .TestDescribe.filter((c) => c.objectsFile);

  it('has the four full cases', () => {
    expect(cases).toHaveLength(4);
  });

  const renderCase = (c: (typeof cases)[number], mutate: (o: KubeObject) => KubeObject = (o) => o) => {
    const objects = parseAllDocuments(readFileSync(join(dir, c.objectsFile!), 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null)
      .map(mutate);
    const snapshot = new MeshSnapshot(objects, { istioNamespace: c.istioNamespace ?? 'istio-system' });
    const ns = c.namespace ?? 'default';
    return renderedToText(renderDescribe({ kind: 'service', service: describeService(snapshot, c.args[1]!, ns) }));
  };

  for (const c of cases) {
    it(`${c.id}`, () => {
      const ns = c.namespace ?? 'default';
      const facts = factsFromIstioctl(readFileSync(join(dir, c.expectedOutputFile!), 'utf8'));
      expect(facts.length).toBeGreaterThan(8);
      expect(facts.filter((f) => !statedIn(f, renderCase(c), ns))).toEqual([]);
    });
  }

  it('case6 with tls.mode SIMPLE and other weights: exactly those facts go missing', () => {
    const c = cases.find((x) => x.id === 'case6-traffic-policy')!;
    const facts = factsFromIstioctl(readFileSync(join(dir, c.expectedOutputFile!), 'utf8'));
    const text = renderCase(c, (o) => {
      const spec = structuredClone(o.spec) as {
        trafficPolicy?: { tls?: { mode: string } };
        http?: { route?: { weight?: number }[] }[];
      };
      if (o.kind === 'DestinationRule' && spec.trafficPolicy?.tls) spec.trafficPolicy.tls.mode = 'SIMPLE';
      if (o.kind === 'VirtualService' && spec.http?.[0]?.route?.[0]) spec.http[0].route[0].weight = 31;
      return { ...o, spec };
    });
    expect(facts.filter((f) => !statedIn(f, text, 'default'))).toEqual([
      'dr productpage tls ISTIO_MUTUAL',
      'vs bookinfo route to productpage weight 30',
    ]);
  });

  it('notices a fact the rendering does not state', () => {
    const text = '*DestinationRule default/productpage* host `productpage`\n  traffic policy: TLS mode ISTIO_MUTUAL';
    expect(statedIn('dr productpage tls ISTIO_MUTUAL', text, 'default')).toBe(true);
    expect(statedIn('dr productpage tls DISABLE', text, 'default')).toBe(false);
    expect(statedIn('vs bookinfo', text, 'default')).toBe(false);
  });
});
