// The checkout scenario for the Envoy views (checkout-demo.yaml): a weighted route to a subset with
// no pods (503 UH), ISTIO_MUTUAL toward pods without a sidecar (503 URX,UF), and an HTTPS Gateway
// whose certificate expires in 5 days beside a credentialName with no Secret. The certificate is made
// at start, so it always expires 5 days after the demo's clock: a real P-256 certificate issued
// CERT_LIFETIME_DAYS - 5 days ago (selfSignedCert's `now` sets its window: one hour before `now` to
// 365 days after), stored as a kubernetes.io/tls Secret in istio-system where the ingress gateway
// reads credentials.
import type { KubeObject } from '../../kube/objects.ts';
import { selfSignedCert } from '../self-signed-cert.ts';
import type { Flow } from '../traffic-model.ts';
import { demoFile } from './demo-mesh.ts';

export const CHECKOUT_DEMO_FILE = 'checkout-demo.yaml';
export const CHECKOUT_NAMESPACE = 'checkout';

/** The Gateway's credentials: one loaded and expiring soon, one that names no Secret. */
export const CHECKOUT_CREDENTIAL = 'checkout-tls';
export const CHECKOUT_MISSING_CREDENTIAL = 'checkout-admin-tls';
export const CHECKOUT_CERT_HOSTS = ['shop.checkout.example.com'];
/** Days until the gateway certificate's notAfter, counted from the demo's clock at start. */
export const CHECKOUT_CERT_DAYS_LEFT = 5;
/** selfSignedCert's validity: from one hour before `now` to 365 days after it. */
const CERT_LIFETIME_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The kubernetes.io/tls Secret behind checkout-gateway's first server, expiring CHECKOUT_CERT_DAYS_LEFT days after `now`. */
export function checkoutCertificateSecret(now: Date): KubeObject {
  const issued = new Date(now.getTime() - (CERT_LIFETIME_DAYS - CHECKOUT_CERT_DAYS_LEFT) * DAY_MS);
  const { cert, key } = selfSignedCert(CHECKOUT_CERT_HOSTS, issued);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: CHECKOUT_CREDENTIAL,
      namespace: 'istio-system',
      labels: { app: 'checkout' },
      annotations: { 'meshops.dev/demo': 'checkout-gateway certificate, expires in 5 days' },
    },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(cert).toString('base64'),
      'tls.key': Buffer.from(key).toString('base64'),
    },
  } as KubeObject;
}

/** The checkout scenario's objects and the gateway's Secret, for a demo whose clock reads `now`. */
export function checkoutDemoObjects(now: Date = new Date()): KubeObject[] {
  return [...demoFile(CHECKOUT_DEMO_FILE), checkoutCertificateSecret(now)];
}

export const CHECKOUT_DEMO_FLOWS: readonly Flow[] = [
  {
    from: { namespace: CHECKOUT_NAMESPACE, app: 'storefront' },
    to: { namespace: CHECKOUT_NAMESPACE, service: 'payments', port: 8080 },
    path: '/payments/charge',
    method: 'POST',
    perTick: 2,
  },
  {
    from: { namespace: CHECKOUT_NAMESPACE, app: 'storefront' },
    to: { namespace: CHECKOUT_NAMESPACE, service: 'ledger', port: 8080 },
    path: '/ledger/entries',
  },
];
