/**
 * What the route-list tests need: one of everything in a workspace (lead, active sequence,
 * enrollment, token) and a valid request body for every route that takes one, so that a 404 is
 * about tenancy and never a 400 about the body.
 */
import type { ApiKit } from './apiKit.ts';
import { OPEN_ALL_DAY } from './apiKit.ts';

export const taskSequence = {
  name: 'Intro, then call outcome',
  ...OPEN_ALL_DAY,
  steps: [
    { id: 'intro', type: 'email', subject: 'Hi {{ lead.firstName | default: "there" }}', body: 'Hello' },
    { id: 'outcome', type: 'branch', when: { outcome: ['connected'] }, within: 'P1D', then: 'thanks', else: 'nudge' },
    { id: 'nudge', type: 'sms', text: 'Still there?', next: 'done' },
    { id: 'thanks', type: 'email', subject: 'Thanks', body: 'Great talking' },
    { id: 'done', type: 'end' },
  ],
};

export interface World {
  leadId: string;
  sequenceId: string;
  enrollmentId: string;
  tokenId: string;
  mailboxId: string;
  webhookEndpointId: string;
  connectionId: string;
  workspaceId: string;
  /** A person who is a member of the workspace (a viewer), and an open invite. */
  memberId: string;
  inviteId: string;
  suppressionId: string;
  savedFilterId: string;
}

/** A mailbox whose servers are not there (port 1 refuses at once): enough for the route tests. */
export const sampleMailbox = (name: string) => ({
  name,
  fromEmail: `${name}@acme.test`,
  smtp: { host: '127.0.0.1', port: 1, secure: false, user: 'rep', password: 'not-a-real-password' },
  dailyLimit: 20,
});

export async function buildWorld(kit: ApiKit, token = kit.tokens.admin): Promise<World> {
  const lead = await kit.call('POST', '/api/leads', { token, body: { email: `w${Math.random().toString(36).slice(2)}@acme.test`, phone: '+14155550100', firstName: 'Wo' } });
  const sequence = await kit.call('POST', '/api/sequences', { token, body: taskSequence });
  await kit.call('PATCH', `/api/sequences/${sequence.body.id}`, { token, body: { status: 'active' } });
  const enrolled = await kit.call('POST', `/api/sequences/${sequence.body.id}/enrollments`, { token, body: { leadIds: [lead.body.id] } });
  const created = await kit.call('POST', '/api/tokens', { token, body: { name: 'spare', role: 'viewer' } });
  const mailbox = await kit.call('POST', '/api/mailboxes', { token, body: sampleMailbox(`w${Math.random().toString(36).slice(2, 8)}`) });
  // A public address literal: no DNS lookup, and not refused as private.
  const endpoint = await kit.call('POST', '/api/webhook-endpoints', { token, body: { url: 'https://93.184.215.14/hooks', events: ['*'] } });
  const connection = await kit.call('POST', '/api/connections', { token, body: { provider: 'telnyx', apiKey: 'KEY-not-real', publicKey: Buffer.alloc(32, 7).toString('base64'), messagingProfileId: 'mp-1' } });
  const me = await kit.call('GET', '/api/me', { token });
  const member = await kit.runtime.accounts.createUser({ email: `member-${Math.random().toString(36).slice(2)}@team.test`, workspace: me.body.workspace.name, role: 'viewer', password: 'a long enough password' });
  const invite = await kit.call('POST', '/api/invites', { token, body: { role: 'viewer' } });
  const suppression = await kit.call('POST', '/api/suppressions', { token, body: { domain: `w${Math.random().toString(36).slice(2, 8)}.test`, reason: 'world' } });
  const savedFilter = await kit.call('POST', '/api/saved-filters', { token, body: { name: `w${Math.random().toString(36).slice(2, 8)}`, filter: { status: 'new' }, shared: true } });
  const world = {
    leadId: lead.body.id,
    sequenceId: sequence.body.id,
    enrollmentId: enrolled.body.enrolled?.[0]?.enrollmentId,
    tokenId: created.body.id,
    mailboxId: mailbox.body.id,
    webhookEndpointId: endpoint.body.id,
    connectionId: connection.body.id,
    workspaceId: me.body.workspace.id,
    memberId: member.user.id,
    inviteId: invite.body.id,
    suppressionId: suppression.body.items?.[0]?.id,
    savedFilterId: savedFilter.body.id,
  };
  for (const [key, value] of Object.entries(world)) if (!value) throw new Error(`buildWorld could not make ${key}`);
  return world;
}

/** Which kind of id a route's `:id` names. */
export function idFor(url: string, world: World): string {
  if (url.startsWith('/api/sequences/enrollments/')) return world.enrollmentId;
  if (url.startsWith('/api/sequences/')) return world.sequenceId;
  if (url.startsWith('/api/leads/')) return world.leadId;
  if (url.startsWith('/api/tokens/')) return world.tokenId;
  if (url.startsWith('/api/mailboxes/')) return world.mailboxId;
  if (url.startsWith('/api/webhook-endpoints/')) return world.webhookEndpointId;
  if (url.startsWith('/api/connections/')) return world.connectionId;
  if (url.startsWith('/api/workspaces/')) return world.workspaceId;
  if (url.startsWith('/api/members/')) return world.memberId;
  if (url.startsWith('/api/invites/')) return world.inviteId;
  if (url.startsWith('/api/suppressions/')) return world.suppressionId;
  if (url.startsWith('/api/saved-filters/')) return world.savedFilterId;
  throw new Error(`No id kind known for ${url}; teach idFor about it.`);
}

/** A valid body per route (`METHOD url`); a new route with a body must add one here. */
export function validBody(route: string, world: World): unknown {
  const bodies: Record<string, unknown> = {
    'POST /api/tokens': { name: 'ci', role: 'viewer' },
    'POST /api/leads': { email: `b${Math.random().toString(36).slice(2)}@acme.test` },
    'PATCH /api/leads/:id': { company: 'Acme' },
    'POST /api/leads/import': 'email\nimp@acme.test\n',
    'POST /api/leads/owner': { leadIds: [world.leadId], ownerId: null },
    'POST /api/sequences': taskSequence,
    'PUT /api/sequences/:id': taskSequence,
    'PATCH /api/sequences/:id': { status: 'active' },
    'POST /api/sequences/validate': taskSequence,
    'POST /api/sequences/:id/preview': { leadId: world.leadId },
    'POST /api/sequences/preview-step': { leadId: world.leadId, step: { id: 'intro', type: 'email', subject: 'Hi', body: 'Hello' } },
    'POST /api/sequences/:id/enrollments': { leadIds: [world.leadId] },
    'POST /api/events': { leadId: world.leadId, type: 'custom.demo_booked', properties: { plan: 'pro' } },
    'POST /api/events/batch': { events: [{ leadId: world.leadId, type: 'custom.trial_started' }] },
    'PUT /api/sequences/enrollments/:id': { action: 'pause' },
    'POST /api/sequences/enrollments/:id/outcomes': { outcome: 'connected' },
    'POST /api/leads/:id/activities': { kind: 'note', body: 'hello' },
    'PATCH /api/workspace/settings': { frequencyCaps: { email: 3 } },
    'POST /api/leads/:id/convert': {},
    'PUT /api/replies/:eventId/class': { class: 'not_now' },
    'PUT /api/replies/:eventId/snooze': { until: '2099-01-01T00:00:00Z' },
    'POST /api/replies/:eventId/respond': { text: 'Thanks, talk soon.' },
    'POST /api/demo': {},
    'POST /api/mailboxes': sampleMailbox(`m${Math.random().toString(36).slice(2, 8)}`),
    'PATCH /api/mailboxes/:id': { dailyLimit: 30 },
    'POST /api/mailboxes/:id/test': {},
    'POST /api/webhook-endpoints': { url: 'https://93.184.215.14/hooks', events: ['email.replied'] },
    'PATCH /api/webhook-endpoints/:id': { description: 'CRM' },
    'POST /api/webhook-endpoints/:id/rotate-secret': {},
    'POST /api/webhook-endpoints/:id/test': {},
    'POST /api/webhook-endpoints/:id/deliveries/:deliveryId/replay': {},
    'POST /api/workspaces': { name: `ws ${Math.random().toString(36).slice(2)}` },
    'PATCH /api/workspaces/:id': { holidays: ['2026-12-25'] },
    'PATCH /api/members/:id': { role: 'viewer' },
    'POST /api/invites': { role: 'viewer' },
    'POST /api/sequences/enrollments/:id/undo-cancel': {},
    // One connection per provider and workspace: the world holds Telnyx, so this one is free.
    'POST /api/connections': { provider: 'postmark', serverToken: 'not-a-real-token' },
    'PATCH /api/connections/:id': { messagingProfileId: 'mp-2' },
    'POST /api/suppressions': { email: `s${Math.random().toString(36).slice(2)}@acme.test`, reason: 'asked' },
    'POST /api/suppressions/import': 'address\nimp@acme.test\n',
    'POST /api/leads/bulk': { action: 'pause', leadIds: [world.leadId], dryRun: true },
    'POST /api/saved-filters': { name: `f${Math.random().toString(36).slice(2, 8)}`, filter: { q: 'acme' } },
    'PATCH /api/saved-filters/:id': { shared: true },
  };
  if (!(route in bodies)) throw new Error(`No sample body for ${route}; add one to validBody.`);
  return bodies[route];
}

export function takesBody(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

export function contentTypeFor(route: string): Record<string, string> {
  return route === 'POST /api/leads/import' || route === 'POST /api/suppressions/import' ? { 'content-type': 'text/csv' } : {};
}
