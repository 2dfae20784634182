/**
 * Correctly signed webhooks whose contents are odd must still be answered 200 (recorded or
 * unmatched), never a 503 that makes the provider retry a batch that can never succeed. Run
 * through the real routes on PGlite and on PostgreSQL, whose uuid parser is the one that objects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { sendgridBody, sendgridEvent } from '../../src/devtools/fakes/sendgridEvents.ts';
import { postmarkEvent } from '../../src/devtools/fakes/postmarkEvents.ts';
import { telnyxEvent } from '../../src/devtools/fakes/telnyxEvents.ts';
import { type LiveKit, startLiveKit } from './liveKit.ts';

const kinds = await databaseKinds();

/** 36 characters that pass a "[0-9a-f-]{36}" test but are no uuid (Postgres: 22P02). */
const NOT_UUIDS = ['-'.repeat(36), 'ffffffff-ffff-ffff-ffff-ffffffffffff-'.slice(0, 35) + 'x', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaa-', 'a'.repeat(36)];

describe.each(kinds)('signed webhooks with ids that are not uuids, on %s', (kind) => {
  let database: TestDatabase;
  let kit: LiveKit;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await startLiveKit({ db: database.db });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  const post = (url: string, raw: string, headers: Record<string, string>) =>
    kit.runtime.app.inject({ method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json', ...headers } });

  test('SendGrid custom_args execution_id → the event is unmatched by id, the batch still 200', async () => {
    const leadId = await kit.addLead({ email: 'dashes-sg@acme.test', firstName: 'Dee' });
    for (const bad of NOT_UUIDS) {
      const raw = sendgridBody([
        sendgridEvent('open', { messageId: `nomsg-${bad}`, email: 'nobody@acme.test', customArgs: { execution_id: bad }, timestamp: kit.seconds() }),
        sendgridEvent('open', { messageId: `nomsg2-${bad}`, email: 'dashes-sg@acme.test', customArgs: { execution_id: bad }, timestamp: kit.seconds() }),
      ]);
      const response = await post('/webhooks/sendgrid', raw, kit.fakes.sendgrid.sign(raw, kit.seconds()));
      expect(response.statusCode, response.body).toBe(200);
      // The stranger is unmatched; the lead's event still lands by address.
      expect(response.json()).toEqual({ received: 2, recorded: 1, duplicate: 0, unmatched: 1 });
    }
    expect((await kit.events(leadId)).filter((e) => e.type === 'email.opened')).toHaveLength(NOT_UUIDS.length);
  });

  test('Postmark Metadata execution_id → 200', async () => {
    for (const bad of NOT_UUIDS) {
      const raw = JSON.stringify(postmarkEvent('Open', { messageId: `pm-${bad}`, recipient: 'nobody@acme.test', metadata: { execution_id: bad } }));
      const response = await post('/webhooks/postmark', raw, kit.fakes.postmark.sign());
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ received: 1, unmatched: 1 });
    }
  });

  test('Telnyx client_state executionId (messaging and Call Control) → 200', async () => {
    for (const bad of NOT_UUIDS) {
      const clientState = Buffer.from(JSON.stringify({ executionId: bad, enrollmentId: bad, workspaceId: bad })).toString('base64');
      for (const event of [
        telnyxEvent('call.hangup', { call_control_id: 'v3:x', client_state: clientState, hangup_cause: 'normal_clearing' }),
        telnyxEvent('call.machine.detection.ended', { call_control_id: 'v3:x', client_state: clientState, result: 'human' }),
      ]) {
        const raw = JSON.stringify(kit.stamp(event));
        const response = await post('/webhooks/telnyx', raw, kit.fakes.telnyx.sign(raw, kit.seconds()));
        expect(response.statusCode, response.body).toBe(200);
      }
    }
  });
});

describe.each(kinds)('signed webhooks with text PostgreSQL cannot store, on %s', (kind) => {
  let database: TestDatabase;
  let kit: LiveKit;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await startLiveKit({ db: database.db });
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  // NUL is refused in text and jsonb (22021/22P05), a lone surrogate in jsonb: a signed event
  // carrying either would be answered 503 on every retry. They are replaced, the rest kept.
  test.each([
    ['a NUL', 'a\u0000b'],
    ['a lone surrogate', 'a\ud800b'],
  ])('%s in ids and data → recorded, 200', async (_name, odd) => {
    const leadId = await kit.addLead({ email: `odd${odd.length}${_name.length}@acme.test`, firstName: 'Odd' });
    const [lead] = await kit.db.query<{ email: string }>('select email from leads where id = $1', [leadId]);
    const raw = sendgridBody([
      sendgridEvent('click', { messageId: `m${odd}`, email: lead!.email, url: `https://us.test/${odd}`, timestamp: kit.seconds(), extra: { sg_event_id: `ev${odd}${_name}` } }),
    ]);
    const response = await post(kit, '/webhooks/sendgrid', raw, kit.fakes.sendgrid.sign(raw, kit.seconds()));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ recorded: 1 });
  });
});

function post(kit: LiveKit, url: string, raw: string, headers: Record<string, string>) {
  return kit.runtime.app.inject({ method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json', ...headers } });
}
