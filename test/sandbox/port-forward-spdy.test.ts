// The SPDY/3.1 pieces behind kubectl port-forward, driven by a scripted client that compresses its
// headers the way Go's spdystream does (one zlib stream with the SPDY/3 dictionary, sync-flushed).
import { duplexPair, type Duplex } from 'node:stream';
import { constants as zc, createDeflate, type Deflate } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { PodEndpoints, connectionRefused } from '../../src/sandbox/pod-endpoints.ts';
import { IstiodSim } from '../../src/sandbox/istiod-sim.ts';
import {
  adler32,
  decodeHeaderBlock,
  encodeData,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynStream,
  FLAG_FIN,
  FRAME,
  HeaderDeflater,
  HeaderInflater,
  SPDY3_DICTIONARY,
  SpdyFrameReader,
  type SpdyFrame,
} from '../../src/sandbox/spdy-framer.ts';
import { serveSpdyPortForward } from '../../src/sandbox/spdy-port-forward.ts';

function goLikeCompressor(): { deflate: Deflate; compress(block: Buffer): Promise<Buffer> } {
  const deflate = createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  return {
    deflate,
    compress: (block) =>
      new Promise((resolve) => {
        const out: Buffer[] = [];
        const onData = (c: Buffer) => out.push(c);
        deflate.on('data', onData);
        deflate.write(block);
        deflate.flush(zc.Z_SYNC_FLUSH, () => {
          // Data events for this flush have fired by the time the next tick runs.
          setImmediate(() => {
            deflate.off('data', onData);
            resolve(Buffer.concat(out));
          });
        });
      }),
  };
}

describe('SPDY/3 header compression', () => {
  it('has the 1423-byte SPDY/3 dictionary and a correct Adler-32', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(SPDY3_DICTIONARY.subarray(0, 11)).toEqual(Buffer.from('\0\0\0\x07options', 'latin1'));
    expect(SPDY3_DICTIONARY.subarray(-6).toString('latin1')).toBe('enq=0.');
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
  });

  it('inflates consecutive header blocks of one sync-flushed zlib stream (as Go writes them)', async () => {
    const c = goLikeCompressor();
    const inflater = new HeaderInflater();
    const blocks = [
      { streamtype: 'error', port: '15014', requestid: '0' },
      { streamtype: 'data', port: '15014', requestid: '0' },
      { streamtype: 'error', port: '8080', requestid: '1' },
    ];
    for (const h of blocks) {
      const decoded = decodeHeaderBlock(inflater.inflate(await c.compress(encodeHeaderBlock(h))));
      expect(Object.fromEntries([...decoded].map(([k, v]) => [k, v.join(',')]))).toEqual(h);
    }
    c.deflate.close();
  });

  it('our stored-block header blocks decode with a real inflater, block after block', () => {
    const deflater = new HeaderDeflater();
    const inflater = new HeaderInflater();
    const blocks: Record<string, string>[] = [{}, { a: 'b' }, { 'x-long': 'y'.repeat(70_000) }];
    for (const h of blocks) {
      expect(decodeHeaderBlock(inflater.inflate(deflater.deflate(encodeHeaderBlock(h))))).toEqual(
        new Map(Object.entries(h).map(([k, v]) => [k, [v]])),
      );
    }
  });

  it('keeps multi-valued headers apart (NUL-joined on the wire)', () => {
    expect(decodeHeaderBlock(encodeHeaderBlock({ Port: ['1', '2'] }))).toEqual(new Map([['port', ['1', '2']]]));
  });
});

describe('SpdyFrameReader', () => {
  it('reassembles frames that arrive a byte at a time', () => {
    const wire = Buffer.concat([encodePing(7), encodeData(3, Buffer.from('hello'), true), encodeRstStream(3, 5)]);
    const reader = new SpdyFrameReader();
    const frames: SpdyFrame[] = [];
    for (const byte of wire) frames.push(...reader.push(Buffer.from([byte])));
    expect(
      frames.map((f) =>
        f.kind === 'data' ? ['data', f.streamId, f.flags, f.data.toString()] : ['control', f.type, f.payload.length],
      ),
    ).toEqual([
      ['control', FRAME.PING, 4],
      ['data', 3, FLAG_FIN, 'hello'],
      ['control', FRAME.RST_STREAM, 8],
    ]);
  });

  it('refuses a frame larger than its limit', () => {
    const reader = new SpdyFrameReader(16);
    expect(() => reader.push(encodeData(1, Buffer.alloc(17)))).toThrow(/exceeds/);
  });
});

/** A scripted SPDY client on one end of a duplex pair; the server under test holds the other end. */
class ScriptedClient {
  readonly frames: SpdyFrame[] = [];
  private readonly reader = new SpdyFrameReader();
  private readonly inflater = new HeaderInflater();
  private readonly compressor = goLikeCompressor();
  private waiters: (() => void)[] = [];
  readonly conn: Duplex;

  constructor(conn: Duplex) {
    this.conn = conn;
    conn.on('data', (c: Buffer) => {
      this.frames.push(...this.reader.push(c));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async open(id: number, headers: Record<string, string>): Promise<void> {
    this.conn.write(encodeSynStream(id, await this.compressor.compress(encodeHeaderBlock(headers))));
  }

  async until(pred: (frames: SpdyFrame[]) => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.frames)) {
      if (Date.now() > deadline)
        throw new Error(`timed out; frames: ${JSON.stringify(this.frames.map(describeFrame))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  replyHeaders(id: number): Map<string, string[]> | undefined {
    for (const f of this.frames) {
      if (f.kind === 'control' && f.type === FRAME.SYN_REPLY && f.payload.readUInt32BE(0) === id)
        return decodeHeaderBlock(this.inflater.inflate(f.payload.subarray(4)));
    }
    return undefined;
  }

  dataOf(id: number): { text: string; fin: boolean } {
    const mine = this.frames.filter(
      (f): f is Extract<SpdyFrame, { kind: 'data' }> => f.kind === 'data' && f.streamId === id,
    );
    return {
      text: Buffer.concat(mine.map((f) => f.data)).toString('utf8'),
      fin: mine.some((f) => (f.flags & FLAG_FIN) !== 0),
    };
  }

  close(): void {
    this.compressor.deflate.close();
    this.conn.destroy();
  }
}

function describeFrame(f: SpdyFrame) {
  return f.kind === 'data'
    ? { data: f.streamId, flags: f.flags, len: f.data.length }
    : { control: f.type, flags: f.flags };
}

function serve(): { client: ScriptedClient; endpoints: PodEndpoints } {
  const endpoints = new PodEndpoints();
  const sim = new IstiodSim({ podName: 'istiod-0' });
  sim.connect('reviews-v1-x.bookinfo');
  sim.registerOn(endpoints);
  const [clientSide, serverSide] = duplexPair();
  serveSpdyPortForward(
    serverSide,
    (port) => endpoints.dial('istio-system', 'istiod-0', port),
    (port) => connectionRefused('istio-system', 'istiod-0', port),
  );
  return { client: new ScriptedClient(clientSide), endpoints };
}

describe('serveSpdyPortForward', () => {
  it('pairs the error and data streams by requestid, replies to both, and carries HTTP to the pod as localhost', async () => {
    const { client } = serve();
    await client.open(1, { streamtype: 'error', port: '15014', requestid: '0' });
    client.conn.write(encodeData(1, Buffer.alloc(0), true)); // kubectl closes its side of the error stream at once
    await client.open(3, { streamtype: 'data', port: '15014', requestid: '0' });
    await client.until((fs) => fs.filter((f) => f.kind === 'control' && f.type === FRAME.SYN_REPLY).length === 2);
    expect(client.replyHeaders(1)).toEqual(new Map());
    expect(client.replyHeaders(3)).toEqual(new Map());
    client.conn.write(
      encodeData(3, Buffer.from('GET /debug/syncz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')),
    );
    await client.until(() => client.dataOf(3).fin && client.dataOf(1).fin);
    expect(client.dataOf(3).text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*"proxy":"reviews-v1-x\.bookinfo"/);
    expect(client.dataOf(1)).toEqual({ text: '', fin: true });
    client.close();
  });

  it('writes the refusal on the error stream, then ends both streams, when nothing listens', async () => {
    const { client } = serve();
    await client.open(1, { streamtype: 'error', port: '9999', requestid: '4' });
    await client.open(3, { streamtype: 'data', port: '9999', requestid: '4' });
    await client.until(() => client.dataOf(1).fin && client.dataOf(3).fin);
    expect(client.dataOf(1).text).toMatch(/dial tcp 127\.0\.0\.1:9999: connect: connection refused/);
    client.close();
  });

  it('pairs streams of an old client without requestid by stream id (n and n+2)', async () => {
    const { client } = serve();
    await client.open(5, { streamtype: 'error', port: '9999' });
    await client.open(7, { streamtype: 'data', port: '9999' });
    await client.until(() => client.dataOf(5).fin);
    expect(client.dataOf(5).text).toMatch(/connection refused/);
    client.close();
  });

  it('ends the error stream when the client resets the data stream, as kubectl does when done', async () => {
    const { client } = serve();
    await client.open(1, { streamtype: 'error', port: '15014', requestid: '0' });
    await client.open(3, { streamtype: 'data', port: '15014', requestid: '0' });
    await client.until((fs) => fs.filter((f) => f.kind === 'control' && f.type === FRAME.SYN_REPLY).length === 2);
    client.conn.write(encodeRstStream(3, 5));
    await client.until(() => client.dataOf(1).fin);
    expect(client.dataOf(1).text).toBe('');
    client.close();
  });

  it('refuses a stream without a valid port or stream type, and echoes pings', async () => {
    const { client } = serve();
    await client.open(1, { streamtype: 'data', port: 'http' });
    client.conn.write(encodePing(9));
    await client.until((fs) => fs.some((f) => f.kind === 'control' && f.type === FRAME.PING));
    const rst = client.frames.find((f) => f.kind === 'control' && f.type === FRAME.RST_STREAM);
    expect(rst && rst.kind === 'control' ? [rst.payload.readUInt32BE(0), rst.payload.readUInt32BE(4)] : []).toEqual([
      1, 3,
    ]);
    const ping = client.frames.find((f) => f.kind === 'control' && f.type === FRAME.PING);
    expect(ping && ping.kind === 'control' ? ping.payload.readUInt32BE(0) : 0).toBe(9);
    client.close();
  });
});
