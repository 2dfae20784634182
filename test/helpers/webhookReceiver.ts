/**
 * A real HTTP receiver on 127.0.0.1 for outbound webhook tests and benchmarks: it verifies every
 * post with the `standardwebhooks` package (against any of the secrets it is given), records
 * what it acknowledged, and answers what the test scripts (`respond`), 200 by default.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, any> };
  /** Which of the secrets verified it (index), or -1 when none did. */
  verifiedWith: number;
  status: number;
}

export interface Receiver {
  url: string;
  /** Every post, in arrival order, with the answer it got. */
  posts: Received[];
  /** Posts that verified and were answered 2xx. */
  acknowledged(): Received[];
  secrets: string[];
  /** Decides each answer (status, and optional headers); default 200. `hang`: never answer. */
  respond: (post: Received, headers: IncomingHttpHeaders) => number | 'hang' | { status: number; headers?: Record<string, string>; body?: string };
  close(): Promise<void>;
}

export async function startReceiver(options: { verifySignatures?: boolean } = {}): Promise<Receiver> {
  const verify = options.verifySignatures ?? true;
  const receiver: Receiver = {
    url: '',
    posts: [],
    secrets: [],
    respond: () => 200,
    acknowledged: () => receiver.posts.filter((p) => (p.verifiedWith >= 0 || !verify) && p.status >= 200 && p.status < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      };
      const verifiedWith = verify
        ? receiver.secrets.findIndex((secret) => {
            try {
              new Webhook(secret).verify(body, headers);
              return true;
            } catch {
              return false;
            }
          })
        : -1;
      const post: Received = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        payload: JSON.parse(body),
        verifiedWith,
        status: 0,
      };
      const answer = verify && verifiedWith < 0 ? { status: 401 } : receiver.respond(post, request.headers);
      if (answer === 'hang') {
        receiver.posts.push(post);
        return;
      }
      const { status, headers: extra, body: text } = typeof answer === 'number' ? { status: answer, headers: undefined, body: undefined } : answer;
      post.status = status;
      receiver.posts.push(post);
      response.writeHead(status, { 'content-type': 'text/plain', ...extra });
      response.end(text ?? (status < 300 ? 'ok' : `status ${status}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
