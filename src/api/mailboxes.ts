/**
 * Mailboxes (docs/API.md, "Mailboxes"; docs/MAILBOXES.md): a workspace's reps' own SMTP (and
 * IMAP) accounts. Passwords go in, are sealed (AES-256-GCM, src/secrets/keyRing.ts) and never
 * come out: answers say only whether one is set. `POST /mailboxes/{id}/test` logs in and says
 * in one sentence what failed.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isValidZone } from '../core/definition.ts';
import { limitOn, mailboxDay } from '../core/mailboxLimits.ts';
import { localDate } from '../core/time.ts';
import type { Db } from '../db/db.ts';
import {
  createMailbox,
  deleteMailbox,
  DuplicateMailboxError,
  getMailbox,
  listMailboxes,
  mailboxSecretContext,
  mailboxZone,
  sentOn,
  updateMailbox,
  type MailboxRecord,
  type NewMailbox,
} from '../db/mailboxes.ts';
import { inboxHealth } from '../db/inbox.ts';
import { isMember } from '../db/leadOwners.ts';
import { listMembers, type Member } from '../db/users.ts';
import { getWorkspace } from '../db/workspaces.ts';
import type { KeyRing } from '../secrets/keyRing.ts';
import { callerOf } from './auth.ts';
import { leadOwnerSchema } from './leadFields.ts';
import { commonErrors, errorSchema, fail, id, idParams, iso, isoTime, type Api } from './wire.ts';

const notAMember = (ownerId: string) =>
  `The owner ${ownerId} is not a member of this workspace: choose one from GET /api/members, or send null for a mailbox of the team.`;

/** What a login check answers; the assembly hands in the implementation (src/delivery/mailboxProbe.ts). */
export interface ProbeResult {
  ok: boolean;
  sentence: string;
  stage?: string;
}
export interface ServerLogin {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
}
export interface MailboxProbes {
  smtp(login: ServerLogin): Promise<ProbeResult>;
  imap(login: ServerLogin): Promise<ProbeResult>;
}

export interface MailboxRouteDeps {
  db: Db;
  /** Absent on PostgreSQL without TOUCHPOINT_SECRET_KEY: nothing can be stored sealed. */
  keyRing?: KeyRing;
  probes: MailboxProbes;
  /** A mailbox changed or went: close its pooled SMTP connections in this process. */
  onChange?: (mailboxId: string) => Promise<void> | void;
  now?: () => Date;
}

// A host name or an address; no scheme, no path, no spaces.
const host = z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$/, 'must be a host name such as smtp.gmail.com');
const oneLine = (max: number) => z.string().trim().max(max).refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { message: 'must be one line' });
const serverIn = z.strictObject({
  host,
  port: z.number().int().min(1).max(65535),
  secure: z.boolean().describe('true: implicit TLS (port 465/993); false: STARTTLS, which is then required'),
  user: oneLine(320).pipe(z.string().min(1)),
  password: z.string().min(1).max(1024).describe('Stored sealed; never returned'),
});
const serverPatch = serverIn.partial().describe('Only the fields given change; leave out password to keep it');
const authservId = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9._-]+$/, 'must be a host name such as mx.google.com')
  .describe("The authserv-id the server writes in Authentication-Results (RFC 8601), e.g. mx.google.com; default: the IMAP host. Only that server's verdicts on a reply's sender are believed");
const imapIn = serverIn.extend({ authservId: authservId.optional() });
const imapPatch = imapIn
  .partial()
  .extend({ authservId: authservId.nullable().optional().describe('null: back to the IMAP host') })
  .describe('Only the fields given change; leave out password to keep it');
const serverOut = z.object({ host: z.string(), port: z.number(), secure: z.boolean(), user: z.string(), passwordSet: z.boolean() });
const imapOut = serverOut.extend({ authservId: z.string().nullable().describe('null: the IMAP host') });
const warmup = z
  .strictObject({ startLimit: z.number().int().min(1).max(10_000), days: z.number().int().min(1).max(365) })
  .describe('Ramp from startLimit on the first day to dailyLimit after `days` days');
const zone = z.string().trim().refine(isValidZone, { message: 'must be an IANA time zone such as Europe/Berlin' });

const createBody = z.strictObject({
  name: oneLine(200).pipe(z.string().min(1)),
  fromEmail: z.email({ message: 'must be an email address' }),
  fromName: oneLine(200).optional(),
  smtp: serverIn,
  imap: imapIn.nullable().optional(),
  dailyLimit: z.number().int().min(0).max(10_000),
  minGapSeconds: z.number().int().min(0).max(86_400).default(60).describe('Seconds at least between two sends of this mailbox (default 60)'),
  warmup: warmup.nullable().optional(),
  timezone: zone.nullable().optional().describe("The day boundary's zone; absent: the workspace's"),
  ownerId: id.nullable().optional().describe('The member it belongs to (a user id from GET /api/members); absent or null: the team\'s'),
});
const patchBody = z.strictObject({
  name: oneLine(200).pipe(z.string().min(1)).optional(),
  fromEmail: z.email({ message: 'must be an email address' }).optional(),
  fromName: oneLine(200).nullable().optional(),
  smtp: serverPatch.optional(),
  imap: imapPatch.nullable().optional(),
  dailyLimit: z.number().int().min(0).max(10_000).optional(),
  minGapSeconds: z.number().int().min(0).max(86_400).optional(),
  warmup: warmup.nullable().optional().describe('Setting it (again) starts the ramp today'),
  timezone: zone.nullable().optional(),
  ownerId: id.nullable().optional().describe('The member it belongs to; null: the team\'s'),
});

const mailboxSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    fromEmail: z.string(),
    fromName: z.string().nullable(),
    smtp: serverOut,
    imap: imapOut.nullable(),
    dailyLimit: z.number(),
    minGapSeconds: z.number(),
    warmup: z.object({ startLimit: z.number(), days: z.number() }).nullable(),
    warmupStartedOn: z.string().nullable(),
    timezone: z.string().nullable().describe("null: the workspace's zone"),
    owner: leadOwnerSchema.nullable().describe('The member it belongs to; null: the team\'s'),
    today: z.object({
      date: z.string().describe("The mailbox's local date"),
      limit: z.number().describe('Today’s limit (the warm-up ramp applied)'),
      sent: z.number(),
    }),
    lastSendAt: isoTime.nullable(),
    inbox: z
      .object({
        watching: z.boolean().describe('A process holds the watch on this inbox now'),
        checkedAt: isoTime.nullable().describe('The last time the inbox was read without an error'),
        lastError: z.string().nullable().describe('What went wrong on the last attempt (cleared by a good one)'),
      })
      .nullable()
      .describe('The IMAP watch (docs/MAILBOXES.md); null without IMAP settings'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Mailbox' });

const testSchema = z
  .object({
    ok: z.boolean(),
    sentence: z.string().describe('What worked, or exactly what failed, in one sentence'),
    smtp: z.object({ ok: z.boolean(), sentence: z.string(), stage: z.string().optional() }),
    imap: z.object({ ok: z.boolean(), sentence: z.string(), stage: z.string().optional() }).nullable(),
  })
  .meta({ id: 'MailboxTest' });

const withConflict = { ...commonErrors, 409: errorSchema, 422: errorSchema };

export function mailboxRoutes(api: Api, deps: MailboxRouteDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  async function workspaceZone(workspaceId: string): Promise<string> {
    return (await getWorkspace(db, workspaceId))?.timezone ?? 'UTC';
  }

  async function wire(mailboxes: MailboxRecord[], workspaceId: string) {
    const wsZone = await workspaceZone(workspaceId);
    const at = now();
    const days = mailboxes.map((m) => ({ mailboxId: m.id, day: mailboxDay(at, mailboxZone(m, wsZone)).day }));
    const sent = await sentOn(db, days);
    const health = new Map((await inboxHealth(db, mailboxes.filter((m) => m.imap).map((m) => m.id))).map((h) => [h.mailboxId, h]));
    const owners = mailboxes.some((m) => m.ownerId) ? new Map((await listMembers(db, workspaceId)).map((u) => [u.userId, u])) : new Map<string, Member>();
    const ownerOf = (ownerId: string | null) => {
      const member = ownerId ? owners.get(ownerId) : undefined;
      return member ? { id: member.userId, name: member.name, email: member.email } : null;
    };
    return mailboxes.map((m, i) => {
      const watch = health.get(m.id);
      const day = days[i]!.day;
      return {
        id: m.id,
        name: m.name,
        fromEmail: m.fromEmail,
        fromName: m.fromName,
        smtp: { host: m.smtp.host, port: m.smtp.port, secure: m.smtp.secure, user: m.smtp.user, passwordSet: true },
        imap: m.imap
          ? { host: m.imap.host, port: m.imap.port, secure: m.imap.secure, user: m.imap.user, passwordSet: Boolean(m.imapPasswordSealed), authservId: m.imap.authservId ?? null }
          : null,
        dailyLimit: m.dailyLimit,
        minGapSeconds: m.minGapSeconds,
        warmup: m.warmup,
        warmupStartedOn: m.warmupStartedOn,
        timezone: m.timezone,
        owner: ownerOf(m.ownerId),
        today: { date: day, limit: limitOn(m.dailyLimit, day, m.warmup, m.warmupStartedOn), sent: sent.get(m.id) ?? 0 },
        lastSendAt: iso(m.lastSendAt),
        inbox: m.imap
          ? {
              watching: Boolean(watch?.leaseUntil && watch.leaseUntil > at),
              checkedAt: iso(watch?.checkedAt ?? null),
              lastError: watch?.lastError ?? null,
            }
          : null,
        createdAt: iso(m.createdAt)!,
        updatedAt: iso(m.updatedAt)!,
      };
    });
  }

  const noKey = 'Mailbox passwords are stored sealed under TOUCHPOINT_SECRET_KEY, which this server does not have (PostgreSQL needs it set); set it and restart.';

  api.post(
    '/mailboxes',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Add a mailbox (a rep’s own SMTP account, optionally its IMAP)',
        description: 'Passwords are stored sealed (AES-256-GCM) and never returned. See docs/MAILBOXES.md.',
        tags: ['mailboxes'],
        body: createBody,
        response: { 201: mailboxSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { keyRing } = deps;
      if (!keyRing) return fail(reply, 409, 'secret_key_missing', noKey);
      const { workspaceId } = callerOf(request);
      const body = request.body;
      if (body.ownerId && !(await isMember(db, workspaceId, body.ownerId))) return fail(reply, 422, 'not_a_member', notAMember(body.ownerId));
      const id = randomUUID();
      const at = now();
      const wsZone = await workspaceZone(workspaceId);
      const { smtp, imap } = body;
      const record: NewMailbox = {
        id,
        name: body.name,
        fromEmail: body.fromEmail,
        fromName: body.fromName ?? null,
        smtp: { host: smtp.host, port: smtp.port, secure: smtp.secure, user: smtp.user },
        smtpPasswordSealed: keyRing.seal(smtp.password, mailboxSecretContext(id, 'smtp')),
        imap: imap ? { host: imap.host, port: imap.port, secure: imap.secure, user: imap.user, ...(imap.authservId ? { authservId: imap.authservId } : {}) } : null,
        imapPasswordSealed: imap ? keyRing.seal(imap.password, mailboxSecretContext(id, 'imap')) : null,
        dailyLimit: body.dailyLimit,
        minGapSeconds: body.minGapSeconds,
        warmup: body.warmup ?? null,
        warmupStartedOn: body.warmup ? localDate(at, body.timezone ?? wsZone) : null,
        timezone: body.timezone ?? null,
        ownerId: body.ownerId ?? null,
      };
      try {
        const created = await createMailbox(db, workspaceId, record, at);
        const [answer] = await wire([created], workspaceId);
        return reply.status(201).send(answer!);
      } catch (error) {
        if (error instanceof DuplicateMailboxError) return fail(reply, 409, 'duplicate_mailbox', error.message);
        throw error;
      }
    },
  );

  api.get(
    '/mailboxes',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'The workspace’s mailboxes with today’s usage',
        tags: ['mailboxes'],
        response: { 200: z.object({ items: z.array(mailboxSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const { workspaceId } = callerOf(request);
      return { items: await wire(await listMailboxes(db, workspaceId), workspaceId) };
    },
  );

  api.get(
    '/mailboxes/:id',
    {
      config: { minRole: 'viewer' },
      schema: { summary: 'One mailbox with today’s usage', tags: ['mailboxes'], params: idParams, response: { 200: mailboxSchema, ...commonErrors } },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const mailbox = await getMailbox(db, workspaceId, request.params.id);
      if (!mailbox) return fail(reply, 404, 'not_found', `No mailbox ${request.params.id} in this workspace.`);
      return (await wire([mailbox], workspaceId))[0]!;
    },
  );

  api.patch(
    '/mailboxes/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Change a mailbox (limits, sender, servers; a password only when given)',
        tags: ['mailboxes'],
        params: idParams,
        body: patchBody,
        response: { 200: mailboxSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { keyRing } = deps;
      if (!keyRing) return fail(reply, 409, 'secret_key_missing', noKey);
      const { workspaceId } = callerOf(request);
      const id = request.params.id;
      const current = await getMailbox(db, workspaceId, id);
      if (!current) return fail(reply, 404, 'not_found', `No mailbox ${id} in this workspace.`);
      const body = request.body;
      const at = now();
      const smtp = { ...current.smtp, ...stripPassword(body.smtp) };
      const smtpPasswordSealed = body.smtp?.password ? keyRing.seal(body.smtp.password, mailboxSecretContext(id, 'smtp')) : current.smtpPasswordSealed;
      let imap = current.imap;
      let imapPasswordSealed = current.imapPasswordSealed;
      if (body.imap === null) {
        imap = null;
        imapPasswordSealed = null;
      } else if (body.imap) {
        const { authservId: newAuthservId, ...given } = stripPassword(body.imap);
        const merged = { ...(current.imap ?? {}), ...given };
        if (newAuthservId === null) delete merged.authservId;
        else if (newAuthservId !== undefined) merged.authservId = newAuthservId;
        const parsed = z.object({ host: z.string(), port: z.number(), secure: z.boolean(), user: z.string(), authservId: z.string().optional() }).safeParse(merged);
        if (!parsed.success) return fail(reply, 422, 'incomplete_imap', 'This mailbox has no IMAP settings yet: give host, port, secure, user and password together.');
        imap = parsed.data;
        if (body.imap.password) imapPasswordSealed = keyRing.seal(body.imap.password, mailboxSecretContext(id, 'imap'));
        if (!imapPasswordSealed) return fail(reply, 422, 'incomplete_imap', 'The IMAP settings need a password.');
      }
      const timezone = body.timezone !== undefined ? body.timezone : current.timezone;
      const wsZone = await workspaceZone(workspaceId);
      const warmupChanged = body.warmup !== undefined;
      const next: NewMailbox = {
        id,
        name: body.name ?? current.name,
        fromEmail: body.fromEmail ?? current.fromEmail,
        fromName: body.fromName !== undefined ? body.fromName : current.fromName,
        smtp,
        smtpPasswordSealed,
        imap,
        imapPasswordSealed,
        dailyLimit: body.dailyLimit ?? current.dailyLimit,
        minGapSeconds: body.minGapSeconds ?? current.minGapSeconds,
        warmup: warmupChanged ? (body.warmup ?? null) : current.warmup,
        warmupStartedOn: warmupChanged ? (body.warmup ? localDate(at, timezone ?? wsZone) : null) : current.warmupStartedOn,
        timezone,
        ownerId: body.ownerId !== undefined ? body.ownerId : current.ownerId,
      };
      if (body.ownerId && !(await isMember(db, workspaceId, body.ownerId))) return fail(reply, 422, 'not_a_member', notAMember(body.ownerId));
      try {
        const updated = await updateMailbox(db, workspaceId, next, at);
        if (!updated) return fail(reply, 404, 'not_found', `No mailbox ${id} in this workspace.`);
        await deps.onChange?.(id);
        return (await wire([updated], workspaceId))[0]!;
      } catch (error) {
        if (error instanceof DuplicateMailboxError) return fail(reply, 409, 'duplicate_mailbox', error.message);
        throw error;
      }
    },
  );

  api.delete(
    '/mailboxes/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Delete a mailbox',
        description: 'Enrollments that sent from it take another of their sequence’s mailboxes for their next email; a sequence left with none fails its email steps (`no_mailbox`).',
        tags: ['mailboxes'],
        params: idParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      if (!(await deleteMailbox(db, workspaceId, request.params.id))) return fail(reply, 404, 'not_found', `No mailbox ${request.params.id} in this workspace.`);
      await deps.onChange?.(request.params.id);
      return reply.status(204).send(null);
    },
  );

  api.post(
    '/mailboxes/:id/test',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Log in to the mailbox’s SMTP (and IMAP) server and say what failed',
        description: 'Always 200 when the mailbox exists: `ok` and one sentence naming the failure (DNS, connection, TLS, authentication, timeout).',
        tags: ['mailboxes'],
        params: idParams,
        response: { 200: testSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { keyRing } = deps;
      if (!keyRing) return fail(reply, 409, 'secret_key_missing', noKey);
      const { workspaceId } = callerOf(request);
      const mailbox = await getMailbox(db, workspaceId, request.params.id);
      if (!mailbox) return fail(reply, 404, 'not_found', `No mailbox ${request.params.id} in this workspace.`);
      let smtpPassword: string;
      let imapPassword: string | undefined;
      try {
        smtpPassword = keyRing.open(mailbox.smtpPasswordSealed, mailboxSecretContext(mailbox.id, 'smtp'));
        if (mailbox.imap && mailbox.imapPasswordSealed) imapPassword = keyRing.open(mailbox.imapPasswordSealed, mailboxSecretContext(mailbox.id, 'imap'));
      } catch (error) {
        return fail(reply, 409, 'secret_unreadable', `The stored password cannot be opened: ${(error as Error).message}`);
      }
      const [smtp, imap] = await Promise.all([
        deps.probes.smtp({ ...mailbox.smtp, password: smtpPassword }),
        mailbox.imap && imapPassword !== undefined ? deps.probes.imap({ ...mailbox.imap, password: imapPassword }) : Promise.resolve(null),
      ]);
      const failedOne = !smtp.ok ? smtp : imap && !imap.ok ? imap : undefined;
      const sentence = failedOne?.sentence ?? (imap ? 'SMTP and IMAP logins succeeded.' : 'SMTP login succeeded (no IMAP settings to check).');
      return { ok: !failedOne, sentence, smtp, imap };
    },
  );
}

function stripPassword<T extends { password?: string }>(value: T | null | undefined): Omit<T, 'password'> {
  if (!value) return {} as Omit<T, 'password'>;
  const { password: _ignored, ...rest } = value;
  return rest;
}
