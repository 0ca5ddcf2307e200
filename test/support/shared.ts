// Locates ../shared (read-only conformance data beside the project). A user's fresh clone has no
// ../shared, so tests that need it skip with a reason; .ci/run makes sure it is there.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from '@jest/globals';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.MESHOPS_SHARED_DIR ?? resolve(projectRoot, '..', 'shared');
export const conformanceDir = join(sharedDir, 'conformance');
export const hasShared = existsSync(conformanceDir);

/** describe() when ../shared/conformance exists; otherwise a skipped describe that says why. */
export function describeWithShared(name: string, fn: () => void): void {
  if (hasShared) {
    describe(name, fn);
  } else {
    // Skipped on purpose: the conformance data lives in ../shared, absent from a user's fresh clone. The
    // real body is not even collected (it reads the data at collection time); one skipped test says why.
    describe(`${name} (skipped: ${conformanceDir} not found; CI provides ../shared)`, () => {
      it.skip('needs ../shared/conformance', () => {});
    });
  }
}
