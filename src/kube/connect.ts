// Where meshops finds its cluster: in-cluster service account, else a kubeconfig (KUBECONFIG or
// ~/.kube/config, current or chosen context), else the built-in demo mesh on a sandbox API server.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Settings } from '../config.ts';
import type { ClusterTarget } from '../shared-types.ts';
import { KubeClient, type KubeClientOptions } from './client.ts';
import { loadDemoModule } from './demo-loader.ts';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type ClusterSource = 'in-cluster' | 'kubeconfig' | 'demo';

export interface Connection {
  source: ClusterSource;
  clusters: ClusterTarget[];
  defaultCluster: string;
  /** Human words for the start-up log and the console banner. */
  description: string;
  close(): Promise<void>;
}

/** Start-up cannot pick a cluster: one line saying what is wrong and what to set instead. */
export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

/**
 * Which cluster to use. The demo mesh is used only when asked for (MESHOPS_KUBE=demo), or when nothing at
 * all is configured and no Slack workspace would be served fake answers; anything configured but broken
 * (a KUBECONFIG naming missing files, a pod without its service-account token, a context with no
 * kubeconfig) stops start-up instead of falling back silently.
 */
export function pickSource(settings: Settings, env: Record<string, string | undefined> = process.env): ClusterSource {
  const wanted = settings.kube.source;
  const listed = (settings.kube.kubeconfigPath ?? '').split(':').filter(Boolean);
  const missing = listed.filter((p) => !existsSync(p));
  if (wanted === 'demo' || wanted === 'in-cluster') return wanted;
  if (listed.length > 0 && missing.length === listed.length) {
    throw new ConnectError(
      `KUBECONFIG names ${missing.join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist: point it at your kubeconfig file, unset it to use ~/.kube/config, or set MESHOPS_KUBE=demo for the built-in demo mesh`,
    );
  }
  if (wanted === 'kubeconfig') return wanted;
  if (env.KUBERNETES_SERVICE_HOST && !settings.kube.kubeconfigPath) {
    if (existsSync(SA_TOKEN)) return 'in-cluster';
    throw new ConnectError(
      `running in a pod (KUBERNETES_SERVICE_HOST is set) but there is no service-account token at ${SA_TOKEN}: set automountServiceAccountToken: true on the meshops ServiceAccount or pod`,
    );
  }
  if (listed.length > 0 || existsSync(join(homedir(), '.kube', 'config'))) return 'kubeconfig';
  if (settings.kube.context || settings.kube.contexts?.length) {
    throw new ConnectError(
      `MESHOPS_KUBE_CONTEXT${settings.kube.contexts?.length ? 'S' : ''} is set but there is no kubeconfig (KUBECONFIG is unset and ~/.kube/config does not exist)`,
    );
  }
  if (settings.slack) {
    throw new ConnectError(
      'no cluster is configured (not in a pod, no KUBECONFIG, no ~/.kube/config): set KUBECONFIG or run meshops in the cluster; to serve the demo mesh to Slack on purpose, set MESHOPS_KUBE=demo',
    );
  }
  return 'demo';
}

export async function connect(settings: Settings, clientOptions: KubeClientOptions = {}): Promise<Connection> {
  const source = pickSource(settings);
  if (source === 'demo') {
    // Imported lazily: a production install never loads the sandbox, and the container image has none.
    const { startDemoSandbox } = await loadDemoModule(
      settings.kube.source === 'demo'
        ? 'the built-in demo mesh (MESHOPS_KUBE=demo)'
        : 'the built-in demo mesh (the fallback when there is no cluster or kubeconfig)',
      () => import('../demo/demo-mesh.ts'),
    );
    const sandbox = await startDemoSandbox();
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const name = settings.clusterName ?? 'demo';
    return {
      source,
      clusters: [{ name, kube: new KubeClient(kc, clientOptions) }],
      defaultCluster: name,
      description: `the built-in demo mesh (sandbox API server at ${sandbox.url})`,
      close: () => sandbox.close(),
    };
  }
  const kc = new KubeConfig();
  if (source === 'in-cluster') kc.loadFromCluster();
  else if (settings.kube.kubeconfigPath) {
    // KUBECONFIG may list several files, merged in order (first one's current context wins), as kubectl does.
    const [first, ...rest] = settings.kube.kubeconfigPath.split(':').filter((p) => p && existsSync(p));
    if (!first)
      throw new ConnectError(`none of the kubeconfig files in KUBECONFIG exist: ${settings.kube.kubeconfigPath}`);
    kc.loadFromFile(first);
    for (const path of rest) {
      const more = new KubeConfig();
      more.loadFromFile(path);
      kc.mergeConfig(more, true);
    }
  } else {
    const home = join(homedir(), '.kube', 'config');
    if (!existsSync(home))
      throw new ConnectError(
        `MESHOPS_KUBE=kubeconfig but there is no kubeconfig: KUBECONFIG is unset and ${home} does not exist`,
      );
    kc.loadFromFile(home);
  }
  const contexts = settings.kube.contexts?.length
    ? settings.kube.contexts
    : [settings.kube.context ?? kc.getCurrentContext()];
  const clusters: ClusterTarget[] = contexts.map((ctxName, i) => {
    const copy = new KubeConfig();
    copy.loadFromString(kc.exportConfig());
    if (source === 'kubeconfig') {
      if (!copy.getContextObject(ctxName))
        throw new ConnectError(
          `kubeconfig has no context "${ctxName}" (contexts: ${copy
            .getContexts()
            .map((c) => c.name)
            .join(', ')})`,
        );
      copy.setCurrentContext(ctxName);
    }
    const name =
      contexts.length === 1 ? (settings.clusterName ?? (source === 'in-cluster' ? 'in-cluster' : ctxName)) : ctxName;
    return {
      name: i === 0 && settings.clusterName && contexts.length === 1 ? settings.clusterName : name,
      kube: new KubeClient(copy, clientOptions),
    };
  });
  const first = clusters[0] as ClusterTarget;
  return {
    source,
    clusters,
    defaultCluster: first.name,
    description:
      source === 'in-cluster'
        ? 'the cluster it runs in (service account)'
        : `kubeconfig context${clusters.length > 1 ? 's' : ''} ${contexts.join(', ')}`,
    close: async () => {},
  };
}
