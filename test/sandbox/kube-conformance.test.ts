// The sandbox answers as a real kube-apiserver (v1.24, RBAC, controller-manager, Istio's CRDs) did:
// probe.py's 131 raw requests, compared with the real server's recorded answers. The ids in
// kube-conformance-floor.json must all match; the list only grows (add an id once the sandbox answers
// it as the real server did). What still differs, and why, is in src/sandbox/README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import { canonical, type ConformanceResult, runKubeConformance } from '../support/kube-conformance.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

const floor = JSON.parse(readFileSync(new URL('./kube-conformance-floor.json', import.meta.url), 'utf8')) as {
  mustMatch: string[];
};

describeWithShared('sandbox vs the recorded real kube-apiserver', () => {
  let result: ConformanceResult;

  beforeAll(async () => {
    result = await runKubeConformance(join(conformanceDir, 'kube-apiserver'));
  }, 120_000);

  it('every request was sent and answered', () => {
    const missing = result.compared.filter((c) => c.sandbox === undefined).map((c) => c.id);
    expect(missing).toEqual([]);
    expect(result.compared.length).toBe(131);
  });

  it('answers every id on the floor as the real server did', () => {
    const regressed = result.compared
      .filter((c) => floor.mustMatch.includes(c.id) && !c.same)
      .map((c) => `${c.id}\n  real    ${canonical(c.real.answer)}\n  sandbox ${canonical(c.sandbox?.answer)}`);
    expect(regressed).toEqual([]);
    // The floor names real ids only, once each.
    expect(new Set(floor.mustMatch).size).toBe(floor.mustMatch.length);
    for (const id of floor.mustMatch) expect(result.compared.map((c) => c.id)).toContain(id);
  });

  it('matches at least 120 of the 131 recorded answers', () => {
    // Printed so a run shows where it stands, and which ids are left.
    process.stdout.write(
      `kube-apiserver conformance: ${result.same.length}/${result.compared.length}; different: ${result.different.join(', ')}\n`,
    );
    expect(result.same.length).toBeGreaterThanOrEqual(Math.max(floor.mustMatch.length, 120));
  });
});
