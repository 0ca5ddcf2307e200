// Simulated istiods that follow the sandbox's pods: one per running istiod pod, each running proxy
// connected to one of them, and faults injected on demand (the demo's and integration tests' istiod).
import type { KubeObject } from '../kube/objects.ts';
import { cmp, DEMO_NACK_MESSAGES, type IstiodSimOptions, TYPE_URL } from './istiod-model.ts';
import { IstiodSim } from './istiod-pod.ts';
import type { PodEndpoints } from './pod-endpoints.ts';

/** What the fleet needs of the sandbox store: the pods, and word when they change. */
export interface PodSource {
  list(kind: 'Pod', namespace?: string): KubeObject[];
  subscribe(listener: (e: { object: KubeObject }) => void): () => void;
}

export interface IstiodFleetOptions {
  istiodNamespace?: string;
  istiodOptions?: Omit<IstiodSimOptions, 'podName'>;
  /**
   * Receives an istiod's whole log after each change, e.g.
   * `(pod, lines) => sandbox.setPodLogs('istio-system', pod, 'discovery', lines)`.
   */
  logSink?: (istiodPod: string, lines: string[]) => void;
}

/** Faults to inject into proxies connected now, chosen by `<namespace>/<pod-name-prefix>`. */
export interface FleetFaults {
  staleLds?: readonly string[];
  nackCds?: readonly string[];
  nackLds?: readonly string[];
  /** Proxies that drop their ADS connection and stay away until their pod is replaced. */
  disconnected?: readonly string[];
  staleForMs?: number;
}

/**
 * Keeps simulated istiods in step with the sandbox's pods, for the demo and integration tests: one
 * IstiodSim per running istiod pod (served on its ports), every running pod with an istio-proxy
 * container connected, SYNCED, to the least-loaded istiod. Pods that go away disconnect; the proxies
 * of an istiod that goes away reconnect elsewhere. Faults are injected into proxies connected at the
 * time, so a restarted workload's new pods come up healthy, as after a real rollout restart.
 */
export class IstiodFleet {
  private readonly source: PodSource;
  private readonly endpoints: PodEndpoints;
  private readonly ns: string;
  private readonly simOptions: Omit<IstiodSimOptions, 'podName'>;
  private readonly logSink: ((istiodPod: string, lines: string[]) => void) | undefined;
  private readonly sims = new Map<string, IstiodSim>();
  private readonly away = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private scheduled = false;

  constructor(source: PodSource, endpoints: PodEndpoints, opts: IstiodFleetOptions = {}) {
    this.source = source;
    this.endpoints = endpoints;
    this.ns = opts.istiodNamespace ?? 'istio-system';
    this.simOptions = opts.istiodOptions ?? {};
    this.logSink = opts.logSink;
  }

  /** Hands every istiod's log to the sink; called after each change. */
  flushLogs(): void {
    if (!this.logSink) return;
    for (const sim of this.sims.values()) this.logSink(sim.podName, sim.logLines({ kubeletTime: true }));
  }

  /** Follow pod changes from now on (and sync once); returns a function that stops following. */
  start(): () => void {
    this.sync();
    this.unsubscribe ??= this.source.subscribe((e) => {
      if (e.object.kind !== 'Pod' || this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.sync();
      });
    });
    return () => this.stop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  istiods(): IstiodSim[] {
    return [...this.sims.values()].sort((a, b) => cmp(a.podName, b.podName));
  }

  /** The istiod a proxy is connected to, if any. */
  istiodOf(proxyId: string): IstiodSim | undefined {
    return this.istiods().find((s) => s.proxy(proxyId));
  }

  sync(): void {
    const pods = this.source.list('Pod');
    const running = (p: KubeObject) =>
      !p.metadata.deletionTimestamp && (p.status as { phase?: string } | undefined)?.phase === 'Running';
    const isIstiod = (p: KubeObject) =>
      p.metadata.namespace === this.ns && p.metadata.labels?.app === 'istiod' && running(p);
    const istiodPods = new Set(pods.filter(isIstiod).map((p) => p.metadata.name));
    for (const name of this.sims.keys()) {
      if (istiodPods.has(name)) continue;
      // Its proxies are connected nowhere now; the loop below reconnects them to the survivors.
      this.endpoints.unregister(this.ns, name);
      this.sims.delete(name);
    }
    for (const name of istiodPods) {
      if (this.sims.has(name)) continue;
      const sim = new IstiodSim({ ...this.simOptions, podName: name });
      sim.registerOn(this.endpoints, this.ns);
      this.sims.set(name, sim);
    }
    const proxies = new Map<string, KubeObject>();
    for (const p of pods)
      if (running(p) && hasIstioProxy(p)) proxies.set(`${p.metadata.name}.${p.metadata.namespace}`, p);
    for (const sim of this.sims.values()) for (const id of sim.connected()) if (!proxies.has(id)) sim.disconnect(id);
    for (const id of this.away) if (!proxies.has(id)) this.away.delete(id);
    if (this.sims.size === 0) return;
    const sims = this.istiods();
    try {
      this.connectNew(sims, proxies);
    } finally {
      this.flushLogs();
    }
  }

  private connectNew(sims: IstiodSim[], proxies: Map<string, KubeObject>): void {
    const connected = new Set(sims.flatMap((s) => s.connected()));
    for (const id of [...proxies.keys()].sort()) {
      if (connected.has(id) || this.away.has(id)) continue;
      const pod = proxies.get(id)!;
      const least = sims.reduce((a, b) => (b.size < a.size ? b : a));
      least.connect(id, { proxyType: pod.metadata.labels?.istio === 'ingressgateway' ? 'router' : 'sidecar' });
    }
  }

  /** Injects faults into the proxies connected now whose `<namespace>/<pod>` starts with a given prefix. */
  inject(faults: FleetFaults): string[] {
    const touched: string[] = [];
    const now = this.simOptions.now ?? (() => new Date());
    const at = new Date(now().getTime() - (faults.staleForMs ?? 4 * 60_000));
    const each = (prefixes: readonly string[] | undefined, fn: (sim: IstiodSim, id: string) => void) => {
      for (const sim of this.istiods()) {
        for (const id of sim.connected()) {
          const dot = id.lastIndexOf('.');
          const key = `${id.slice(dot + 1)}/${id.slice(0, dot)}`;
          if ((prefixes ?? []).some((p) => key.startsWith(p))) {
            fn(sim, id);
            touched.push(id);
          }
        }
      }
    };
    each(faults.staleLds, (sim, id) => sim.push(id, TYPE_URL.LDS, at));
    // Envoy answers a push within milliseconds: the NACK, and istiod's log line about it, are timed with the push.
    const nackAt = at;
    each(faults.nackCds, (sim, id) => {
      sim.push(id, TYPE_URL.CDS, at);
      sim.nack(id, TYPE_URL.CDS, DEMO_NACK_MESSAGES.CDS, nackAt);
    });
    each(faults.nackLds, (sim, id) => {
      sim.push(id, TYPE_URL.LDS, at);
      sim.nack(id, TYPE_URL.LDS, DEMO_NACK_MESSAGES.LDS, nackAt);
    });
    each(faults.disconnected, (sim, id) => {
      sim.disconnect(id);
      this.away.add(id);
    });
    this.flushLogs();
    return [...new Set(touched)].sort();
  }
}

function hasIstioProxy(pod: KubeObject): boolean {
  const spec = pod.spec as { containers?: { name?: string }[]; initContainers?: { name?: string }[] } | undefined;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
}
