// Concurrent identical questions share one execution, and a bounded number of distinct executions run
// at once. A question has a key (cluster, command, normalized arguments, the caller's visibility; the
// router builds it, and gives none for a command with side effects, which then never shares). While an
// execution of a key is queued or running, another ask of that key joins it; when it has finished, its
// answer is reused for a short window. The rest wait their turn in a bounded queue and are told so.
// Nothing here knows about Slack or Kubernetes.
import { UserError } from './errors.ts';

export interface SingleFlightOptions {
  /** Distinct executions running at once. */
  maxConcurrent: number;
  /** Distinct executions waiting for a slot; beyond it an ask is refused in words (default 200). */
  maxQueued?: number;
  /** How long a finished execution's answer is given to the same question (0: only while it runs). */
  shareWindowMs?: number;
  /** Finished answers kept for sharing, oldest dropped first (default 32). */
  maxShared?: number;
  now?: () => number;
}

export interface FlightHooks {
  /** This ask waits for a slot: `ahead` distinct executions are queued before its own. */
  onQueued?: (ahead: number) => void;
  /** The execution this ask waited for (onQueued was called) has left the queue and started. */
  onStarted?: () => void;
}

export interface FlightResult<T> {
  value: T;
  /** The answer came from another ask's execution (joined while it ran, or reused after). */
  shared: boolean;
  /** How long ago the shared execution finished; 0 for an answer that finished just now for this ask. */
  ageMs: number;
}

interface Flight {
  key: string | undefined;
  work: () => Promise<unknown>;
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  queued: boolean;
  askers: number;
  /** Told "queued": each hears when the execution starts. */
  waiting: (() => void)[];
}

export class SingleFlight {
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly shareWindowMs: number;
  private readonly maxShared: number;
  private readonly now: () => number;
  private readonly flights = new Map<string, Flight>();
  private readonly queue: Flight[] = [];
  private readonly recent = new Map<string, { value: unknown; at: number }>();
  private active = 0;
  /** Executions started so far (tests and the bench count them). */
  executions = 0;

  constructor(options: SingleFlightOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1)
      throw new Error('SingleFlight: maxConcurrent must be a positive integer');
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueued = options.maxQueued ?? 200;
    this.shareWindowMs = options.shareWindowMs ?? 0;
    this.maxShared = options.maxShared ?? 32;
    this.now = options.now ?? Date.now;
  }

  /** Distinct executions running now, and waiting. */
  get load(): { running: number; queued: number; shared: number } {
    return { running: this.active, queued: this.queue.length, shared: this.recent.size };
  }

  /** Runs `work` for `key`, or joins the execution of the same key. `key` undefined: never shared. */
  async run<T>(key: string | undefined, work: () => Promise<T>, hooks: FlightHooks = {}): Promise<FlightResult<T>> {
    if (key !== undefined) {
      const hit = this.sharedAnswer(key);
      if (hit) return { value: hit.value as T, shared: true, ageMs: this.now() - hit.at };
      const running = this.flights.get(key);
      if (running) {
        running.askers++;
        if (running.queued) {
          hooks.onQueued?.(this.queue.indexOf(running));
          if (hooks.onStarted) running.waiting.push(hooks.onStarted);
        }
        const value = (await running.promise) as T;
        return { value, shared: true, ageMs: 0 };
      }
    }
    if (this.active >= this.maxConcurrent && this.queue.length >= this.maxQueued)
      throw new UserError(
        `meshops is busy: ${this.queue.length} questions are already waiting for the cluster.`,
        'Try again in a minute.',
      );
    const flight = this.newFlight(key, work);
    if (this.active < this.maxConcurrent) this.start(flight);
    else {
      flight.queued = true;
      this.queue.push(flight);
      hooks.onQueued?.(this.queue.length - 1);
      if (hooks.onStarted) flight.waiting.push(hooks.onStarted);
    }
    const value = (await flight.promise) as T;
    return { value, shared: false, ageMs: 0 };
  }

  /**
   * Shutdown: every execution still waiting for a slot is dropped, never started, and its askers get `reason`.
   * Returns how many were dropped. Executions already running carry on.
   */
  cancelQueued(reason: unknown): number {
    const dropped = this.queue.splice(0);
    for (const flight of dropped) {
      if (flight.key !== undefined && this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
      flight.reject(reason);
    }
    return dropped.length;
  }

  private newFlight(key: string | undefined, work: () => Promise<unknown>): Flight {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const flight: Flight = { key, work, promise, resolve, reject, queued: false, askers: 1, waiting: [] };
    if (key !== undefined) this.flights.set(key, flight);
    return flight;
  }

  private start(flight: Flight): void {
    flight.queued = false;
    this.active++;
    this.executions++;
    for (const told of flight.waiting.splice(0)) {
      try {
        told();
      } catch {
        // A front door's notice failing must not keep the work from starting.
      }
    }
    let work: Promise<unknown>;
    try {
      work = flight.work();
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      (value) => {
        this.finish(flight);
        if (flight.key !== undefined && this.shareWindowMs > 0) this.remember(flight.key, value);
        flight.resolve(value);
      },
      (err: unknown) => {
        // A failure is not shared afterwards: the next ask tries again.
        this.finish(flight);
        flight.reject(err);
      },
    );
  }

  private finish(flight: Flight): void {
    this.active--;
    if (flight.key !== undefined && this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
    const next = this.queue.shift();
    if (next) this.start(next);
  }

  private sharedAnswer(key: string): { value: unknown; at: number } | undefined {
    const hit = this.recent.get(key);
    if (!hit) return undefined;
    if (this.now() - hit.at < this.shareWindowMs) return hit;
    this.recent.delete(key);
    return undefined;
  }

  private remember(key: string, value: unknown): void {
    const now = this.now();
    for (const [k, v] of this.recent) if (now - v.at >= this.shareWindowMs) this.recent.delete(k);
    this.recent.delete(key);
    this.recent.set(key, { value, at: now });
    while (this.recent.size > this.maxShared) this.recent.delete(this.recent.keys().next().value as string);
  }
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same question. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
