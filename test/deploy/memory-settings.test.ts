// The image and the Deployment run meshops with the same glibc malloc settings (bench/memory.ts measured them), and
// the image's node flags keep V8's young generation small: a Deployment for an image of one's own must not lose them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const deployment = parse(readFileSync('deploy/base/deployment.yaml', 'utf8')) as {
  spec: { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } } };
};

/** ENV lines of the Dockerfile's last stage (the runtime image), as name → value. */
function runtimeEnv(): Record<string, string> {
  const stages = dockerfile.split(/^FROM\s/m);
  const last = stages[stages.length - 1] ?? '';
  const out: Record<string, string> = {};
  for (const line of last.split('\n').filter((l) => l.startsWith('ENV ')))
    for (const [, k, v] of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g))
      out[k as string] = (v as string).replace(/^"|"$/g, '');
  return out;
}

describe('memory settings', () => {
  it('the Deployment sets every MALLOC_ variable the image sets, to the same value', () => {
    const image = Object.fromEntries(Object.entries(runtimeEnv()).filter(([k]) => k.startsWith('MALLOC_')));
    expect(Object.keys(image).sort()).toEqual(['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_']);
    const container = deployment.spec.template.spec.containers.find((c) => c.name === 'meshops');
    const env = Object.fromEntries(
      (container?.env ?? []).filter((e) => e.name.startsWith('MALLOC_')).map((e) => [e.name, e.value]),
    );
    expect(env).toEqual(image);
  });

  it("the image's command caps V8's semi-space", () => {
    const cmd = dockerfile.match(/^CMD\s+(\[.*\])\s*$/m)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toContain('--max-semi-space-size=2');
  });
});
