/**
 * The machinery every fake provider shares: a `node:http` server on 127.0.0.1 with a random
 * port, a log of every request, and fault injection that runs before the provider's own logic.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Node lower-cases header names. */
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON; `undefined` when the body was empty or not JSON (see `jsonError`). */
  body: unknown;
  jsonError?: string;
}

export interface FakeReply {
  status: number;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FaultSpec {
  status: number;
  /** Absent = the provider's usual error body for that status. */
  body?: unknown;
  headers?: Record<string, string>;
  /** How many of the next requests fail this way; default 1. */
  times?: number;
}

type Fault = { kind: 'fail'; reply: FakeReply } | { kind: 'hang' };

export abstract class FakeServer {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const recorded = record(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'));
        this.requests.push(recorded);
        void this.answer(recorded, res);
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** `http://127.0.0.1:PORT`, no trailing slash: what the adapters take as `baseUrl`. */
  get baseUrl(): string {
    if (!this.url) throw new Error(`${this.constructor.name} is not listening; call start() first`);
    return this.url;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected server address');
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  failNext(spec: FaultSpec): void {
    const reply: FakeReply = {
      status: spec.status,
      body: spec.body === undefined ? this.errorBody(spec.status) : spec.body,
      ...(spec.headers ? { headers: spec.headers } : {}),
    };
    for (let i = 0; i < (spec.times ?? 1); i += 1) this.faults.push({ kind: 'fail', reply });
  }

  /** The next requests are read and recorded, then never answered: for client deadlines. */
  hangNext(times = 1): void {
    for (let i = 0; i < times; i += 1) this.faults.push({ kind: 'hang' });
  }

  /** Forget requests, pending faults and provider state, keeping the port and keys. */
  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.resetState();
  }

  lastRequest(): RecordedRequest {
    const last = this.requests.at(-1);
    if (!last) throw new Error(`${this.constructor.name} has received no request`);
    return last;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Hung requests keep their sockets open; without this close() would wait for them forever.
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  protected abstract handle(request: RecordedRequest): FakeReply | Promise<FakeReply>;

  /** The provider's error body for a status, used by failNext without a body. */
  protected abstract errorBody(status: number): unknown;

  protected resetState(): void {}

  private async answer(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const fault = this.faults.shift();
    if (fault?.kind === 'hang') return;
    let reply: FakeReply;
    try {
      reply = fault ? fault.reply : await this.handle(request);
    } catch (error) {
      reply = { status: 500, body: this.errorBody(500) };
      console.error(`${this.constructor.name} handler failed`, error);
    }
    send(res, reply);
  }
}

function record(method: string, url: string, headers: IncomingHttpHeaders, rawBody: string): RecordedRequest {
  const parsed = new URL(url, 'http://fake.invalid');
  const request: RecordedRequest = { method, path: parsed.pathname, query: parsed.searchParams, headers, rawBody, body: undefined };
  if (rawBody.trim() !== '') {
    try {
      request.body = JSON.parse(rawBody);
    } catch (error) {
      request.jsonError = error instanceof Error ? error.message : String(error);
    }
  }
  return request;
}

function send(res: ServerResponse, reply: FakeReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = '';
  if (typeof reply.body === 'string') payload = reply.body;
  else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** `Bearer <token>` → token; anything else → undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return match?.[1]?.trim();
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const E164 = /^\+[1-9]\d{1,14}$/;
