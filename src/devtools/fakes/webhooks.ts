/**
 * Posting webhooks from a fake to the application under test. Bodies go out in the order given,
 * so a test expresses "out of order" by ordering its array; `duplicate` models a provider retry.
 */

export interface EmitOptions {
  /** Post every webhook twice, as a provider does when it missed our 2xx. */
  duplicate?: boolean;
  /** Unix seconds used for signing; default now. A stale value tests the replay window. */
  timestamp?: number;
  /** Extra or overriding headers on every post (e.g. a broken signature). */
  headers?: Record<string, string>;
}

export interface WebhookDelivery {
  /** The receiver's answer. */
  status: number;
  responseBody: string;
  /** What was posted, byte for byte. */
  rawBody: string;
  headers: Record<string, string>;
}

/** One webhook to post; `attempt` is 1 for the first post and 2 for its duplicate. */
export type WebhookBuilder = (attempt: number) => { rawBody: string; headers: Record<string, string> };

export async function postWebhooks(
  url: string,
  builders: readonly WebhookBuilder[],
  options: EmitOptions,
): Promise<WebhookDelivery[]> {
  const deliveries: WebhookDelivery[] = [];
  for (const build of builders) {
    const attempts = options.duplicate ? 2 : 1;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const { rawBody, headers } = build(attempt);
      const allHeaders = { 'content-type': 'application/json', ...headers, ...options.headers };
      const response = await fetch(url, { method: 'POST', headers: allHeaders, body: rawBody });
      deliveries.push({ status: response.status, responseBody: await response.text(), rawBody, headers: allHeaders });
    }
  }
  return deliveries;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
