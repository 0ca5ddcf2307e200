// A YAML alias bomb ("billion laughs") where people hand us YAML: the paste form's parser, `analyze -f`
// files and `--mesh-config`. Each is refused at once with our words and what to do instead, like any
// other bad YAML; YAML that uses a few aliases still reads.
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runAnalyzeCli } from '../../src/analyze-cli.ts';
import { YamlLoadError, parseYamlFiles, parseYamlObjects } from '../../src/mesh/analyzers/load.ts';
import { MeshConfigError, meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { TOO_MANY_ALIASES } from '../../src/mesh/yaml-limits.ts';

/** Nine levels of nine aliases each: 9^9 strings when expanded. */
function aliasBomb(levels = 9): string {
  const names = 'abcdefghijklmnop'.slice(0, levels).split('');
  const lines = [`  a: &a [${Array(9).fill('"lol"').join(',')}]`];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `  ${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  return [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: laughs',
    '  namespace: default',
    'data:',
    ...lines,
  ].join('\n');
}

function sink() {
  let text = '';
  return {
    stream: new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }),
    get text() {
      return text;
    },
  };
}

describe('YAML aliases', () => {
  it('refuses an alias bomb in pasted YAML quickly, with a line and what to do instead', () => {
    const started = performance.now();
    let caught: unknown;
    try {
      parseYamlObjects(aliasBomb(), 'pasted.yaml');
    } catch (err) {
      caught = err;
    }
    expect(performance.now() - started).toBeLessThan(1000);
    expect(caught).toBeInstanceOf(YamlLoadError);
    const problems = (caught as YamlLoadError).problems;
    expect(problems).toEqual([{ file: 'pasted.yaml', line: 1, message: TOO_MANY_ALIASES }]);
    expect((caught as Error).message).toMatch(
      /^pasted\.yaml:1: the YAML uses too many aliases .*write the repeated parts out/,
    );
  });

  it('reports the bomb beside the other documents’ problems, and still reads the good ones of other files', () => {
    const files = [
      { name: 'good.yaml', text: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n' },
      { name: 'bomb.yaml', text: `apiVersion: v1\nkind: Service\nmetadata:\n  name: fine\n---\n${aliasBomb()}` },
    ];
    expect(() => parseYamlFiles(files)).toThrow(YamlLoadError);
    try {
      parseYamlFiles(files);
    } catch (err) {
      expect((err as YamlLoadError).problems.map((p) => `${p.file}:${p.line}`)).toEqual(['bomb.yaml:6']);
    }
  });

  it('reads YAML that uses a few anchors and aliases as before', () => {
    const text = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: shared',
      '  labels: &labels',
      '    app: reviews',
      '    version: v1',
      'data:',
      '  copy: *labels',
    ].join('\n');
    const [obj] = parseYamlObjects(text, 'ok.yaml') as Array<{ data?: Record<string, unknown> }>;
    expect(obj?.data?.copy).toEqual({ app: 'reviews', version: 'v1' });
  });

  it('refuses an alias bomb in --mesh-config with the same words', () => {
    expect(() => meshConfigFrom(`defaultConfig:\n${aliasBomb().split('\ndata:\n')[1]}`, 'mesh.yaml')).toThrow(
      MeshConfigError,
    );
    expect(() => meshConfigFrom(`defaultConfig:\n${aliasBomb().split('\ndata:\n')[1]}`, 'mesh.yaml')).toThrow(
      `mesh.yaml: ${TOO_MANY_ALIASES}`,
    );
  });

  it('`meshops analyze -f bomb.yaml` exits 2 with the message, promptly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshops-aliases-'));
    try {
      const file = join(dir, 'bomb.yaml');
      await writeFile(file, aliasBomb());
      const out = sink();
      const err = sink();
      const started = performance.now();
      const code = await runAnalyzeCli(['-f', file], out.stream, err.stream);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(code).toBe(2);
      expect(err.text).toContain(`${file}:1: the YAML uses too many aliases`);
      expect(out.text).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
