// A recording fake of Slack's Web API and Socket Mode, on a real HTTP server on 127.0.0.1. Bolt
// reaches it through `slackApiUrl: fake.apiUrl`. It records every call and answers the way Slack
// does, including its errors (not_in_channel, invalid_blocks), so tests can go through Bolt itself.
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** The token the call carried (Authorization header or `token` argument). */
  token?: string;
  at: number;
  /** The HTTP status the fake answered (200, or a fault's / rate limit's). */
  status: number;
}

export interface RecordedUpload {
  fileId: string;
  filename?: string;
  content: string;
  /** The uploaded bytes as sent (content is them read as UTF-8, which a PNG does not survive). */
  bytes: Buffer;
  at: number;
}

export interface RecordedResponse {
  url: string;
  body: Record<string, unknown>;
  at: number;
  /** The HTTP status the fake answered: `responses()` holds the 200s, `responseAttempts()` all. */
  status: number;
}

export interface SocketAck {
  envelopeId: string;
  payload: unknown;
  at: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  updates: number;
  /** Every state the message had, in the order Slack applied them: the post, then each chat.update. */
  history: Array<{ text?: string; blocks?: unknown[]; at: number }>;
}

/**
 * A fault window: matching calls are answered with `status` instead of being served, for the next
 * `calls` of them, or for `forMs` from now (both: whichever ends first; neither: until cleared).
 */
export interface FaultRule {
  /** A Web API method ('chat.update'), '*' for every Web API method, or 'response_url' for posts to response URLs. */
  method: string;
  /** 429 (with Retry-After), a 5xx, or (response URLs) any other error status. */
  status: number;
  /** 429 only: the Retry-After header, in seconds (default 1). */
  retryAfterSeconds?: number;
  calls?: number;
  forMs?: number;
}

export interface Fault {
  /** Calls answered by this fault so far. */
  readonly hits: number;
  readonly active: boolean;
  clear(): void;
}

export interface SlackFakeOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** users.info answers; other ids get a made-up user named after the id. */
  users?: Record<string, { name: string; real_name?: string; is_bot?: boolean }>;
  /** usergroups.users.list answers: group id → member ids. */
  usergroups?: Record<string, string[]>;
  /** Channels meshops has not joined: chat.postMessage answers not_in_channel there. */
  notInChannel?: string[];
}

export type EnvelopeType = 'slash_commands' | 'events_api' | 'interactive';

export interface SlackFake {
  /** Ends with /api/, as WebClient's slackApiUrl expects. */
  readonly apiUrl: string;
  readonly baseUrl: string;
  calls(method?: string): RecordedCall[];
  readonly uploads: RecordedUpload[];
  responses(url?: string): RecordedResponse[];
  /** A fresh response_url on the fake; POSTs to it are recorded. */
  responseUrl(): string;
  messages(channel?: string): FakeMessage[];
  readonly notInChannel: Set<string>;
  /** The next call of `method` answers `{ ok: false, error }`. */
  failNext(method: string, error: string): void;
  /** The next call of `method` answers HTTP 429 with Retry-After. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  /** Opens a fault window (429 with Retry-After, or 5xx) for a method, every method, or response URLs. */
  fault(rule: FaultRule): Fault;
  /** Closes every fault window. */
  clearFaults(): void;
  /** Every post to a response URL, the refused ones included. */
  responseAttempts(url?: string): RecordedResponse[];
  /** Waits until `predicate` returns something truthy, and returns it. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** Forgets recorded calls, uploads and responses (not configuration). */
  clear(): void;
  readonly socket: SocketModeFake;
  close(): Promise<void>;
}

export interface SocketModeFake {
  /** Connections ever opened (a reconnect adds one). */
  readonly connectionCount: number;
  readonly openConnections: number;
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Sends an envelope on the newest open connection (or the one at `connection`, oldest first); returns its envelope_id. */
  send(
    type: EnvelopeType,
    payload: unknown,
    options?: { envelopeId?: string; retryAttempt?: number; retryReason?: string; connection?: number },
  ): string;
  /** Sends a message exactly as given (malformed envelopes, other envelope types) on the newest open connection. */
  sendRaw(text: string): void;
  readonly acks: SocketAck[];
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketAck>;
  /** 'refresh': Slack's polite `disconnect` message; 'drop': the TCP connection just dies. */
  disconnect(how?: 'refresh' | 'drop'): void;
}

const LIMITS = { blocks: 50, sectionText: 3000, text: 40_000 };

export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const botUserId = options.botUserId ?? 'UBOT0001';
  const botId = options.botId ?? 'BBOT0001';
  const teamId = options.teamId ?? 'T0000001';
  const calls: RecordedCall[] = [];
  const uploads: RecordedUpload[] = [];
  const responses: RecordedResponse[] = [];
  const acks: SocketAck[] = [];
  const messages = new Map<string, FakeMessage>();
  const notInChannel = new Set(options.notInChannel ?? []);
  const failures = new Map<string, string[]>();
  const rateLimits = new Map<string, number[]>();
  const pendingUploads = new Map<string, { filename?: string; length?: number }>();
  type ActiveFault = FaultRule & { remaining: number; until: number; hits: number; cleared: boolean };
  const faults: ActiveFault[] = [];
  const isActive = (f: ActiveFault, now: number) => !f.cleared && f.remaining > 0 && now < f.until;
  /** The first open window for `method`, counted as hit; undefined when the call is to be served. */
  const takeFault = (method: string): ActiveFault | undefined => {
    const now = Date.now();
    const f = faults.find(
      (x) => isActive(x, now) && (x.method === method || (x.method === '*' && method !== 'response_url')),
    );
    if (!f) return undefined;
    f.remaining--;
    f.hits++;
    return f;
  };
  const answerFault = (res: ServerResponse, f: ActiveFault) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (f.status === 429) headers['retry-after'] = String(f.retryAfterSeconds ?? 1);
    res.writeHead(f.status, headers);
    res.end(
      JSON.stringify({
        ok: false,
        error: f.status === 429 ? 'ratelimited' : f.status >= 500 ? 'internal_error' : 'invalid_request',
      }),
    );
  };
  let tsCounter = 0;
  let idCounter = 0;
  const nextTs = () =>
    `${1_700_000_000 + Math.floor(tsCounter / 1000)}.${String(100 + (tsCounter++ % 1000)).padStart(6, '0')}`;
  const nextId = (prefix: string) => `${prefix}${String(++idCounter).padStart(8, '0')}`;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets: WebSocket[] = [];
  let connectionCount = 0;
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/link/')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      connectionCount++;
      sockets.push(ws);
      ws.on('message', (data) => {
        try {
          const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
          if (typeof msg.envelope_id === 'string')
            acks.push({ envelopeId: msg.envelope_id, payload: msg.payload, at: Date.now() });
        } catch {
          // Not JSON: Slack would ignore it too.
        }
      });
      ws.on('close', () => sockets.splice(sockets.indexOf(ws), 1));
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: sockets.length,
          debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0000001' },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    if (url.pathname.startsWith('/response/')) {
      const body = contentType.includes('json')
        ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>)
        : { raw: raw.toString('utf8') };
      const fault = takeFault('response_url');
      responses.push({ url: `${baseUrl}${url.pathname}`, body, at: Date.now(), status: fault?.status ?? 200 });
      if (fault) return answerFault(res, fault);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (url.pathname.startsWith('/upload/')) {
      const fileId = url.pathname.slice('/upload/'.length);
      const pending = pendingUploads.get(fileId);
      if (!pending) {
        res.writeHead(404);
        res.end('unknown upload');
        return;
      }
      let content = raw.toString('utf8');
      let bytes: Buffer = raw;
      if (contentType.startsWith('multipart/form-data')) {
        // Node's fetch Request parses multipart the way a server framework would.
        const form = await new Request(baseUrl, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: raw,
        }).formData();
        const part = [...form.values()][0];
        content = typeof part === 'string' ? part : part ? await part.text() : '';
        bytes =
          typeof part === 'string' ? Buffer.from(part) : part ? Buffer.from(await part.arrayBuffer()) : Buffer.alloc(0);
      }
      uploads.push({ fileId, filename: pending.filename, content, bytes, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      res.writeHead(404);
      res.end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const args = parseArgs(raw, contentType, url.searchParams);
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    delete args.token;
    const call: RecordedCall = { method, args, token, at: Date.now(), status: 200 };
    calls.push(call);
    const fault = takeFault(method);
    if (fault) {
      call.status = fault.status;
      answerFault(res, fault);
      return;
    }
    const limited = rateLimits.get(method)?.shift();
    if (limited !== undefined) {
      call.status = 429;
      res.writeHead(429, { 'retry-after': String(limited), 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    const answer = respond(method, args, token);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer));
  }

  function respond(method: string, args: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    const queued = failures.get(method);
    if (queued?.length) return { ok: false, error: queued.shift() };
    if (method === 'apps.connections.open') {
      if (!token?.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
      return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${randomBytes(8).toString('hex')}&app_id=A0000001` };
    }
    if (!token) return { ok: false, error: 'not_authed' };
    if (!token.startsWith('xoxb-')) return { ok: false, error: 'invalid_auth' };
    const channel =
      typeof args.channel === 'string'
        ? args.channel
        : typeof args.channel_id === 'string'
          ? args.channel_id
          : undefined;
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'meshops',
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        const invalid = checkMessage(args);
        if (invalid) return invalid;
        const ts = nextTs();
        const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
        const message: FakeMessage = {
          channel,
          ts,
          threadTs,
          text: args.text as string | undefined,
          blocks: args.blocks as unknown[] | undefined,
          updates: 0,
          history: [],
        };
        message.history.push({ text: message.text, blocks: message.blocks, at: Date.now() });
        messages.set(`${channel}/${ts}`, message);
        return {
          ok: true,
          channel,
          ts,
          message: {
            type: 'message',
            user: botUserId,
            bot_id: botId,
            text: message.text,
            blocks: message.blocks,
            ts,
            ...(threadTs ? { thread_ts: threadTs } : {}),
          },
        };
      }
      case 'chat.update': {
        const existing = channel && typeof args.ts === 'string' ? messages.get(`${channel}/${args.ts}`) : undefined;
        if (!existing) return { ok: false, error: 'message_not_found' };
        const invalid = checkMessage(args);
        if (invalid) return invalid;
        existing.text = args.text as string | undefined;
        existing.blocks = args.blocks as unknown[] | undefined;
        existing.updates++;
        existing.history.push({ text: existing.text, blocks: existing.blocks, at: Date.now() });
        return {
          ok: true,
          channel,
          ts: existing.ts,
          text: existing.text,
          message: { text: existing.text, blocks: existing.blocks },
        };
      }
      case 'chat.postEphemeral': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        if (typeof args.user !== 'string') return { ok: false, error: 'user_not_in_channel' };
        const invalid = checkMessage(args);
        if (invalid) return invalid;
        return { ok: true, message_ts: nextTs() };
      }
      case 'files.getUploadURLExternal': {
        if (typeof args.filename !== 'string' || args.length === undefined)
          return { ok: false, error: 'invalid_arguments' };
        const fileId = nextId('F');
        pendingUploads.set(fileId, { filename: args.filename, length: Number(args.length) });
        return { ok: true, upload_url: `${baseUrl}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal': {
        const files = args.files as Array<{ id: string; title?: string }> | undefined;
        if (!Array.isArray(files) || files.length === 0) return { ok: false, error: 'invalid_arguments' };
        if (channel && notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        for (const f of files)
          if (!uploads.some((u) => u.fileId === f.id)) return { ok: false, error: 'file_not_found' };
        return {
          ok: true,
          files: files.map((f) => ({ id: f.id, title: f.title, name: pendingUploads.get(f.id)?.filename })),
        };
      }
      case 'views.open':
      case 'views.update':
      case 'views.publish': {
        if (method === 'views.open' && typeof args.trigger_id !== 'string')
          return { ok: false, error: 'invalid_arguments' };
        const view = args.view as Record<string, unknown> | undefined;
        if (!view) return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: typeof args.view_id === 'string' ? args.view_id : nextId('V'), ...view } };
      }
      case 'users.info': {
        const id = String(args.user ?? '');
        if (!/^[UW][A-Z0-9]+$/.test(id)) return { ok: false, error: 'user_not_found' };
        const known = options.users?.[id];
        return {
          ok: true,
          user: {
            id,
            team_id: teamId,
            name: known?.name ?? id.toLowerCase(),
            real_name: known?.real_name ?? known?.name ?? id,
            is_bot: known?.is_bot ?? false,
          },
        };
      }
      case 'usergroups.users.list': {
        const members = options.usergroups?.[String(args.usergroup ?? '')];
        if (!members) return { ok: false, error: 'no_such_subteam' };
        return { ok: true, users: members };
      }
      case 'conversations.info':
        if (!channel) return { ok: false, error: 'channel_not_found' };
        return {
          ok: true,
          channel: { id: channel, name: channel.toLowerCase(), is_member: !notInChannel.has(channel) },
        };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  async function waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const socket: SocketModeFake = {
    get connectionCount() {
      return connectionCount;
    },
    get openConnections() {
      return sockets.length;
    },
    async waitForConnections(count, timeoutMs = 10_000) {
      await waitFor(() => connectionCount >= count && sockets.length > 0, timeoutMs);
    },
    send(type, payload, opts = {}) {
      const ws = sockets[opts.connection ?? sockets.length - 1];
      if (!ws) throw new Error('no Socket Mode connection is open');
      const envelopeId = opts.envelopeId ?? randomBytes(12).toString('hex');
      const envelope: Record<string, unknown> = {
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
      };
      if (type === 'events_api')
        Object.assign(envelope, { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? '' });
      ws.send(JSON.stringify(envelope));
      return envelopeId;
    },
    sendRaw(text) {
      const ws = sockets[sockets.length - 1];
      if (!ws) throw new Error('no Socket Mode connection is open');
      ws.send(text);
    },
    acks,
    waitForAck(envelopeId, timeoutMs = 5000) {
      return waitFor(() => acks.find((a) => a.envelopeId === envelopeId), timeoutMs);
    },
    disconnect(how = 'refresh') {
      for (const ws of [...sockets]) {
        if (how === 'refresh')
          ws.send(
            JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'fake-slack' } }),
          );
        else ws.terminate();
      }
    },
  };

  return {
    apiUrl: `${baseUrl}/api/`,
    baseUrl,
    calls: (method) => (method ? calls.filter((c) => c.method === method) : [...calls]),
    uploads,
    responses: (url) => responses.filter((r) => r.status === 200 && (!url || r.url === url)),
    responseAttempts: (url) => (url ? responses.filter((r) => r.url === url) : [...responses]),
    responseUrl: () => `${baseUrl}/response/${nextId('R')}`,
    messages: (channel) => [...messages.values()].filter((m) => !channel || m.channel === channel),
    notInChannel,
    failNext(method, error) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    rateLimitNext(method, retryAfterSeconds) {
      rateLimits.set(method, [...(rateLimits.get(method) ?? []), retryAfterSeconds]);
    },
    fault(rule) {
      if (!(rule.status >= 400 && rule.status <= 599))
        throw new Error(`fault: status ${rule.status} is not an error status`);
      const f: ActiveFault = {
        ...rule,
        remaining: rule.calls ?? Number.POSITIVE_INFINITY,
        until: rule.forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + rule.forMs,
        hits: 0,
        cleared: false,
      };
      faults.push(f);
      return {
        get hits() {
          return f.hits;
        },
        get active() {
          return isActive(f, Date.now());
        },
        clear() {
          f.cleared = true;
        },
      };
    },
    clearFaults() {
      for (const f of faults) f.cleared = true;
      faults.length = 0;
    },
    waitFor,
    clear() {
      calls.length = 0;
      uploads.length = 0;
      responses.length = 0;
      acks.length = 0;
    },
    socket,
    async close() {
      for (const ws of [...sockets]) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Slack refuses messages over its limits; so does the fake, so a test sees what production would. */
function checkMessage(args: Record<string, unknown>): Record<string, unknown> | undefined {
  const text = typeof args.text === 'string' ? args.text : '';
  const blocks = Array.isArray(args.blocks) ? (args.blocks as Array<Record<string, unknown>>) : undefined;
  if (!text && !blocks?.length) return { ok: false, error: 'no_text' };
  if (text.length > LIMITS.text) return { ok: false, error: 'msg_too_long' };
  if (blocks) {
    if (blocks.length > LIMITS.blocks)
      return {
        ok: false,
        error: 'invalid_blocks',
        errors: [`must provide an array with no more than ${LIMITS.blocks} items [json-pointer:/blocks]`],
      };
    for (const [i, b] of blocks.entries()) {
      const t = (b.text as { text?: string } | undefined)?.text;
      if (b.type === 'section' && typeof t === 'string' && t.length > LIMITS.sectionText)
        return {
          ok: false,
          error: 'invalid_blocks',
          errors: [`must be less than ${LIMITS.sectionText + 1} characters [json-pointer:/blocks/${i}/text]`],
        };
    }
  }
  return undefined;
}

function parseArgs(raw: Buffer, contentType: string, query: URLSearchParams): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of query) args[k] = v;
  const text = raw.toString('utf8');
  if (contentType.includes('application/json'))
    return { ...args, ...(text ? (JSON.parse(text) as Record<string, unknown>) : {}) };
  for (const [k, v] of new URLSearchParams(text)) args[k] = decodeJson(v);
  return args;
}

/** The WebClient sends objects (blocks, files) as JSON strings inside the form. */
function decodeJson(value: string): unknown {
  if (!/^[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
