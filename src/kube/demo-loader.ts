// The demo mesh (src/demo) and the sandbox API server under it (src/sandbox) are development tools:
// the repository and the npm package have them, the container image does not. Every way into them
// is a dynamic import through here, so an installation without them answers with one clear line
// instead of a module-resolution stack.

/** Asked for the demo (MESHOPS_KUBE=demo, `meshops sandbox`) where it is not installed. */
export class DemoUnavailableError extends Error {
  constructor(what: string) {
    super(
      `${what} is not part of this installation (the container image leaves out src/demo and src/sandbox): ` +
        'point meshops at a cluster (MESHOPS_KUBE=in-cluster, or kubeconfig with KUBECONFIG), or run the demo from the repository or the npm package',
    );
    this.name = 'DemoUnavailableError';
  }
}

/** Did this import fail because a file under src/demo or src/sandbox is missing (not for any other reason)? */
export function isMissingDemoModule(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const { code, url, message } = err as { code?: unknown; url?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND') return false;
  const where = typeof url === 'string' ? url : typeof message === 'string' ? message : '';
  return /[\\/]src[\\/](demo|sandbox)[\\/]/.test(where);
}

/** Run a dynamic import of demo code; a missing demo becomes DemoUnavailableError, anything else stays as it was. */
export async function loadDemoModule<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissingDemoModule(err)) throw new DemoUnavailableError(what);
    throw err;
  }
}
