// Words the canary feature shares: durations, and what deleting the VirtualService would really do.
import type { CanaryView } from './routes.ts';

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

/**
 * Without a VirtualService a sidecar sends the Service's traffic to every Ready endpoint of the Service
 * (Istio's default LEAST_REQUEST over them), so each version gets its share of the pods, not of any weight.
 */
/** "v1 3 pods ≈ 75%, v2 1 pod ≈ 25%": each subset's share of the Service's Ready endpoints. */
export function podSplit(v: CanaryView): string {
  const ready = v.subsets.map((s) => ({ name: s.name, n: s.pods.filter((p) => p.ready).length }));
  const total = ready.reduce((n, s) => n + s.n, 0);
  return total
    ? ready.map((s) => `${s.name} ${s.n} pod${s.n === 1 ? '' : 's'} ≈ ${Math.round((100 * s.n) / total)}%`).join(', ')
    : 'no Ready pod in any subset';
}

export function deletionWords(v: CanaryView): string {
  const split = podSplit(v);
  const selector = Object.entries(v.serviceSelector)
    .map(([k, val]) => `${k}=${val}`)
    .join(',');
  return `meshops keeps the VirtualService at 100% rather than deleting it. Deleting it would not keep ${v.canary ?? 'the new version'} at 100%: every sidecar would send ${v.service} to every Ready endpoint of the Service (selector ${selector || 'none'}), least-request over pods, so the split would follow pod counts (${split}). Scale the old version to 0 first, then the VirtualService can go.`;
}
