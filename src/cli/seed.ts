/** `touchpoint seed --demo`: enough data for a newcomer to see the product working. */
import { validateDefinition } from '../core/validate.ts';
import type { Db } from '../db/db.ts';
import { insertLeads } from '../db/leads.ts';
import { createSequence } from '../db/sequences.ts';
import { createToken, ensureWorkspace } from '../db/workspaces.ts';
import { systemClock } from '../engine/clock.ts';
import { enrollLeads } from '../engine/enroll.ts';

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Linus', 'Margaret', 'Dennis'];
const ZONES = ['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Europe/Berlin', 'Europe/London', null];

export const DEMO_SEQUENCES = [
  {
    name: 'Demo request follow-up',
    schedule: { timezone: 'lead', fallbackTimezone: 'America/New_York', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
    exitOn: ['email.replied', 'sms.replied', 'email.bounced', 'sms.opted_out', 'converted'],
    steps: [
      { id: 'intro', type: 'email', subject: "Quick question, {{ lead.firstName | default: 'there' }}", body: 'Hi {{ lead.firstName | default: "there" }}, thanks for asking for a demo of our product. When suits you?' },
      { id: 'pause', type: 'wait', duration: 'P2D', businessDays: true },
      { id: 'opened', type: 'branch', when: { event: 'email.opened', step: 'intro' }, within: 'P1D', then: 'call', else: 'nudge' },
      { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName | default: "there" }}, following up on your demo request.', voicemail: 'Sorry I missed you — I will send a text.' },
      { id: 'outcome', type: 'branch', when: { outcome: ['connected', 'meeting_booked'] }, within: 'PT4H', then: 'done', else: 'nudge' },
      { id: 'nudge', type: 'sms', text: 'Hi {{ lead.firstName | default: "there" }}, any time for a 15-minute demo this week?' },
      { id: 'linkedin', type: 'task', title: 'Connect on LinkedIn', outcomes: ['done', 'skipped'] },
      { id: 'done', type: 'end' },
    ],
  },
  {
    name: 'Webinar invite',
    steps: [
      { id: 'invite', type: 'email', subject: 'You are invited', body: 'Join our webinar on Thursday, {{ lead.firstName | default: "friend" }}.' },
      { id: 'wait', type: 'wait', duration: 'P3D' },
      { id: 'reminder', type: 'sms', text: 'Reminder: the webinar is tomorrow.' },
    ],
  },
];

export async function seedDemo(db: Db): Promise<{ leads: number; sequences: string[]; enrolled: number; token: string }> {
  const workspace = await ensureWorkspace(db, 'demo');
  const leads = await insertLeads(
    db,
    workspace.id,
    FIRST_NAMES.map((firstName, i) => ({
      firstName,
      lastName: 'Example',
      email: `${firstName.toLowerCase()}.${Date.now().toString(36)}${i}@example.com`,
      phone: `+1555${String(2_000_000 + i * 7919).slice(-7)}`,
      timezone: ZONES[i % ZONES.length],
      company: ['Acme', 'Globex', 'Initech', 'Umbrella'][i % 4],
    })),
  );
  const names: string[] = [];
  let enrolled = 0;
  for (const input of DEMO_SEQUENCES) {
    const validation = validateDefinition(input);
    if (!validation.ok) throw new Error(`Demo sequence "${input.name}" is invalid: ${JSON.stringify(validation.problems)}`);
    const sequence = await createSequence(db, workspace.id, validation.definition, 'active');
    names.push(`"${sequence.name}"`);
    const half = leads.slice(names.length === 1 ? 0 : 6, names.length === 1 ? 6 : 12);
    const result = await enrollLeads({ db, clock: systemClock, wake: () => undefined }, {
      workspaceId: workspace.id,
      sequenceId: sequence.id,
      leadIds: half.map((l) => l.id),
      actor: 'seed',
    });
    if (result.ok) enrolled += result.enrolled.length;
  }
  const { token } = await createToken(db, workspace.id, 'admin', 'demo admin');
  return { leads: leads.length, sequences: names, enrolled, token };
}
