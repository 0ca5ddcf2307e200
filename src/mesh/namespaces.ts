// A namespace someone typed that the cluster does not have: one message, naming the ones it has.
import { esc } from '../blocks/block-kit.ts';
import { UserError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';

export function unknownNamespace(namespace: string, known: readonly string[]): UserError {
  const names = [...known].sort();
  return new UserError(
    `There is no namespace \`${esc(namespace)}\` in this cluster.`,
    `Namespaces: ${names
      .slice(0, 20)
      .map((n) => `\`${n}\``)
      .join(', ')}${names.length > 20 ? ', …' : ''}`,
  );
}

/** The Namespace object, or a UserError listing the namespaces there are. */
export async function requireLiveNamespace(kube: KubeClient, namespace: string): Promise<KubeObject> {
  const found = await kube.get('Namespace', undefined, namespace);
  if (found) return found;
  throw unknownNamespace(
    namespace,
    (await kube.list('Namespace')).map((n) => n.metadata.name),
  );
}
