// The kubelet's side of SPDY port-forward (portforward.k8s.io), as kubectl uses it: for each local
// connection the client opens an error stream and a data stream (headers streamtype, port,
// requestid); once both arrived we dial the pod's port and copy bytes both ways. When the pod ends
// its side we close both streams; an error message, if any, goes on the error stream first.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodeRstStream,
  encodeSynReply,
  FLAG_FIN,
  FRAME,
  HeaderDeflater,
  HeaderInflater,
  RST,
  SpdyFrameReader,
  type SpdyFrame,
} from './spdy-framer.ts';

interface ForwardStream {
  id: number;
  type: 'data' | 'error';
  port: number;
  requestId: string;
  closedLocally: boolean;
  reset: boolean;
}

interface StreamPair {
  error?: ForwardStream;
  data?: ForwardStream;
  pod?: Duplex;
}

// Large writes are cut into frames of this size so a big answer does not become one 16 MB frame.
const MAX_DATA_FRAME = 64 * 1024;

/**
 * Serves port-forward over one SPDY/3.1 connection (a raw upgraded socket or a WebSocket tunnel).
 * `dial` opens a connection to the pod's port, or gives undefined when nothing listens there;
 * `refused` words that failure for the error stream.
 */
export function serveSpdyPortForward(
  conn: Duplex,
  dial: (port: number) => Duplex | undefined,
  refused: (port: number) => string,
  log?: Logger,
): void {
  const reader = new SpdyFrameReader();
  const inflater = new HeaderInflater();
  const deflater = new HeaderDeflater();
  const streams = new Map<number, ForwardStream>();
  const pairs = new Map<string, StreamPair>();
  let lastStreamId = 0;
  let closed = false;

  const send = (frame: Buffer): void => {
    if (!closed && conn.writable) conn.write(frame);
  };

  const closeStream = (s: ForwardStream | undefined): void => {
    if (!s || s.closedLocally || s.reset) return;
    s.closedLocally = true;
    send(encodeData(s.id, Buffer.alloc(0), true));
  };

  const shutdown = (): void => {
    if (closed) return;
    closed = true;
    for (const p of pairs.values()) p.pod?.destroy();
    pairs.clear();
    streams.clear();
    conn.destroy();
  };

  const startForwarding = (pair: StreamPair): void => {
    const data = pair.data!;
    const error = pair.error!;
    const pod = dial(data.port);
    if (!pod) {
      send(encodeData(error.id, Buffer.from(refused(data.port))));
      closeStream(error);
      closeStream(data);
      return;
    }
    pair.pod = pod;
    pod.on('data', (chunk: Buffer) => {
      if (data.closedLocally || data.reset) return;
      for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME)
        send(encodeData(data.id, chunk.subarray(off, off + MAX_DATA_FRAME)));
    });
    const finish = (): void => {
      closeStream(data);
      closeStream(error);
      pairs.delete(data.requestId);
    };
    pod.on('end', finish);
    pod.on('close', finish);
    pod.on('error', (err: Error) => {
      if (!error.closedLocally && !error.reset)
        send(encodeData(error.id, Buffer.from(`error forwarding port ${data.port}: ${err.message}`)));
      finish();
    });
  };

  const onSynStream = (frame: Extract<SpdyFrame, { kind: 'control' }>): void => {
    const p = frame.payload;
    if (p.length < 10) throw new Error('short SYN_STREAM');
    const id = p.readUInt32BE(0) & 0x7fffffff;
    const headers = decodeHeaderBlock(inflater.inflate(p.subarray(10)));
    lastStreamId = Math.max(lastStreamId, id);
    const first = (name: string): string => headers.get(name)?.[0] ?? '';
    const type = first('streamtype');
    const port = Number(first('port'));
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) {
      send(encodeRstStream(id, RST.REFUSED_STREAM));
      return;
    }
    // Old clients send no requestid: pair the error stream (id n) with the data stream (id n+2).
    const requestId = first('requestid') || String(type === 'error' ? id : id - 2);
    const stream: ForwardStream = { id, type, port, requestId, closedLocally: false, reset: false };
    streams.set(id, stream);
    send(encodeSynReply(id, deflater.deflate(encodeHeaderBlock({}))));
    const pair = pairs.get(requestId) ?? {};
    pairs.set(requestId, pair);
    if (pair[type]) {
      send(
        encodeData(
          pair.error?.id ?? id,
          Buffer.from(`error processing stream for request ${requestId}: ${type} stream already assigned`),
        ),
      );
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) startForwarding(pair);
  };

  const onFrame = (frame: SpdyFrame): void => {
    if (frame.kind === 'data') {
      const s = streams.get(frame.streamId);
      if (!s) return;
      const pod = pairs.get(s.requestId)?.pod;
      if (s.type === 'data' && pod) {
        if (frame.data.length > 0) pod.write(frame.data);
        // The client will send no more: half-close towards the pod, as the kubelet does.
        if (frame.flags & FLAG_FIN) pod.end();
      }
      return;
    }
    switch (frame.type) {
      case FRAME.SYN_STREAM:
        onSynStream(frame);
        return;
      case FRAME.RST_STREAM: {
        const s = streams.get(frame.payload.readUInt32BE(0) & 0x7fffffff);
        if (!s) return;
        s.reset = true;
        streams.delete(s.id);
        const pair = pairs.get(s.requestId);
        if (s.type === 'data') {
          pair?.pod?.destroy();
          // kubectl waits on the error stream after resetting the data stream: end it.
          closeStream(pair?.error);
        }
        return;
      }
      case FRAME.PING:
        // Echo: the client's pings (odd ids) keep the tunnel alive.
        send(Buffer.concat([Buffer.from([0x80, 0x03, 0x00, FRAME.PING, 0, 0, 0, 4]), frame.payload.subarray(0, 4)]));
        return;
      case FRAME.GOAWAY:
        shutdown();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do for port-forward.
        return;
    }
  };

  conn.on('data', (chunk: Buffer) => {
    if (closed) return;
    try {
      for (const frame of reader.push(chunk)) onFrame(frame);
    } catch (err) {
      log?.warn({ err }, 'SPDY port-forward: protocol error, sending GOAWAY');
      send(encodeGoAway(lastStreamId, 1));
      shutdown();
    }
  });
  conn.on('end', shutdown);
  conn.on('close', shutdown);
  conn.on('error', shutdown);
}
