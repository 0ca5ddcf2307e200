// Container logs for the sandbox's pods/log subresource. Lines come from setPodLogs() or from a pod
// annotation `sandbox.meshops.dev/logs.<container>` (newline-separated). Each line has a kubelet
// timestamp: a leading RFC 3339 timestamp followed by a space is taken as that timestamp; otherwise
// lines are spaced one second apart ending when the logs were set. `{{ts}}` in a line is replaced
// by its timestamp in Istio's format (microseconds), so fixtures can mimic istiod's own prefix.

export const LOGS_ANNOTATION_PREFIX = 'sandbox.meshops.dev/logs.';

export interface LogLine {
  time: Date;
  text: string;
}

export interface LogQuery {
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  limitBytes?: number;
  timestamps?: boolean;
}

const KUBELET_TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*)$/s;

function istioTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** RFC 3339 with nanoseconds, the form the kubelet prefixes with `timestamps=true`. */
export function kubeletTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function parseLogLines(lines: readonly string[], endAt: Date): LogLine[] {
  const n = lines.length;
  return lines.map((raw, i) => {
    const m = raw.match(KUBELET_TS);
    const time = m ? new Date(m[1] as string) : new Date(endAt.getTime() - (n - 1 - i) * 1000);
    const body = m ? (m[2] as string) : raw;
    return { time, text: body.replaceAll('{{ts}}', istioTimestamp(time)) };
  });
}

export function renderLogs(lines: readonly LogLine[], q: LogQuery, now: Date): string {
  let selected = [...lines];
  if (q.sinceSeconds !== undefined) {
    const from = now.getTime() - q.sinceSeconds * 1000;
    selected = selected.filter((l) => l.time.getTime() >= from);
  } else if (q.sinceTime) {
    const from = Date.parse(q.sinceTime);
    if (!Number.isNaN(from)) selected = selected.filter((l) => l.time.getTime() >= from);
  }
  if (q.tailLines !== undefined && q.tailLines >= 0) selected = q.tailLines === 0 ? [] : selected.slice(-q.tailLines);
  let text = selected.map((l) => (q.timestamps ? `${kubeletTimestamp(l.time)} ${l.text}\n` : `${l.text}\n`)).join('');
  if (q.limitBytes !== undefined && q.limitBytes >= 0) {
    const buf = Buffer.from(text, 'utf8');
    if (buf.length > q.limitBytes) text = buf.subarray(0, q.limitBytes).toString('utf8');
  }
  return text;
}

export class PodLogBook {
  private readonly logs = new Map<string, LogLine[]>();

  private key(namespace: string, pod: string, container: string): string {
    return `${namespace}/${pod}/${container}`;
  }

  set(namespace: string, pod: string, container: string, lines: readonly string[], now: Date): void {
    this.logs.set(this.key(namespace, pod, container), parseLogLines(lines, now));
  }

  append(namespace: string, pod: string, container: string, lines: readonly string[], now: Date): void {
    const k = this.key(namespace, pod, container);
    this.logs.set(k, [...(this.logs.get(k) ?? []), ...parseLogLines(lines, now)]);
  }

  get(namespace: string, pod: string, container: string): LogLine[] | undefined {
    return this.logs.get(this.key(namespace, pod, container));
  }

  forgetPod(namespace: string, pod: string): void {
    const prefix = `${namespace}/${pod}/`;
    for (const k of [...this.logs.keys()]) if (k.startsWith(prefix)) this.logs.delete(k);
  }
}
