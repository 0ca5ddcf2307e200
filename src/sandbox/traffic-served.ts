// A sandbox-only knob for the canary demo: how a destination pod answers the requests that reach it.
// Two pod annotations (set on a Deployment's pod template, so changing them rolls new pods like any
// template change) make a version misbehave:
//   sandbox.meshops.dev/error-rate  a fraction 0..1 of the requests answered 500 by the app;
//   sandbox.meshops.dev/latency-ms  the app's answer time in ms (the sidecars' durations add 1-2 ms).
// Errors are spread evenly (request n of the pod fails when floor((n+1)·rate) > floor(n·rate)), so a
// window of N requests holds exactly round(N·rate) errors, whatever the pace. Real Istio has no such
// annotation: it is how the sandbox's traffic model is told what the app would do.
import type { KubeObject } from '../kube/objects.ts';

export const ERROR_RATE_ANNOTATION = 'sandbox.meshops.dev/error-rate';
export const LATENCY_ANNOTATION = 'sandbox.meshops.dev/latency-ms';

/** Istio's default buckets for istio_request_duration_milliseconds (ms). */
export const DURATION_BUCKETS_MS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
] as const;

export interface ServedAnswer {
  code: number;
  /** The app's own time in ms. */
  appMs: number;
}

function knob(pod: KubeObject, name: string, min: number, max: number): number | undefined {
  const raw = pod.metadata.annotations?.[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
}

/** Per-pod request counters, for the evenly spread errors. */
export class ServedAnswers {
  private readonly served = new Map<string, number>();

  /** undefined for a pod without the knob: the model's usual 200 in 3 ms. */
  answer(pod: KubeObject): ServedAnswer | undefined {
    const rate = knob(pod, ERROR_RATE_ANNOTATION, 0, 1);
    const latency = knob(pod, LATENCY_ANNOTATION, 0, 600_000);
    if (rate === undefined && latency === undefined) return undefined;
    const appMs = latency ?? 1;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const n = this.served.get(key) ?? 0;
    this.served.set(key, n + 1);
    const fails = Math.floor((n + 1) * (rate ?? 0)) > Math.floor(n * (rate ?? 0));
    return { code: fails ? 500 : 200, appMs };
  }
}

/** The histogram's bucket series for one observation: every bucket whose bound is ≥ the value, and +Inf. */
export function bucketsFor(valueMs: number): string[] {
  return [...DURATION_BUCKETS_MS.filter((le) => valueMs <= le).map(String), '+Inf'];
}
