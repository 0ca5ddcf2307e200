import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';

describe('toolchain', () => {
  it('runs on Node 24 with the ESM-only dependencies loaded', async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    expect(typeof k8s.KubeConfig).toBe('function');
    const r = await execa(process.execPath, ['-e', 'console.log(1+1)']);
    expect(r.stdout).toBe('2');
  });
});
