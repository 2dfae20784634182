/**
 * Workspaces and their people: create a workspace (the creator is its admin), read and change
 * its settings, list members, change a role or remove someone — never the last admin, a rule
 * the store enforces inside the transaction — and invite people by one-time link.
 */
import { z } from 'zod';
import type { Accounts } from '../accounts/accounts.ts';
import { LOCAL_DATE_PATTERN, isValidZone, quietHoursSchema, scheduleSchema } from '../core/definition.ts';
import { listOpenInvites, revokeInvite, type AccountLink } from '../db/accountLinks.ts';
import type { Db } from '../db/db.ts';
import { addMembership, changeMembership, getMember, listMembers, setMemberHours, type Member } from '../db/users.ts';
import { memberScheduleSchema, workingHoursOf } from '../core/workingHours.ts';
import { ROLES, createWorkspace, getWorkspaceDetails, updateWorkspace, type WorkspaceDetails } from '../db/workspaces.ts';
import { callerOf } from './auth.ts';
import { commonErrors, errorSchema, fail, id, idParams, iso, isoTime, type Api } from './wire.ts';

const zone = z.string().trim().refine(isValidZone, { message: 'must be an IANA time zone such as America/New_York' });
const workspaceName = z.string().trim().min(1).max(100);
const errors = { ...commonErrors, 409: errorSchema };

const workspaceSchema = z
  .object({
    id,
    name: z.string(),
    timezone: z.string(),
    defaultSchedule: z.unknown().nullable().describe('The schedule a new sequence without one is created with (null: the built-in default); existing sequences keep theirs'),
    defaultQuietHours: z.unknown().nullable().describe('The quiet hours a new sequence without them is created with; existing sequences keep theirs'),
    holidays: z.array(z.string()).describe('Dates ("YYYY-MM-DD") added to the schedule of each new sequence that does not list its own holidays; existing sequences keep theirs'),
    createdAt: isoTime,
  })
  .meta({ id: 'Workspace' });
const hoursSchema = z.object({ timezone: z.string(), schedule: z.object({ days: z.array(z.string()), start: z.string(), end: z.string(), holidays: z.array(z.string()) }) });
const memberSchema = z
  .object({
    userId: id,
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    joinedAt: isoTime,
    timezone: z.string().nullable().describe("The member's own zone; null: the workspace's"),
    schedule: z.unknown().nullable().describe("The member's own working schedule (days, start, end, holidays); null: the workspace's default schedule"),
    workingHours: hoursSchema.describe('The hours in force: their own where set, else the workspace\'s zone and default schedule, else Monday–Friday 09:00–17:00'),
  })
  .meta({ id: 'Member' });
const inviteSchema = z
  .object({ id, email: z.string().nullable(), role: z.enum(ROLES), createdBy: z.string(), createdAt: isoTime, expiresAt: isoTime })
  .meta({ id: 'Invite' });

const workspaceWire = (w: WorkspaceDetails) => ({ ...w, holidays: w.holidays ?? [], createdAt: iso(w.createdAt)! });
const memberWire = (m: Member, workspace: WorkspaceDetails | undefined) => {
  const hours = workingHoursOf(m, { timezone: workspace?.timezone ?? 'UTC', defaultSchedule: workspace?.defaultSchedule });
  const { days, start, end, holidays } = hours.schedule;
  return { ...m, joinedAt: iso(m.joinedAt)!, workingHours: { timezone: hours.zone, schedule: { days, start, end, holidays } } };
};
const inviteWire = (l: AccountLink) => ({ id: l.id, email: l.email, role: l.role!, createdBy: l.createdBy, createdAt: iso(l.createdAt)!, expiresAt: iso(l.expiresAt)! });

export function workspaceRoutes(api: Api, db: Db, accounts: Accounts, now: () => Date) {
  api.post(
    '/workspaces',
    {
      config: { minRole: 'viewer', personal: true },
      schema: {
        summary: 'Create a workspace; the signed-in person becomes its admin (tokens cannot: they belong to one workspace)',
        tags: ['workspaces'],
        body: z.strictObject({ name: workspaceName, timezone: zone.optional() }),
        response: { 201: workspaceSchema, ...errors },
      },
    },
    async (request, reply) => {
      const person = request.person;
      if (!person) return fail(reply, 403, 'forbidden', 'Only a signed-in person can create a workspace (they become its admin); use `npx touchpoint users create --workspace NAME` from a script.');
      const created = await db.transaction(async (tx) => {
        const workspace = await createWorkspace(tx, request.body.name, request.body.timezone ?? 'America/New_York');
        if (workspace) await addMembership(tx, workspace.id, person.userId, 'admin');
        return workspace;
      });
      if (!created) return fail(reply, 409, 'name_taken', `A workspace named "${request.body.name}" exists; choose another name.`);
      return reply.status(201).send(workspaceWire(created));
    },
  );

  api.get(
    '/workspaces/:id',
    { config: { minRole: 'viewer' }, schema: { summary: "The workspace's name, time zone and defaults", tags: ['workspaces'], params: idParams, response: { 200: workspaceSchema, ...errors } } },
    async (request, reply) => {
      const workspace = request.params.id === callerOf(request).workspaceId ? await getWorkspaceDetails(db, request.params.id) : undefined;
      if (!workspace) return fail(reply, 404, 'not_found', `No workspace ${request.params.id} here (a cookie caller picks one with X-Touchpoint-Workspace).`);
      return workspaceWire(workspace);
    },
  );

  api.patch(
    '/workspaces/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "Change the workspace's name, time zone, default schedule and quiet hours, holidays",
        tags: ['workspaces'],
        params: idParams,
        body: z.strictObject({
          name: workspaceName.optional(),
          timezone: zone.optional(),
          defaultSchedule: scheduleSchema.nullable().optional(),
          defaultQuietHours: quietHoursSchema.nullable().optional(),
          holidays: z.array(z.string().regex(LOCAL_DATE_PATTERN, 'must be a date "YYYY-MM-DD"')).max(366).optional(),
        }),
        response: { 200: workspaceSchema, ...errors },
      },
    },
    async (request, reply) => {
      if (request.params.id !== callerOf(request).workspaceId) return fail(reply, 404, 'not_found', `No workspace ${request.params.id} here.`);
      const updated = await updateWorkspace(db, request.params.id, request.body);
      if (updated === 'name_taken') return fail(reply, 409, 'name_taken', `A workspace named "${request.body.name}" exists; choose another name.`);
      if (!updated) return fail(reply, 404, 'not_found', `No workspace ${request.params.id} here.`);
      return workspaceWire(updated);
    },
  );

  api.get(
    '/members',
    { config: { minRole: 'viewer' }, schema: { summary: "The workspace's people and their roles", tags: ['workspaces'], response: { 200: z.object({ items: z.array(memberSchema) }), ...errors } } },
    async (request) => {
      const { workspaceId } = callerOf(request);
      const workspace = await getWorkspaceDetails(db, workspaceId);
      return { items: (await listMembers(db, workspaceId)).map((m) => memberWire(m, workspace)) };
    },
  );

  const lastAdmin = 'A workspace always keeps one admin: make someone else admin first.';

  api.patch(
    '/members/:id',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "Change a member's role (admin) or working hours (admin, or the member themself)",
        tags: ['workspaces'],
        params: idParams,
        body: z
          .strictObject({
            role: z.enum(ROLES).optional(),
            timezone: zone.nullable().optional().describe("The member's zone; null: the workspace's"),
            schedule: memberScheduleSchema.nullable().optional().describe("Days, start, end and holidays as in a sequence's schedule; null: the workspace's default"),
          })
          .refine((b) => Object.keys(b).length > 0, { message: 'Send at least one of role, timezone, schedule.' }),
        response: { 200: memberSchema, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { workspaceId } = caller;
      const { role, timezone, schedule } = request.body;
      const self = request.person?.userId === request.params.id;
      if (caller.role !== 'admin' && (role !== undefined || !self)) {
        return fail(reply, 403, 'forbidden', role !== undefined ? "Changing a role needs the admin role." : "Only an admin changes another member's working hours; you may change your own.");
      }
      if (role !== undefined) {
        const result = await db.transaction((tx) => changeMembership(tx, { workspaceId, userId: request.params.id, role }));
        if (!result.ok) return result.reason === 'last_admin' ? fail(reply, 409, 'last_admin', lastAdmin) : fail(reply, 404, 'not_found', `No member ${request.params.id} in this workspace.`);
      }
      const member =
        timezone !== undefined || schedule !== undefined
          ? await setMemberHours(db, { workspaceId, userId: request.params.id, timezone, schedule })
          : await getMember(db, workspaceId, request.params.id);
      if (!member) return fail(reply, 404, 'not_found', `No member ${request.params.id} in this workspace.`);
      return memberWire(member, await getWorkspaceDetails(db, workspaceId));
    },
  );

  api.delete(
    '/members/:id',
    {
      config: { minRole: 'admin' },
      schema: { summary: 'Remove someone from the workspace (their account stays)', tags: ['workspaces'], params: idParams, response: { 204: z.null(), ...errors } },
    },
    async (request, reply) => {
      const workspaceId = callerOf(request).workspaceId;
      const result = await db.transaction((tx) => changeMembership(tx, { workspaceId, userId: request.params.id, role: null, actor: callerOf(request).actor, at: now() }));
      if (!result.ok) return result.reason === 'last_admin' ? fail(reply, 409, 'last_admin', lastAdmin) : fail(reply, 404, 'not_found', `No member ${request.params.id} in this workspace.`);
      return reply.status(204).send(null);
    },
  );

  api.post(
    '/invites',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Invite someone: answers a one-time link (shown once) that creates or attaches their account',
        tags: ['workspaces'],
        body: z.strictObject({
          email: z.email().max(320).nullable().optional().describe('Only this address may accept; null or absent: whoever opens the link chooses'),
          role: z.enum(ROLES),
        }),
        description:
          "With an `email`, the link is also e-mailed to it through the workspace's mailbox or an email provider when one is configured (docs/ACCOUNTS.md, \"Account emails\"); `emailed` says whether it went out, `emailProblem` why not.",
        response: {
          201: inviteSchema.extend({
            url: z.string().describe('The link, shown this once'),
            emailed: z.boolean().describe('Whether the link was e-mailed to `email`'),
            emailProblem: z.string().optional().describe('Why it was not, when an email was given'),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const created = await accounts.invite({ workspaceId: caller.workspaceId, role: request.body.role, email: request.body.email ?? null, createdBy: caller.actor });
      const at = now();
      let mail: { emailed: boolean; problem?: string } = { emailed: false };
      if (request.body.email) {
        const workspace = await getWorkspaceDetails(db, caller.workspaceId);
        mail = await accounts.mailInvite({
          to: request.body.email,
          url: created.url,
          workspaceId: caller.workspaceId,
          workspaceName: workspace?.name ?? 'a workspace',
          role: request.body.role,
          invitedBy: caller.actor,
          expiresAt: created.expiresAt,
          inviteId: created.id,
        });
        if (mail.problem) request.log.warn({ inviteId: created.id, problem: mail.problem }, 'invite not e-mailed');
      }
      return reply.status(201).send({
        id: created.id,
        url: created.url,
        email: request.body.email ?? null,
        role: request.body.role,
        createdBy: caller.actor,
        createdAt: at.toISOString(),
        expiresAt: created.expiresAt.toISOString(),
        emailed: mail.emailed,
        ...(mail.problem ? { emailProblem: mail.problem } : {}),
      });
    },
  );

  api.get(
    '/invites',
    { config: { minRole: 'admin' }, schema: { summary: 'Invites not yet accepted, revoked or expired', tags: ['workspaces'], response: { 200: z.object({ items: z.array(inviteSchema) }), ...errors } } },
    async (request) => ({ items: (await listOpenInvites(db, callerOf(request).workspaceId, now())).map(inviteWire) }),
  );

  api.delete(
    '/invites/:id',
    { config: { minRole: 'admin' }, schema: { summary: 'Revoke an invite; its link stops working at once', tags: ['workspaces'], params: idParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      const revoked = await revokeInvite(db, request.params.id, callerOf(request).workspaceId, now());
      if (!revoked) return fail(reply, 404, 'not_found', `No open invite ${request.params.id} in this workspace.`);
      return reply.status(204).send(null);
    },
  );
}
