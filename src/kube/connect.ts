// Where meshops finds its cluster: in-cluster service account, else a kubeconfig (KUBECONFIG or
// ~/.kube/config, current or chosen context), else the built-in demo mesh on a sandbox API server.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Settings } from '../config.ts';
import type { ClusterTarget } from '../command.ts';
import { KubeClient, type KubeClientOptions } from './client.ts';

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

export function pickSource(settings: Settings, env: Record<string, string | undefined> = process.env): ClusterSource {
  const wanted = settings.kube.source;
  if (wanted !== 'auto') return wanted;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) return 'in-cluster';
  const kubeconfig = settings.kube.kubeconfigPath ?? join(homedir(), '.kube', 'config');
  if (kubeconfig.split(':').some((p) => p && existsSync(p))) return 'kubeconfig';
  return 'demo';
}

export async function connect(settings: Settings, clientOptions: KubeClientOptions = {}): Promise<Connection> {
  const source = pickSource(settings);
  if (source === 'demo') {
    // Imported lazily: a production install never loads the sandbox.
    const { startDemoSandbox } = await import('../demo/demo-mesh.ts');
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
    if (!first) throw new Error(`none of the kubeconfig files in KUBECONFIG exist: ${settings.kube.kubeconfigPath}`);
    kc.loadFromFile(first);
    for (const path of rest) {
      const more = new KubeConfig();
      more.loadFromFile(path);
      kc.mergeConfig(more, true);
    }
  } else kc.loadFromDefault();
  const contexts = settings.kube.contexts?.length ? settings.kube.contexts : [settings.kube.context ?? kc.getCurrentContext()];
  const clusters: ClusterTarget[] = contexts.map((ctxName, i) => {
    const copy = new KubeConfig();
    copy.loadFromString(kc.exportConfig());
    if (source === 'kubeconfig') {
      if (!copy.getContextObject(ctxName)) throw new Error(`kubeconfig has no context "${ctxName}" (contexts: ${copy.getContexts().map((c) => c.name).join(', ')})`);
      copy.setCurrentContext(ctxName);
    }
    const name = contexts.length === 1 ? (settings.clusterName ?? (source === 'in-cluster' ? 'in-cluster' : ctxName)) : ctxName;
    return { name: i === 0 && settings.clusterName && contexts.length === 1 ? settings.clusterName : name, kube: new KubeClient(copy, clientOptions) };
  });
  const first = clusters[0] as ClusterTarget;
  return {
    source,
    clusters,
    defaultCluster: first.name,
    description: source === 'in-cluster' ? 'the cluster it runs in (service account)' : `kubeconfig context${clusters.length > 1 ? 's' : ''} ${contexts.join(', ')}`,
    close: async () => {},
  };
}
