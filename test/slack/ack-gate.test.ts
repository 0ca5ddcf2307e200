// The ack gate (src/slack/ack-gate.ts) on a plain loopback HTTP server: work waits while a request is at the door
// unanswered, starts once the door is quiet, and never waits past maxHoldMs (a door that never empties).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { AckGate } from '../../src/slack/ack-gate.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(gate: AckGate, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(gate.wrap(handler));
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('AckGate', () => {
  it('admits at once when nothing is at the door and nothing arrived lately', async () => {
    const gate = new AckGate({ quietMs: 0 });
    let admitted = false;
    await gate.admit().then(() => {
      admitted = true;
    });
    expect(admitted).toBe(true);
    expect(gate.heldToLimit).toBe(0);
  });

  it('holds work while a request waits for its answer, and lets it go once answered', async () => {
    const gate = new AckGate({ quietMs: 1, maxHoldMs: 10_000 });
    const order: string[] = [];
    const open: ServerResponse[] = [];
    const url = await serve(gate, (_req, res) => {
      open.push(res);
      order.push('arrived');
    });
    const request = fetch(url);
    while (open.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(gate.pending).toBe(1);
    const work = gate.admit().then(() => order.push('work'));
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['arrived']);
    open[0]?.end('ok');
    order.push('answered');
    await work;
    await request;
    expect(order).toEqual(['arrived', 'answered', 'work']);
    expect(gate.pending).toBe(0);
    expect(gate.heldToLimit).toBe(0);
  });

  it('never holds work longer than maxHoldMs, even when the door stays busy', async () => {
    const gate = new AckGate({ quietMs: 1, maxHoldMs: 40 });
    const open: ServerResponse[] = [];
    const url = await serve(gate, (_req, res) => open.push(res));
    const request = fetch(url).catch(() => undefined);
    while (open.length === 0) await new Promise((r) => setTimeout(r, 5));
    await gate.admit();
    expect(gate.pending).toBe(1);
    expect(gate.heldToLimit).toBe(1);
    open[0]?.end();
    await request;
  });

  it('counts a request whose connection closes without an answer as done', async () => {
    const gate = new AckGate({ quietMs: 1, maxHoldMs: 10_000 });
    const open: ServerResponse[] = [];
    const url = await serve(gate, (_req, res) => open.push(res));
    const controller = new AbortController();
    const request = fetch(url, { signal: controller.signal }).catch(() => undefined);
    while (open.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await request;
    await gate.admit();
    expect(gate.pending).toBe(0);
    expect(gate.heldToLimit).toBe(0);
  });
});
