// Where the real kubectl binary is (tests that drive it skip, saying why, when it is absent).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
