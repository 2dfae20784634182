/**
 * Demo data (`touchpoint seed --demo`, the dashboard's "Load demo data"): what it is, chosen so
 * that something happens while a newcomer watches. Pure: the caller gives the instant, and the
 * leads' zones are the ones where it is working hours at that instant.
 *
 * - Leads are named by a CRM id `demo:<name>` (unique per workspace), so a second run finds them
 *   and adds nothing, and removal knows exactly which leads are demo leads.
 * - Half of them have an address ending in `+reply`: the mock email adapter answers those with a
 *   simulated reply (src/delivery/mock.ts), the way a provider's inbound webhook would.
 * - The sequences run every day from 09:00 to 17:00 in the lead's zone, and their first steps
 *   come within seconds: an email at once, a call task 20 seconds later; a call answered at once
 *   (the mock's default outcome) that a branch turns into a task.
 */
import { DateTime } from 'luxon';
import type { SequenceDefinitionInput } from './definition.ts';

export const DEMO_EXTERNAL_ID_PREFIX = 'demo:';

/** Zones spread over the day (UTC−11 … UTC+14), so some are always inside 09:00–16:59. */
const DEMO_ZONES = [
  'Pacific/Pago_Pago',
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Sao_Paulo',
  'Atlantic/Azores',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Athens',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Noumea',
  'Pacific/Auckland',
  'Pacific/Tongatapu',
  'Pacific/Kiritimati',
] as const;

/** The demo's window, every day: an hour before its end is left so the first minute is inside. */
const WINDOW = { start: '09:00', end: '17:00', lastStartHour: 15 };

/** The zones where `at` falls between 09:00 and 15:59 local time, at least one (see DEMO_ZONES). */
export function zonesInWorkingHours(at: Date): string[] {
  const zones = DEMO_ZONES.filter((zone) => {
    const hour = DateTime.fromJSDate(at, { zone }).hour;
    return hour >= 9 && hour <= WINDOW.lastStartHour;
  });
  return zones.length > 0 ? zones : ['Pacific/Kiritimati'];
}

interface DemoPerson {
  key: string;
  firstName: string;
  lastName: string;
  company: string;
  title: string;
  replies: boolean;
  sequence: 'followUp' | 'callFirst';
}

const PEOPLE: DemoPerson[] = [
  { key: 'ada', firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines', title: 'Head of Operations', replies: true, sequence: 'followUp' },
  { key: 'grace', firstName: 'Grace', lastName: 'Hopper', company: 'Compiler Works', title: 'VP Engineering', replies: false, sequence: 'followUp' },
  { key: 'alan', firstName: 'Alan', lastName: 'Turing', company: 'Bletchley Labs', title: 'CTO', replies: true, sequence: 'followUp' },
  { key: 'barbara', firstName: 'Barbara', lastName: 'Liskov', company: 'Substitution Inc', title: 'Founder', replies: false, sequence: 'followUp' },
  { key: 'radia', firstName: 'Radia', lastName: 'Perlman', company: 'Spanning Trees', title: 'Network Lead', replies: true, sequence: 'followUp' },
  { key: 'edsger', firstName: 'Edsger', lastName: 'Dijkstra', company: 'Shortest Path BV', title: 'Director', replies: false, sequence: 'followUp' },
  { key: 'margaret', firstName: 'Margaret', lastName: 'Hamilton', company: 'Apollo Software', title: 'Head of Sales', replies: false, sequence: 'callFirst' },
  { key: 'ken', firstName: 'Ken', lastName: 'Thompson', company: 'Unix Tools', title: 'Procurement', replies: false, sequence: 'callFirst' },
];

export interface DemoLead {
  externalId: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  timezone: string;
  company: string;
  title: string;
  customFields: Record<string, unknown>;
  sequence: 'followUp' | 'callFirst';
}

/** The demo's leads, their zones spread over those in working hours at `at`. */
export function demoLeads(at: Date): DemoLead[] {
  const zones = zonesInWorkingHours(at);
  return PEOPLE.map((person, i) => ({
    externalId: `${DEMO_EXTERNAL_ID_PREFIX}${person.key}`,
    firstName: person.firstName,
    lastName: person.lastName,
    // example.com never receives mail; `+reply` asks the mock adapter for a simulated answer.
    email: `${person.key}.${person.lastName.toLowerCase()}${person.replies ? '+reply' : ''}@example.com`,
    phone: `+1202555${String(101 + i).padStart(4, '0')}`,
    timezone: zones[i % zones.length]!,
    company: person.company,
    title: person.title,
    customFields: { source: 'Touchpoint demo data', plan: i % 2 === 0 ? 'Team' : 'Starter' },
    sequence: person.sequence,
  }));
}

const schedule = { timezone: 'lead' as const, start: WINDOW.start, end: WINDOW.end };

export const DEMO_SEQUENCES: Record<DemoLead['sequence'], SequenceDefinitionInput> = {
  followUp: {
    name: 'Demo · Fast follow-up',
    description: 'Demo data: an email at once, then a call task 20 seconds later for whoever has not replied.',
    schedule,
    steps: [
      {
        id: 'intro',
        type: 'email',
        subject: "Quick question, {{ lead.firstName | default: 'there' }}",
        body: 'Hi {{ lead.firstName | default: "there" }},\n\nThanks for your interest in Touchpoint. Would a 15-minute call this week help {{ lead.company | default: "your team" }}?\n\nBest,\n{{ sender.name | default: "The Touchpoint team" }}',
      },
      { id: 'pause', type: 'wait', duration: 'PT20S' },
      {
        id: 'call',
        type: 'task',
        title: 'Call {{ lead.firstName | default: "the lead" }} at {{ lead.company | default: "their company" }}',
        description: 'They opened the intro email but have not replied. Ask about their timeline.',
        outcomes: ['connected', 'no_answer', 'meeting_booked'],
      },
      { id: 'done', type: 'end' },
    ],
  },
  callFirst: {
    name: 'Demo · Call, then text',
    description: 'Demo data: a call at once (the mock answers it); an answered call becomes a note-taking task, a missed one a text.',
    schedule,
    steps: [
      { id: 'call', type: 'voice', script: 'Hi {{ lead.firstName | default: "there" }}, this is a quick call about Touchpoint.', voicemail: 'Sorry I missed you, I will send a text.' },
      { id: 'answered', type: 'branch', when: { event: 'call.answered', step: 'call' }, within: 'PT30S', then: 'notes', else: 'text' },
      { id: 'notes', type: 'task', title: 'Write up the call with {{ lead.firstName | default: "the lead" }}', outcomes: ['done'], routes: { done: 'done' } },
      { id: 'text', type: 'sms', text: 'Hi {{ lead.firstName | default: "there" }}, sorry I missed you. Any time for a 15-minute call this week?' },
      { id: 'done', type: 'end' },
    ],
  },
};

/** The simulated answer the mock gives an email sent to a `+reply` address. */
export const DEMO_REPLY_TEXT = 'Thanks for reaching out. Yes, I would be interested in a call. Does Thursday at 10 work?';

/** Does the mock answer an email to this address (docs/DASHBOARD.md, "Demo data")? */
export function wantsSimulatedReply(address: string): boolean {
  const at = address.lastIndexOf('@');
  return at > 0 && address.slice(0, at).toLowerCase().endsWith('+reply');
}
