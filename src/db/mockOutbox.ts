/**
 * `mock_outbox`: where the mock adapters record their sends, so tests and demos can count them
 * across processes, and a worker restarted after a crash can ask what went out.
 */
import type { Queryable } from './db.ts';

export interface MockOutboxSend {
  channel: string;
  idempotencyKey: string;
  executionId: string;
  recipient: string;
  providerMessageId: string;
  payload: Record<string, unknown>;
  at: Date;
}

export async function findMockSend(db: Queryable, idempotencyKey: string): Promise<{ providerMessageId: string } | undefined> {
  const [row] = await db.query<{ providerMessageId: string }>(
    'select provider_message_id as "providerMessageId" from mock_outbox where idempotency_key = $1 limit 1',
    [idempotencyKey],
  );
  return row;
}

export async function recordMockSend(db: Queryable, send: MockOutboxSend): Promise<void> {
  await db.query(
    `insert into mock_outbox (channel, idempotency_key, execution_id, recipient, provider_message_id, payload, sent_at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [send.channel, send.idempotencyKey, send.executionId, send.recipient, send.providerMessageId, JSON.stringify(send.payload), send.at],
  );
}
