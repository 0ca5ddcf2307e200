// `npx meshops console` as a user starts it: the launcher stays up while the console waits for input
// (it used to return right after the prompt and exit about 1.5 s later), and `exit` ends it with 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';

let child: ChildProcess | undefined;
let home: string | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  if (home) await rm(home, { recursive: true, force: true });
});

function waitFor(get: () => string, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (re.test(get())) {
        clearInterval(tick);
        resolve();
      } else if (Date.now() - t0 > ms) {
        clearInterval(tick);
        reject(new Error(`timed out waiting for ${re}; got:\n${get()}`));
      }
    }, 50);
  });
}

describe('meshops console (the bin launcher)', () => {
  it('waits at the prompt until exit, answers a command, and exits 0', async () => {
    home = await mkdtemp(join(tmpdir(), 'meshops-console-'));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, MESHOPS_KUBE: 'demo' };
    child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'bin/meshops.js', 'console'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += String(d)));
    child.stderr?.on('data', (d) => (out += String(d)));
    let exited: number | null | undefined;
    const exit = new Promise<number | null>((r) => child?.on('exit', (code) => r((exited = code))));
    await waitFor(() => out, /meshops console/, 25_000);
    // Idle at the prompt for longer than the old launcher lived.
    await new Promise((r) => setTimeout(r, 3000));
    expect(exited).toBeUndefined();
    child.stdin?.write('version\n');
    await waitFor(() => out, /istiod|control plane/i, 15_000);
    child.stdin?.write('exit\n');
    expect(await exit).toBe(0);
  }, 60_000);
});
