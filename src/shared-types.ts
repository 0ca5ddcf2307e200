// Types every layer shares and that depend on nothing of ours but the Kubernetes client's type: who is
// asking, and which cluster a request is for. A leaf, so importing it never creates a cycle.
import type { KubeClient } from './kube/client.ts';

/** Who is asking, in whatever front door they used. */
export interface Requester {
  userId: string;
  userName?: string;
  channelId?: string;
  source: 'slack' | 'console' | 'cli';
}

export interface ClusterTarget {
  name: string;
  kube: KubeClient;
}
