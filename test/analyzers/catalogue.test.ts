// meshops' own message catalogue: one YAML (scripts/meshops-messages.yaml), checked with zod and
// generated into meshops-messages.ts; the same catalogue as Istio's, under the MSH prefix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CatalogueError, parseMeshopsCatalogue, renderMeshopsModule } from '../../src/mesh/analyzers/catalogue.ts';
import { allAnalyzers } from '../../src/mesh/analyzers/index.ts';
import { MESHOPS_MESSAGE_TYPES } from '../../src/mesh/analyzers/meshops-messages.ts';
import { CATALOGUE, formatGo } from '../../src/mesh/analyzers/types.ts';
import { projectRoot } from '../support/shared.ts';

const dir = join(projectRoot, 'src', 'mesh', 'analyzers');
const yamlText = readFileSync(join(projectRoot, 'scripts', 'meshops-messages.yaml'), 'utf8');

describe("meshops' message catalogue", () => {
  it('keeps the generated module in step with the YAML (node scripts/generate-meshops-messages.ts)', () => {
    expect(readFileSync(join(dir, 'meshops-messages.ts'), 'utf8')).toBe(
      renderMeshopsModule(parseMeshopsCatalogue(yamlText)),
    );
  });

  it("sits beside Istio's in one catalogue, with codes of its own", () => {
    const codes = Object.values(CATALOGUE).map((m) => m.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(Object.values(MESHOPS_MESSAGE_TYPES).every((m) => /^MSH\d{4}$/.test(m.code))).toBe(true);
    expect(CATALOGUE.ReferencedResourceNotFound.code).toBe('IST0101');
    expect(CATALOGUE.SidecarOOMKilled.code).toBe('MSH0001');
  });

  it('renders every template with its declared arguments, none missing', () => {
    for (const m of Object.values(MESHOPS_MESSAGE_TYPES))
      expect(
        formatGo(
          m.template,
          m.args.map((a) => a.name),
        ),
      ).not.toContain('MISSING');
  });

  it('is explained in docs/analyzers.md, code by code', () => {
    const doc = readFileSync(join(projectRoot, 'docs', 'analyzers.md'), 'utf8');
    for (const m of Object.values(MESHOPS_MESSAGE_TYPES)) expect(doc).toContain(`${m.code} ${m.name}`);
  });

  it("is reported by meshops' own analyzers, which are named meshops.*", () => {
    const own = allAnalyzers.filter((a) => a.name.startsWith('meshops.')).map((a) => a.name);
    expect(own).toEqual([
      'meshops.SidecarOOMAnalyzer',
      'meshops.StartupRaceAnalyzer',
      'meshops.ProbeAuthorizationAnalyzer',
      'meshops.SelectorAnalyzer',
      'meshops.GatewayMutualCAAnalyzer',
      'meshops.AuthzCoverageAnalyzer',
      'meshops.AppProtocolAnalyzer',
    ]);
  });
});

describe('the catalogue loader', () => {
  const base = {
    name: 'Alpha',
    code: 'MSH0001',
    level: 'Info',
    description: 'd',
    template: 't %s',
    args: [{ name: 'x', type: 'string' }],
  };
  const one = (m: Record<string, unknown>) => `messages:\n  - ${JSON.stringify({ ...base, ...m })}\n`;

  it('accepts a well-formed entry', () => {
    expect(parseMeshopsCatalogue(one({})).messages[0]?.code).toBe('MSH0001');
  });

  it.each([
    ['an Istio code', { code: 'IST0001' }, "messages.0.code: meshops' own code: MSH and four digits"],
    ['a gap in the codes', { code: 'MSH0002' }, 'codes go in order without gaps'],
    ['an unknown level', { level: 'Fatal' }, 'messages.0.level'],
    [
      'a template taking more arguments than declared',
      { template: 't %s %d' },
      'the template takes 2 arguments, 1 are declared',
    ],
    ["one of Istio's names", { name: 'InternalError' }, "InternalError is one of Istio's messages"],
  ])('refuses %s, saying where', (_what, change, words) => {
    expect(() => parseMeshopsCatalogue(one(change), 'x.yaml')).toThrow(CatalogueError);
    expect(() => parseMeshopsCatalogue(one(change), 'x.yaml')).toThrow(words);
  });

  it('refuses a name listed twice', () => {
    const entry = (code: string) => `  - { name: Alpha, code: ${code}, level: Info, description: d, template: t }\n`;
    expect(() => parseMeshopsCatalogue(`messages:\n${entry('MSH0001')}${entry('MSH0002')}`)).toThrow(
      'Alpha is listed twice',
    );
  });
});
