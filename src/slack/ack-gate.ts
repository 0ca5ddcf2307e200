// Acks before work: the HTTP receiver's request listener notes each request as it arrives and again when its
// response has been written (the ack, or any other answer); the work a delivery does after its ack is admitted
// only when no request waits for its answer and none arrived in the last `quietMs` (a burst's later requests come
// over connections still being opened). So in a burst of slash commands every request is acknowledged before any
// of them starts on the cluster, rendering or Slack calls, and the event loop is not busy with work while an ack
// waits. A steady stream could keep the door busy for ever: no work waits longer than `maxHoldMs` (300 ms by
// default, against Slack's 3 s for an ack). A lone command waits quietMs (40 ms) before its work starts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export class AckGate {
  private unanswered = 0;
  private lastArrivalAt = Number.NEGATIVE_INFINITY;
  private readonly maxHoldMs: number;
  private readonly quietMs: number;
  /** Work admitted while the door was still busy, because it had waited maxHoldMs (for tests and logs). */
  heldToLimit = 0;

  constructor(options: { maxHoldMs?: number; quietMs?: number } = {}) {
    this.maxHoldMs = options.maxHoldMs ?? 300;
    this.quietMs = options.quietMs ?? 40;
  }

  /** Requests received whose answers have not been written yet. */
  get pending(): number {
    return this.unanswered;
  }

  /** Wraps a request listener so that each request counts from arrival until its response is finished or closed. */
  wrap(
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      this.unanswered++;
      this.lastArrivalAt = performance.now();
      let done = false;
      const answered = () => {
        if (done) return;
        done = true;
        this.unanswered--;
      };
      res.once('finish', answered);
      res.once('close', answered);
      listener(req, res);
    };
  }

  /**
   * Resolves once no request waits for its answer and none has arrived for quietMs (the rest of a burst is still
   * on its way over new connections), or after maxHoldMs. It always waits one poll of the event loop first, so
   * that requests already read from their sockets reach the listener before work does.
   */
  async admit(): Promise<void> {
    const start = performance.now();
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      const now = performance.now();
      const quietFor = now - this.lastArrivalAt;
      if (this.unanswered === 0 && quietFor >= this.quietMs) return;
      const left = this.maxHoldMs - (now - start);
      if (left <= 0) {
        this.heldToLimit++;
        return;
      }
      const wait = this.unanswered === 0 ? this.quietMs - quietFor : Math.min(this.quietMs, 5);
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, Math.min(wait, left))).unref());
    }
  }
}
