/**
 * One webhook POST: resolve and check the host (addresses.ts), connect to the checked address
 * (never re-resolving), send the JSON, and read the status and the first KiB of the answer,
 * all within `timeoutMs`. Redirects are not followed (a 3xx counts as the answer). The result
 * is a value, never a throw: the deliverer decides what it means (policy.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { PrivateAddressError, resolveChecked, UnresolvableHostError, type ResolvedAddress } from './addresses.ts';

/** How much of a receiver's answer the delivery log keeps. */
export const RESPONSE_BYTES_KEPT = 1024;

export type PostResult =
  | { kind: 'answered'; status: number; body: string; retryAfter: string | null; latencyMs: number }
  | { kind: 'unreachable'; error: string; refused: boolean; latencyMs: number };

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

export async function postWebhook(options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(options.url);
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolveChecked(url.hostname, options.allowPrivate);
  } catch (error) {
    const refused = error instanceof PrivateAddressError;
    const message = refused || error instanceof UnresolvableHostError ? (error as Error).message : String(error);
    return { kind: 'unreachable', error: message, refused, latencyMs: elapsed() };
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = transport.request(
      url,
      {
        method: 'POST',
        lookup: pinnedLookup(addresses),
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(options.body)),
          'user-agent': 'Touchpoint-Webhooks/1',
        },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const finish = () => {
          settle({
            kind: 'answered',
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).subarray(0, RESPONSE_BYTES_KEPT).toString('utf8'),
            retryAfter: typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : null,
            latencyMs: elapsed(),
          });
          response.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_BYTES_KEPT) chunks.push(chunk);
          kept += chunk.length;
          // Enough kept: the rest of a large answer is not worth waiting for.
          if (kept >= RESPONSE_BYTES_KEPT) finish();
        });
        response.on('end', finish);
        response.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'unreachable', error: `no answer within ${options.timeoutMs} ms`, refused: false, latencyMs: elapsed() });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      settle({ kind: 'unreachable', error: error.code ? `${error.code}: ${error.message}` : error.message, refused: false, latencyMs: elapsed() });
    });
    request.end(options.body);
  });
}
