// The sandbox mesh's certificate authority, as istiod's built-in CA: a self-signed root (O=<trust
// domain>, ten years) published in every namespace as the ConfigMap istio-ca-root-cert (`root-cert.pem`,
// label istio.io/config=true, kept as istiod's namespace controller keeps it), and workload
// certificates with an empty subject and the SPIFFE id `spiffe://<trust domain>/ns/<ns>/sa/<sa>` as a
// critical URI SAN, valid 24 hours (Istio's default workload TTL), renewed after half their life as
// the agent renews them. Keys are P-256 (Istio's default is RSA 2048; the shape is the same).
import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../kube/objects.ts';
import { type DistinguishedName, issueCertificate } from './self-signed-cert.ts';
import type { SandboxStore, StoreEvent } from './store.ts';

export const ISTIO_ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
export const ROOT_CERT_KEY = 'root-cert.pem';
export const WORKLOAD_CERT_TTL_MS = 24 * 60 * 60 * 1000;
/** Namespaces istiod's namespace controller leaves alone (inject.IgnoredNamespaces). */
const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export interface MeshConfigView {
  trustDomain: string;
  rootNamespace: string;
  /** outboundTrafficPolicy.mode: ALLOW_ANY (default) or REGISTRY_ONLY. */
  outboundMode: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

/** The few mesh config fields the proxies depend on, from istio-system/istio (`mesh`), with Istio's defaults. */
export function readMeshConfig(store: SandboxStore): MeshConfigView {
  let mesh: Record<string, unknown> = {};
  try {
    const cm = store.get('ConfigMap', 'istio-system', 'istio') as { data?: Record<string, string> } | undefined;
    const parsed = cm?.data?.mesh ? (parseYaml(cm.data.mesh) as unknown) : undefined;
    if (parsed && typeof parsed === 'object') mesh = parsed as Record<string, unknown>;
  } catch {
    // An unreadable mesh config is istiod's defaults.
  }
  const str = (v: unknown, d: string) => (typeof v === 'string' && v !== '' ? v : d);
  const otp = (mesh.outboundTrafficPolicy ?? {}) as { mode?: unknown };
  return {
    trustDomain: str(mesh.trustDomain, 'cluster.local'),
    rootNamespace: str(mesh.rootNamespace, 'istio-system'),
    outboundMode: otp.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
  };
}

export interface WorkloadCertificate {
  /** The leaf, then the root (the chain SDS pushes as `default`). */
  chainPem: string;
  leafPem: string;
  serialNumber: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
}

export class MeshCa {
  readonly rootPem: string;
  readonly rootSerial: string;
  private readonly rootName: DistinguishedName;
  private readonly rootKey: KeyObject;
  private readonly leafKeys: { privateKey: KeyObject; publicKey: KeyObject };

  constructor(trustDomain: string, now: Date) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.rootKey = privateKey;
    this.rootName = [['2.5.4.10', trustDomain]];
    const root = issueCertificate({
      subject: this.rootName,
      publicKey,
      issuer: { name: this.rootName, key: privateKey },
      notBefore: now,
      notAfter: new Date(now.getTime() + 10 * 365 * 24 * 60 * 60 * 1000),
      ca: true,
    });
    this.rootPem = root.pem;
    this.rootSerial = root.serialNumber;
    // One key pair for every workload: generating one per pod costs time and shows nothing more.
    this.leafKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  }

  /** A workload certificate for the SPIFFE id, valid from `now` for `ttlMs`. */
  issueWorkload(spiffeId: string, now: Date, ttlMs = WORKLOAD_CERT_TTL_MS): WorkloadCertificate {
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + ttlMs);
    const leaf = issueCertificate({
      subject: [],
      publicKey: this.leafKeys.publicKey,
      issuer: { name: this.rootName, key: this.rootKey },
      notBefore,
      notAfter,
      ca: false,
      uris: [spiffeId],
    });
    return {
      chainPem: leaf.pem + this.rootPem,
      leafPem: leaf.pem,
      serialNumber: leaf.serialNumber,
      spiffeId,
      notBefore,
      notAfter,
    };
  }
}

export interface CertificateDetails {
  serialNumber: string;
  uris: string[];
  dnsNames: string[];
  validFrom: Date;
  expiration: Date;
}

/** What Envoy's /certs reads from a PEM certificate (the first one of a bundle); undefined when it does not parse. */
export function certificateDetails(pem: string): CertificateDetails | undefined {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!first) return undefined;
  try {
    const x = new X509Certificate(first);
    const sans = (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
    return {
      serialNumber: x.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
      uris: sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4)),
      dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
      validFrom: new Date(x.validFrom),
      expiration: new Date(x.validTo),
    };
  } catch {
    return undefined;
  }
}

/**
 * istiod's namespace controller: istio-ca-root-cert with the mesh root in every namespace (but the
 * ignored ones), recreated when deleted and restored when changed. Returns the stop function.
 */
export function publishMeshRoot(store: SandboxStore, rootPem: string): () => void {
  const reconcile = (namespace: string): void => {
    if (IGNORED_NAMESPACES.has(namespace)) return;
    const nsObj = store.get('Namespace', undefined, namespace);
    if (!nsObj || nsObj.metadata.deletionTimestamp) return;
    const current = store.get('ConfigMap', namespace, ISTIO_ROOT_CERT_CONFIGMAP) as
      | (KubeObject & { data?: Record<string, string> })
      | undefined;
    if (current?.data?.[ROOT_CERT_KEY] === rootPem) return;
    const next: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        ...(current?.metadata ?? {}),
        name: ISTIO_ROOT_CERT_CONFIGMAP,
        namespace,
        labels: { ...current?.metadata.labels, 'istio.io/config': 'true' },
      },
      data: { [ROOT_CERT_KEY]: rootPem },
    } as KubeObject;
    delete next.metadata.resourceVersion;
    store.put(next);
  };
  const pending = new Set<string>();
  const onEvent = (e: StoreEvent): void => {
    let ns: string | undefined;
    if (e.object.kind === 'Namespace' && e.type !== 'DELETED') ns = e.object.metadata.name;
    else if (e.object.kind === 'ConfigMap' && e.object.metadata.name === ISTIO_ROOT_CERT_CONFIGMAP)
      ns = e.object.metadata.namespace;
    if (ns === undefined || pending.has(ns)) return;
    pending.add(ns);
    // After the write that woke us has finished, as a controller works from its queue.
    queueMicrotask(() => {
      pending.delete(ns);
      try {
        reconcile(ns);
      } catch {
        // The namespace went away in between.
      }
    });
  };
  for (const ns of store.list('Namespace')) reconcile(ns.metadata.name);
  return store.subscribe(onEvent);
}
