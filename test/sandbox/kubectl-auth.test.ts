// `kubectl auth can-i` against the sandbox: --list (a SelfSubjectRulesReview) shows the rules RBAC
// grants, and single checks (SelfSubjectAccessReview) answer yes/no. Skipped (with the reason) when
// no kubectl is on PATH.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { findKubectl } from '../support/kubectl.ts';

const kubectlPath = findKubectl();
const describeKubectl = kubectlPath
  ? describe
  : // Skipped on purpose: these tests drive the real kubectl binary, which this machine lacks.
    describe.skip;

const SA = 'system:serviceaccount:team:reader';
let sb: Sandbox;
let dir: string;

async function kubectlAs(user: string | undefined, args: string[]) {
  const kubeconfig = join(dir, `kubeconfig-${user ?? 'admin'}`.replace(/:/g, '_'));
  await sb.writeKubeconfig(kubeconfig, user ? { user } : {});
  return execa(kubectlPath as string, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], {
    reject: false,
    timeout: 30_000,
    env: { HOME: dir },
  });
}

describeKubectl(
  `kubectl auth can-i against the sandbox${kubectlPath ? '' : ' (skipped: kubectl not found on PATH)'}`,
  () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'meshops-kubectl-auth-'));
      sb = await startSandbox({ controllers: false });
      sb.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
      sb.store.put({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'pods-read', namespace: 'team' },
        rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }],
      });
      sb.store.put({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'pods-read', namespace: 'team' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods-read' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'team' }],
      });
    });

    afterAll(async () => {
      await sb?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('--list shows the Role’s rules in its namespace, the basic-user and discovery rules everywhere', async () => {
      const r = await kubectlAs(SA, ['auth', 'can-i', '--list', '-n', 'team']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
      expect(r.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
      expect(r.stdout).toMatch(/^pods\/log\s+\[\]\s+\[\]\s+\[get list\]$/m);
      expect(r.stdout).toMatch(/^selfsubjectrulesreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
      expect(r.stdout).toMatch(/^\s+\[\/version\]\s+\[\]\s+\[get\]$/m);
      const other = await kubectlAs(SA, ['auth', 'can-i', '--list', '-n', 'default']);
      expect(other.exitCode).toBe(0);
      expect(other.stdout).not.toMatch(/^pods\s/m);
    });

    it('single checks answer yes and no', async () => {
      const yes = await kubectlAs(SA, ['auth', 'can-i', 'list', 'pods', '-n', 'team']);
      expect([yes.exitCode, yes.stdout]).toEqual([0, 'yes']);
      const no = await kubectlAs(SA, ['auth', 'can-i', 'get', 'secrets', '-n', 'team']);
      expect([no.exitCode, no.stdout]).toEqual([1, 'no']);
    });

    it('the admin may do anything', async () => {
      const r = await kubectlAs(undefined, ['auth', 'can-i', '--list']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
    });
  },
);
