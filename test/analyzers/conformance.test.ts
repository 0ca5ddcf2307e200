// Istio's own analyzer test table, run against our analyzers. The pass count may only go up: raise
// test/analyzers/conformance-floor.json when it does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { z } from 'zod';
import { renderCatalogueModule, readCatalogue } from '../../scripts/generate-analyzer-messages.ts';
import { diffMultiset, formatSummary, runConformance } from '../../src/mesh/analyzers/conformance.ts';
import { conformanceDir, describeWithShared, projectRoot } from '../support/shared.ts';

const analyzersDir = join(conformanceDir, 'istio', 'analyzers');
const floor = z
  .object({ casesPassed: z.number().int(), messagesMatched: z.number().int() })
  .parse(JSON.parse(readFileSync(join(projectRoot, 'test', 'analyzers', 'conformance-floor.json'), 'utf8')));

describeWithShared('Istio analyzer conformance', () => {
  const summary = runConformance(analyzersDir);

  it('passes at least as many cases as the recorded floor', () => {
    // Printed so a failing run shows which cases regressed.
    if (summary.passed < floor.casesPassed) console.log(formatSummary(summary));
    expect(summary.passed).toBeGreaterThanOrEqual(floor.casesPassed);
  });

  it('matches at least as many expected messages as the recorded floor', () => {
    expect(summary.messagesMatched).toBeGreaterThanOrEqual(floor.messagesMatched);
  });

  it('runs every case in cases.json', () => {
    const cases = JSON.parse(readFileSync(join(analyzersDir, 'cases.json'), 'utf8')) as unknown[];
    expect(summary.total).toBe(cases.length);
  });

  it('keeps the generated message catalogue in step with messages.yaml', () => {
    const expected = renderCatalogueModule(readCatalogue(join(analyzersDir, 'messages.yaml')));
    const committed = readFileSync(join(projectRoot, 'src', 'mesh', 'analyzers', 'messages.ts'), 'utf8');
    expect(committed).toBe(expected);
  });
});

it('compares (code, resource) pairs as a multiset with exact counts', () => {
  const d = diffMultiset(['A x', 'A x', 'B y'], ['A x', 'B y', 'B y', 'C z']);
  expect(d.matched).toBe(2);
  expect(d.missing).toEqual(['A x']);
  expect(d.unexpected).toEqual(['B y', 'C z']);
});
