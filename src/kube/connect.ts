// Where meshops finds its cluster. Slack mode: in-cluster service account, else a kubeconfig (KUBECONFIG or
// ~/.kube/config, current or chosen context). The console and `meshops run`: the built-in demo mesh on a
// sandbox API server, unless a cluster is chosen explicitly (MESHOPS_KUBE, a context).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Settings } from '../config.ts';
import type { ClusterTarget } from '../shared-types.ts';
import { KubeClient, type KubeClientOptions } from './client.ts';
import { loadDemoModule } from './demo-loader.ts';
import { reuseConnections } from './reused-connections.ts';
import { attachWatchCache, WatchCache } from './watch-cache.ts';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type ClusterSource = 'in-cluster' | 'kubeconfig' | 'demo';

export interface Connection {
  source: ClusterSource;
  clusters: ClusterTarget[];
  defaultCluster: string;
  /** Human words for the start-up log and the console banner. */
  description: string;
  /** How the cluster was chosen, and how to choose another, for the console banner. */
  choice?: string;
  close(): Promise<void>;
}

export interface PickOptions {
  /**
   * Without Slack, with MESHOPS_KUBE=auto and no context named: `demo` (the console and `meshops run`, which
   * can propose and approve changes: a real cluster only when chosen) or `cluster` (read-only front doors such
   * as `meshops analyze --live`, which mean the cluster the kubeconfig points at, as istioctl does).
   */
  localDefault?: 'demo' | 'cluster';
}

/** Start-up cannot pick a cluster: one line saying what is wrong and what to set instead. */
export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

/** The settings that choose a real cluster for the console: MESHOPS_KUBE=kubeconfig|in-cluster, or a context. */
export const CHOOSE_A_CLUSTER =
  'MESHOPS_KUBE=kubeconfig (the current context), MESHOPS_KUBE_CONTEXT=<context>, or MESHOPS_KUBE=in-cluster';

/**
 * Which cluster to use. The demo mesh is used when asked for (MESHOPS_KUBE=demo), and by the console when no
 * cluster is chosen explicitly, so that typing in a console never acts on whatever cluster a kubeconfig happens
 * to point at. Anything configured but broken (a KUBECONFIG naming missing files, a pod without its
 * service-account token, a context with no kubeconfig) stops start-up instead of falling back silently.
 */
export function pickSource(
  settings: Settings,
  env: Record<string, string | undefined> = process.env,
  options: PickOptions = {},
): ClusterSource {
  const wanted = settings.kube.source;
  const listed = (settings.kube.kubeconfigPath ?? '').split(':').filter(Boolean);
  const missing = listed.filter((p) => !existsSync(p));
  if (wanted === 'demo' || wanted === 'in-cluster') return wanted;
  const contextNamed = Boolean(settings.kube.context || settings.kube.contexts?.length);
  if (!settings.slack && wanted === 'auto' && !contextNamed && (options.localDefault ?? 'demo') === 'demo')
    return 'demo';
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
  if (contextNamed) {
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

/** Why this source, in words for the console banner. */
function choiceWords(settings: Settings, source: ClusterSource): string {
  if (source !== 'demo')
    return settings.kube.source === 'auto'
      ? `chosen by ${settings.kube.contexts?.length ? 'MESHOPS_KUBE_CONTEXTS' : 'MESHOPS_KUBE_CONTEXT'}`
      : `chosen by MESHOPS_KUBE=${settings.kube.source}`;
  if (settings.kube.source === 'demo') return 'chosen by MESHOPS_KUBE=demo';
  const kubeconfig = settings.kube.kubeconfigPath
    ? 'KUBECONFIG is set, but no cluster was chosen'
    : existsSync(join(homedir(), '.kube', 'config'))
      ? '~/.kube/config exists, but no cluster was chosen'
      : 'no cluster was chosen';
  return `${kubeconfig}, so nothing here touches a real cluster; to use one, set ${CHOOSE_A_CLUSTER}`;
}

export async function connect(
  settings: Settings,
  clientOptions: KubeClientOptions = {},
  options: PickOptions = {},
): Promise<Connection> {
  const source = pickSource(settings, process.env, options);
  const choice = settings.slack ? undefined : choiceWords(settings, source);
  if (source === 'demo') {
    // Imported lazily: a production install never loads the sandbox, and the container image has none.
    const { startDemoSandbox } = await loadDemoModule(
      settings.kube.source === 'demo'
        ? 'the built-in demo mesh (MESHOPS_KUBE=demo)'
        : "the built-in demo mesh (the console's default when no cluster is chosen)",
      () => import('../demo/demo-mesh.ts'),
    );
    const sandbox = await startDemoSandbox();
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const name = settings.clusterName ?? 'demo';
    const clusters = [{ name, kube: new KubeClient(reuseConnections(kc), clientOptions) }];
    const caches = watchCaches(settings, clusters);
    return {
      source,
      clusters,
      defaultCluster: name,
      description: `the built-in demo mesh (sandbox API server at ${sandbox.url})`,
      ...(choice ? { choice } : {}),
      close: async () => {
        for (const c of caches) c.close();
        await sandbox.close();
      },
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
      kube: new KubeClient(reuseConnections(copy), clientOptions),
    };
  });
  const first = clusters[0] as ClusterTarget;
  const caches = watchCaches(settings, clusters);
  return {
    source,
    clusters,
    defaultCluster: first.name,
    description:
      source === 'in-cluster'
        ? 'the cluster it runs in (service account)'
        : `kubeconfig context${clusters.length > 1 ? 's' : ''} ${contexts.join(', ')}`,
    ...(choice ? { choice } : {}),
    close: async () => {
      for (const c of caches) c.close();
    },
  };
}

/** With MESHOPS_WATCH_CACHE on, each cluster's client gets its watch cache (started lazily, per kind). */
function watchCaches(settings: Settings, clusters: readonly ClusterTarget[]): WatchCache[] {
  if (!settings.watchCache) return [];
  return clusters.map((c) => {
    const cache = new WatchCache(c.kube);
    attachWatchCache(c.kube, cache);
    return cache;
  });
}
