// `meshops analyze -f FILE` works offline: its module graph must not include the Kubernetes or Slack clients
// (importing @kubernetes/client-node alone costs about half a second), nor execa, which only --istioctl needs.
// A child process runs the CLI with a module hook that names every module it loads; the test reads the list.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

const dir = mkdtempSync(join(tmpdir(), 'meshops-offline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOOK = `import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
registerHooks({ load(url, context, next) { writeSync(2, 'LOADED ' + url + '\\n'); return next(url, context); } });
`;

const ONE_YAML = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  gateways: [missing-gateway]
  http:
  - route:
    - destination: {host: reviews}
`;

describe('meshops analyze -f (offline)', () => {
  it('answers without loading @kubernetes/client-node, the Slack clients or execa (istioctl only with --istioctl)', () => {
    const hook = join(dir, 'hook.mjs');
    const file = join(dir, 'one.yaml');
    writeFileSync(hook, HOOK);
    writeFileSync(file, ONE_YAML);
    const run = spawnSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--import', hook, 'src/cli.ts', 'analyze', '-f', file],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, KUBECONFIG: join(dir, 'none') } },
    );
    // It really analyzed: the missing gateway is an error (exit 79, as istioctl).
    expect(run.stdout).toContain('Referenced gateway not found: "missing-gateway"');
    expect(run.status).toBe(79);
    const loaded = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('LOADED '))
      .map((l) => l.slice('LOADED '.length));
    // The hook saw the analysis's own modules, so an empty list below is not a hook that saw nothing.
    expect(loaded.some((u) => u.endsWith('/src/analyze-cli.ts'))).toBe(true);
    expect(loaded.some((u) => u.includes('/node_modules/yaml/'))).toBe(true);
    const clients = loaded.filter((u) => /\/node_modules\/(@kubernetes\/client-node|@slack\/[a-z-]+|execa)\//.test(u));
    expect(clients).toEqual([]);
  });
});
