// A kubeconfig (YAML) for the sandbox: one cluster with this server's CA, one token user, context
// `meshops-sandbox`.
import { stringify as toYaml } from 'yaml';

export function kubeconfigYaml(k: {
  url: string;
  caCert: string;
  user: string;
  token: string;
  namespace?: string;
}): string {
  const { url, user, token } = k;
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      {
        name: 'meshops-sandbox',
        cluster: { server: url, 'certificate-authority-data': Buffer.from(k.caCert).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [
      {
        name: 'meshops-sandbox',
        context: { cluster: 'meshops-sandbox', user, ...(k.namespace ? { namespace: k.namespace } : {}) },
      },
    ],
    'current-context': 'meshops-sandbox',
  });
}
