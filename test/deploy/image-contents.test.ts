// The container image ships the bot and nothing of the sandbox: checked without Docker, from the
// Dockerfile's COPY lines and .dockerignore applied to the repository's files. Then the bot is run
// from exactly those files: asked for the demo, it says in one line that the demo is not there.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DemoUnavailableError, isMissingDemoModule, loadDemoModule } from '../../src/kube/demo-loader.ts';
import {
  contextCopies,
  filesCopiedFromContext,
  finalCmd,
  isIgnored,
  parseDockerignore,
} from '../support/docker-context.ts';
import { projectPath, staticRuntimeGraph } from '../support/import-graph.ts';
import { projectRoot } from '../support/shared.ts';

const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(projectRoot, '.dockerignore'), 'utf8');
const repoFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: projectRoot,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);
const shipped = filesCopiedFromContext(dockerfile, dockerignore, repoFiles);
const notInImage = /^src\/(sandbox|demo)\//;

describe('.dockerignore rules (Docker semantics)', () => {
  const rules = parseDockerignore('# comment\nsrc/sandbox\n/docs/\n**/*.log\nsecret*\n!secret-ok.txt\n');
  it.each([
    ['src/sandbox/server.ts', true],
    ['src/sandbox/demo/bookinfo.yaml', true],
    ['src/sandboxed.ts', false],
    ['docs/architecture.md', true],
    ['a/b/c.log', true],
    ['x.log', true],
    ['secret.txt', true],
    ['secret-ok.txt', false],
    ['src/main.ts', false],
  ])('%s ignored: %s', (path, ignored) => {
    expect(isIgnored(path, rules)).toBe(ignored);
  });
  it('COPY lines from the context, not from other stages', () => {
    expect(
      contextCopies(
        'FROM a AS b\nCOPY --from=b /x /y\nCOPY --chown=1:1 src ./src\nCOPY package.json manifest.yml ./\n',
      ).map((c) => c.sources),
    ).toEqual([['src'], ['package.json', 'manifest.yml']]);
  });
});

describe('the image built from Dockerfile and .dockerignore', () => {
  it('ships the bot: its entry point, its commands, the package files', () => {
    expect(finalCmd(dockerfile)).toContain('src/main.ts');
    expect(shipped).toEqual(
      expect.arrayContaining([
        'src/main.ts',
        'src/kube/connect.ts',
        'src/kube/demo-loader.ts',
        'package.json',
        'package-lock.json',
        'manifest.yml',
      ]),
    );
    expect(shipped.some((f) => f.startsWith('src/features/'))).toBe(true);
  });

  it('ships nothing of src/sandbox or src/demo (nor the demo fixtures), and no tests', () => {
    expect(repoFiles.filter((f) => notInImage.test(f)).length).toBeGreaterThan(20);
    expect(shipped.filter((f) => notInImage.test(f) || f.startsWith('test/'))).toEqual([]);
    expect(shipped.filter((f) => f.endsWith('.yaml') && f.startsWith('src/'))).toEqual([]);
  });

  it('ships every file the CMD entry point loads statically', () => {
    const entry = finalCmd(dockerfile).find((w) => w.endsWith('.ts'))!;
    const loaded = [...staticRuntimeGraph(entry).files].map(projectPath);
    expect(loaded.filter((f) => !shipped.includes(f))).toEqual([]);
  });
});

describe('the bot in an installation without the demo', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshops-image-'));
    for (const f of shipped) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(projectRoot, f), join(dir, f));
    }
    // The image's node_modules come from `npm ci --omit=dev`; the project's own are a superset.
    symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, finalCmd(dockerfile), {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
      encoding: 'utf8',
      timeout: 20_000,
      input: '',
    });

  it.each([
    ['MESHOPS_KUBE=demo', { MESHOPS_KUBE: 'demo' }, 'the built-in demo mesh (MESHOPS_KUBE=demo)'],
    [
      'nothing configured (the console defaults to the demo)',
      {},
      "the built-in demo mesh (the console's default when no cluster is chosen)",
    ],
  ])('%s: exits 1 with one clear line, no stack', (_title, env, what) => {
    const r = run(env);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`meshops: ${new DemoUnavailableError(what).message}\n`);
    expect(r.stderr).toContain('not part of this installation');
  });
});

describe('loadDemoModule', () => {
  const notFound = (url: string) =>
    Object.assign(new Error(`Cannot find module '${url}'`), { code: 'ERR_MODULE_NOT_FOUND', url: `file://${url}` });
  it('turns a missing src/demo or src/sandbox file into DemoUnavailableError', async () => {
    await expect(
      loadDemoModule('the demo', () => Promise.reject(notFound('/app/src/demo/demo-mesh.ts'))),
    ).rejects.toBeInstanceOf(DemoUnavailableError);
    await expect(
      loadDemoModule('the demo', () => Promise.reject(notFound('/app/src/sandbox/server.ts'))),
    ).rejects.toThrow(/^the demo is not part of this installation/);
  });
  it('leaves every other failure as it was', async () => {
    const other = notFound('/app/node_modules/zod/index.js');
    await expect(loadDemoModule('the demo', () => Promise.reject(other))).rejects.toBe(other);
    expect(isMissingDemoModule(new Error('src/demo/ broke'))).toBe(false);
    await expect(loadDemoModule('the demo', async () => 42)).resolves.toBe(42);
  });
});
