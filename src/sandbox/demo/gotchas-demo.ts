// The gotcha namespaces (gotchas-demo.yaml), one per diagnostic of issue 16 plus a healthy one: media (istio-proxy
// OOM-killed at its memory limit, one resource annotation dropping the mesh defaults), billing (the app restarts
// at cold start without holdApplicationUntilProxyStarts), accounts (probe rewrite off behind an ALLOW policy:
// readiness fails with 403) and catalog (healthy, with the look-alikes that must not be flagged). The pods' past
// comes from the sandbox's fault knobs (src/sandbox/README.md); the flows below are their traffic, which the
// demo's traffic model runs with the others (the kubelet's probes through a sidecar add their own lines).
import type { KubeObject } from '../../kube/objects.ts';
import type { Flow } from '../traffic-model.ts';
import { demoFile } from './demo-mesh.ts';

export const GOTCHAS_DEMO_FILE = 'gotchas-demo.yaml';

/** The namespaces, by the gotcha each holds. */
export const GOTCHA_NAMESPACES = {
  sidecarOom: 'media',
  startupRace: 'billing',
  probeAuthz: 'accounts',
  healthy: 'catalog',
} as const;

/** The workload with the planted cause in each gotcha namespace, and catalog's look-alike. */
export const GOTCHA_WORKLOADS = {
  media: 'transcoder',
  billing: 'invoices',
  accounts: 'profile',
  catalog: 'products',
} as const;

export function gotchasDemoObjects(): KubeObject[] {
  return demoFile(GOTCHAS_DEMO_FILE);
}

export const GOTCHAS_DEMO_FLOWS: readonly Flow[] = [
  {
    from: { namespace: 'media', app: 'uploader' },
    to: { namespace: 'media', service: 'transcoder', port: 80 },
    path: '/transcode',
    method: 'POST',
  },
  {
    from: { namespace: 'media', app: 'uploader' },
    to: { namespace: 'media', service: 'thumbnailer', port: 80 },
    path: '/thumbnails',
    method: 'POST',
  },
  {
    from: { namespace: 'billing', app: 'invoices' },
    to: { namespace: 'billing', service: 'rates', port: 80 },
    path: '/v1/rates',
  },
  {
    // profile has no Ready endpoint (its readiness probe gets 403): signup's sidecar answers 503 UH.
    from: { namespace: 'accounts', app: 'signup' },
    to: { namespace: 'accounts', service: 'profile', port: 80 },
    path: '/api/profile',
    method: 'POST',
  },
  {
    from: { namespace: 'catalog', app: 'search' },
    to: { namespace: 'catalog', service: 'products', port: 80 },
    path: '/products',
  },
];
