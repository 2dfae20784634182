/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret is `whsec_` + base64
 * of 32 random bytes; a message is signed as `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * by the `standardwebhooks` package. After a rotation the previous secret signs too, until it
 * expires: the header then carries both signatures, space-separated, and a receiver holding
 * either secret verifies the message (the specification allows several signatures).
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface SigningSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The three Standard Webhooks headers of one attempt. */
export function signedHeaders(secrets: SigningSecrets, messageId: string, at: Date, body: string): Record<string, string> {
  const keys = [secrets.secret];
  if (secrets.previousSecret && secrets.previousSecretExpiresAt && secrets.previousSecretExpiresAt.getTime() > at.getTime()) {
    keys.push(secrets.previousSecret);
  }
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': keys.map((key) => new Webhook(key).sign(messageId, at, body)).join(' '),
  };
}
