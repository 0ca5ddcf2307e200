// /mesh certs through Bolt's HTTP receiver against the sandbox API server, reaching stand-in Envoy admin
// listeners on :15000 through pods/portforward that answer /certs and the config dump's SDS secrets
// with a real Istio dump (../shared: istioctl's secret testdata, a workload certificate long expired by
// now): the expiry leads, the root matches istiod's ConfigMap; a gateway's credentialNames loaded,
// warming, missing, expiring; and an identity without pods/portforward told why nothing was read.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import certsCommand from '../../src/features/envoy/certs.ts';
import { ENVOY_ADMIN_PORT } from '../../src/envoy/admin.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';

const NS = 'ambient';
const POD = 'waypoint-abc';
const GW = 'istio-ingressgateway-abc';
const DAY = 86_400_000;

describeWithShared('/mesh certs through Bolt', () => {
  let sandbox: Sandbox;
  let fake: SlackFake;
  let slack: SlackApp;
  let denied: SlackApp;
  let eventsUrl: string;
  let deniedUrl: string;
  const paths: string[] = [];

  const istioDump = JSON.parse(
    readFileSync(join(conformanceDir, 'istio/proxyconfig/configdump/secret/istio/config_dump.json'), 'utf8'),
  ) as { configs: Array<{ dynamic_active_secrets: Array<Record<string, unknown>> }> };
  const rootB64 = (
    istioDump.configs[0]!.dynamic_active_secrets[1] as {
      secret: { validation_context: { trusted_ca: { inline_bytes: string } } };
    }
  ).secret.validation_context.trusted_ca.inline_bytes;
  const rootPem = Buffer.from(rootB64, 'base64').toString('utf8');

  /** A gateway credential with `days` left now. */
  const credential = (name: string, days: number) => ({
    name: `kubernetes://${name}`,
    last_updated: new Date().toISOString(),
    secret: {
      name: `kubernetes://${name}`,
      tls_certificate: {
        certificate_chain: {
          inline_bytes: Buffer.from(
            selfSignedCert(['shop.example.com'], new Date(Date.now() - (365 - days) * DAY)).cert,
          ).toString('base64'),
        },
        private_key: { inline_bytes: Buffer.from('[redacted]').toString('base64') },
      },
    },
  });
  const gatewayDump = {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
        dynamic_active_secrets: [...istioDump.configs[0]!.dynamic_active_secrets, credential('shop-cert', 5)],
        dynamic_warming_secrets: [
          { name: 'kubernetes://api-cert', version_info: 'uninitialized', secret: { name: 'kubernetes://api-cert' } },
        ],
      },
    ],
  };
  const CERTS = {
    certificates: [
      {
        ca_cert: [
          { path: '<inline>', serial_number: '0193a543fe2b0d9cd4847675394dfc54', days_until_expiration: '2340' },
        ],
        cert_chain: [
          {
            path: '<inline>',
            serial_number: '6fbee254c22900615cb1f74e3d2f1713',
            subject_alt_names: [{ uri: 'spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint' }],
            days_until_expiration: '0',
          },
        ],
      },
    ],
  };

  const admin =
    (dump: unknown) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const url = req.url ?? '';
      paths.push(url);
      const body = url === '/certs' ? CERTS : url.startsWith('/config_dump?') ? dump : undefined;
      if (!body) {
        res.writeHead(404).end('invalid path');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };

  const pod = (name: string, namespace: string, labels: Record<string, string>, args: string[]): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, creationTimestamp: '2026-12-01T10:00:00Z' },
    spec: { containers: [{ name: 'istio-proxy', image: 'proxyv2', args }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const configMap = (namespace: string, name: string, data: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data,
  });

  beforeAll(async () => {
    const seed: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      configMap('istio-system', 'istio', { mesh: 'trustDomain: cluster.local\n' }),
      configMap(NS, 'istio-ca-root-cert', { 'root-cert.pem': rootPem }),
      configMap('istio-system', 'istio-ca-root-cert', { 'root-cert.pem': rootPem }),
      pod(POD, NS, { app: 'waypoint' }, ['proxy', 'sidecar']),
      pod(GW, 'istio-system', { istio: 'ingressgateway', app: 'istio-ingressgateway' }, ['proxy', 'router']),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'shop-gateway', namespace: 'shop' },
        spec: {
          selector: { istio: 'ingressgateway' },
          servers: ['shop-cert', 'api-cert', 'web-cert'].map((c, i) => ({
            port: { number: 443 + i, name: `https-${i}`, protocol: 'HTTPS' },
            hosts: ['*.example.com'],
            tls: { mode: 'SIMPLE', credentialName: c },
          })),
        },
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'viewer' },
        rules: [
          { apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'viewer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'viewer' },
        subjects: [{ kind: 'User', name: 'viewer', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    ];
    sandbox = await startSandbox({ controllers: false, seed });
    sandbox.podEndpoints.register(NS, POD, ENVOY_ADMIN_PORT, admin(istioDump));
    sandbox.podEndpoints.register('istio-system', GW, ENVOY_ADMIN_PORT, admin(gatewayDump));
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    fake = await startSlackFake();
    const h = await startApp(fake, 'http', { kube: new KubeClient(kc, { timeoutMs: 5000 }), commands: [certsCommand] });
    slack = h.slack;
    eventsUrl = h.eventsUrl;
    const d = await startApp(fake, 'http', {
      kube: new KubeClient(kc, { timeoutMs: 5000, impersonate: { user: 'viewer' } }),
      commands: [certsCommand],
    });
    denied = d.slack;
    deniedUrl = d.eventsUrl;
  });

  afterAll(async () => {
    await slack?.stop();
    await denied?.stop();
    await fake?.close();
    await sandbox?.close();
  });

  async function ask(text: string, url = eventsUrl, app = () => slack): Promise<string> {
    fake.clear();
    const res = await sendSlashCommand(url, slashCommand(text, { responseUrl: fake.responseUrl() }), {
      secret: SIGNING_SECRET,
    });
    expect(res.status).toBe(200);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
    await app().idle();
    return blockText(update.args) + String(update.args.text);
  }

  it("a sidecar's expired workload certificate leads; SPIFFE id, issuer, serial; the root is istiod's", async () => {
    const answer = await ask(`certs ${POD}.${NS}`);
    expect(paths).toContain('/certs');
    expect(paths).toContain('/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets');
    expect(answer).toMatch(/^.*:red_circle: The workload certificate \*expired\*/);
    expect(answer).toContain('spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint');
    expect(answer).toContain('O=cluster.local');
    expect(answer).toContain('6fbee254c22900615cb1f74e3d2f1713');
    expect(answer).toContain("istiod's ✓");
    expect(answer).not.toContain('trust domain is');
  });

  it("a gateway: the Gateways' credentialNames loaded (days left), warming and missing, without reading Secrets", async () => {
    const before = sandbox.requests.length;
    const answer = await ask('certs app=istio-ingressgateway -n istio-system');
    expect(answer).toContain('Gateway credentials');
    expect(answer).toMatch(/shop-cert\s+ACTIVE\s+\S+\s+[45]\s+error\s+shop\/shop-gateway/);
    expect(answer).toMatch(/api-cert\s+WARMING/);
    expect(answer).toMatch(/web-cert\s+MISSING/);
    expect(answer).toContain('Credential `api-cert` (`shop/shop-gateway`) is *warming*');
    const secretsRead = sandbox.requests.slice(before).filter((r) => /\/secrets/.test(r.path));
    expect(secretsRead).toEqual([]);
  });

  it('an identity without pods/portforward: what could not be read and why, nothing else claimed', async () => {
    const answer = await ask(`certs ${POD}.${NS}`, deniedUrl, () => denied);
    expect(answer).toContain('*Could not read the certificates*');
    expect(answer).toContain('RBAC 403: no `create` on `pods/portforward`');
    expect(answer).toContain('envoy-admin');
  });
});
