/**
 * The tasks inbox answers what a person needs to do the task: its title and description rendered
 * for the lead (a field the lead lacks prints empty or its default, never the raw template), the
 * lead's phone, email, zone and title, and who enrolled the lead. On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createApiKit, OPEN_ALL_DAY, type ApiKit } from './apiKit.ts';

const kinds = await databaseKinds();

const callSequence = {
  name: 'Call them',
  ...OPEN_ALL_DAY,
  steps: [
    {
      id: 'call',
      type: 'task',
      title: 'Call {{ lead.firstName | default: "the lead" }} at {{ lead.company }}',
      description: 'Deal size {{ lead.custom.deal }}. {% if lead.title %}Ask the {{ lead.title }} about budget.{% endif %}',
      outcomes: ['connected', 'no_answer'],
    },
    { id: 'done', type: 'end' },
  ],
};

describe.each(kinds)('the tasks inbox on %s', (kind) => {
  let database: TestDatabase;
  let kit: ApiKit;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    kit = await createApiKit(database.db);
  });
  afterAll(async () => {
    await kit?.close();
    await database?.close();
  });

  it('renders task titles and descriptions for each lead and carries the contact details', async () => {
    const token = kit.tokens.admin;
    const ada = await kit.call('POST', '/api/leads', {
      token,
      body: { email: 'ada@acme.test', phone: '+14155550101', firstName: 'Ada', company: 'Acme', title: 'CFO', timezone: 'America/Los_Angeles', customFields: { deal: '10k' } },
    });
    const anon = await kit.call('POST', '/api/leads', { token, body: { email: 'anon@acme.test' } });
    const sequence = await kit.call('POST', '/api/sequences', { token, body: callSequence });
    await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { token, body: { status: 'active' } });
    const enrolled = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { token, body: { leadIds: [ada.body.id, anon.body.id] } });
    expect(enrolled.body.enrolled).toHaveLength(2);
    kit.clock.advance(1000);
    await kit.runtime.engine.dispatcher.drain();

    const inbox = await kit.call('GET', '/api/tasks', { token: kit.tokens.viewer });
    expect(inbox.status).toBe(200);
    const byLead = (id: string) => inbox.body.items.find((t: { lead: { id: string } }) => t.lead.id === id);
    expect(byLead(ada.body.id)).toMatchObject({
      waitingFor: 'task',
      currentStep: { id: 'call', title: 'Call Ada at Acme', description: 'Deal size 10k. Ask the CFO about budget.', outcomes: ['connected', 'no_answer'] },
      lead: { phone: '+14155550101', email: 'ada@acme.test', timezone: 'America/Los_Angeles', title: 'CFO' },
      enrolledBy: expect.stringContaining('admin'),
    });
    expect(byLead(ada.body.id).lead.customFields).toBeUndefined();
    expect(byLead(anon.body.id).currentStep).toMatchObject({ title: 'Call the lead at', description: 'Deal size .' });

    // The outcome reads on the timeline as what was recorded, the note and who recorded it.
    const recorded = await kit.call('POST', `/api/sequences/enrollments/${byLead(ada.body.id).id}/outcomes`, {
      token: kit.tokens.operator,
      body: { outcome: 'connected', note: 'Demo on Tuesday' },
    });
    expect(recorded.status).toBe(200);
    const timeline = await kit.call('GET', `/api/leads/${ada.body.id}/timeline?kind=event`, { token: kit.tokens.viewer });
    const item = timeline.body.items.find((i: { data: { type: string } }) => i.data.type === 'manual.outcome');
    expect(item.summary).toMatch(/^Outcome "connected" recorded by operator of .* on step "call": Demo on Tuesday$/);
    expect(item.data.details).toMatchObject({ outcome: 'connected', note: 'Demo on Tuesday' });
  });
});
