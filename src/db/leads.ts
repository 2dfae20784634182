import type { Lead } from '../core/definition.ts';
import { LEAD_STATUSES, OPT_OUT_REASONS, type LeadStatus } from '../core/leadStatus.ts';
import type { Queryable } from './db.ts';
import { uuidv7 } from './ids.ts';

export interface LeadRecord extends Lead {
  workspaceId: string;
  /** The lead's id in the team's CRM (or any other system), unique per workspace. */
  externalId?: string | null;
  status: LeadStatus;
  customFields: Record<string, unknown>;
  /** The member who owns the lead (migration 029); null = unowned. */
  ownerId: string | null;
  owner: LeadOwner | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A lead's owner as the API shows it: the member's account. */
export interface LeadOwner {
  id: string;
  name: string | null;
  email: string;
}

export type NewLead = Omit<Lead, 'id'> & { status?: LeadStatus; externalId?: string | null; ownerId?: string | null };

/**
 * A new lead starts as what the workspace already knows of its addresses: `opted_out` or
 * `bounced` when one is suppressed (an opt-out a provider reported reaches every workspace,
 * leads created later included), else `new`. One index probe per address.
 */
const INITIAL_STATUS = `coalesce(u.status, (
    select case when bool_or(s.reason = any('{${OPT_OUT_REASONS.join(',')}}'::text[])) then 'opted_out'
                when bool_or(s.reason = 'email.bounced') then 'bounced' end
    from suppressions s
    where s.workspace_id = $1
      and ((s.channel = 'email' and s.address = lower(u.email)) or (s.channel in ('sms', 'voice') and s.address = u.phone))),
  'new')`;

export const LEAD_COLUMNS = `id, workspace_id as "workspaceId", external_id as "externalId", email, phone, timezone,
  first_name as "firstName", last_name as "lastName", company, title, status,
  custom_fields as "customFields", owner_id as "ownerId",
  (select json_build_object('id', ou.id, 'name', ou.name, 'email', ou.email) from users ou where ou.id = leads.owner_id) as owner,
  created_at as "createdAt", updated_at as "updatedAt"`;

/** The leads as one array per column, in the order the bulk inserts' `unnest` takes them. */
function leadColumnArrays(leads: NewLead[]): unknown[][] {
  const column = <K extends keyof NewLead>(key: K) => leads.map((l) => l[key] ?? null);
  return [
    column('email'),
    column('phone'),
    column('timezone'),
    column('firstName'),
    column('lastName'),
    column('company'),
    column('title'),
    column('status'),
    leads.map((l) => JSON.stringify(l.customFields ?? {})),
    column('externalId'),
    column('ownerId'),
  ];
}

/** Inserts many leads in one statement (unnest), returning them in input order. */
export async function insertLeads(db: Queryable, workspaceId: string, leads: NewLead[]): Promise<LeadRecord[]> {
  if (leads.length === 0) return [];
  return db.query<LeadRecord>(
    `insert into leads (workspace_id, email, phone, timezone, first_name, last_name, company, title, status, custom_fields, external_id, owner_id)
     select $1, u.email, u.phone, u.timezone, u.first_name, u.last_name, u.company, u.title,
            ${INITIAL_STATUS}, coalesce(u.custom_fields, '{}'::jsonb), u.external_id, u.owner_id
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::uuid[])
       with ordinality as u(email, phone, timezone, first_name, last_name, company, title, status, custom_fields, external_id, owner_id, ord)
     order by u.ord
     returning ${LEAD_COLUMNS}`,
    [
      workspaceId,
      ...leadColumnArrays(leads),
    ],
  );
}

export async function getLead(db: Queryable, workspaceId: string, id: string): Promise<LeadRecord | undefined> {
  const [row] = await db.query<LeadRecord>(`select ${LEAD_COLUMNS} from leads where workspace_id = $1 and id = $2`, [
    workspaceId,
    id,
  ]);
  return row;
}

/**
 * Inserts leads, skipping any whose email or CRM id (`externalId`) the workspace already has
 * (no conflict target: either unique index skips the row); answers the inserted rows
 * with their index in `leads`, so a caller can tell which ones were duplicates.
 */
export async function insertNewLeads(
  db: Queryable,
  workspaceId: string,
  leads: NewLead[],
): Promise<Array<LeadRecord & { index: number }>> {
  if (leads.length === 0) return [];
  // Ids chosen here map the returned rows back to their input position; time-ordered like the
  // table's default (migration 006), on every server.
  const ids: string[] = leads.map(() => uuidv7());
  const rows = await db.query<LeadRecord>(
    `insert into leads (id, workspace_id, email, phone, timezone, first_name, last_name, company, title, status, custom_fields, external_id, owner_id)
     select u.id, $1, u.email, u.phone, u.timezone, u.first_name, u.last_name, u.company, u.title,
            ${INITIAL_STATUS}, coalesce(u.custom_fields, '{}'::jsonb), u.external_id, u.owner_id
     from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[], $12::text[], $13::uuid[])
       with ordinality as u(id, email, phone, timezone, first_name, last_name, company, title, status, custom_fields, external_id, owner_id, ord)
     order by u.ord
     on conflict do nothing
     returning ${LEAD_COLUMNS}`,
    [
      workspaceId,
      ids,
      ...leadColumnArrays(leads),
    ],
  );
  const indexOf = new Map(ids.map((id, index) => [id, index]));
  return rows.map((row) => ({ ...row, index: indexOf.get(row.id)! }));
}

/** What the lead list is filtered by (GET /api/leads, the export, bulk actions, saved filters). */
export interface LeadMatch {
  /** Matched against name, email and company, case-insensitively. */
  search?: string;
  status?: string;
  /** A member's id, or `none` for the unowned leads. */
  owner?: string;
}

export interface LeadFilter extends LeadMatch {
  workspaceId: string;
  after?: { at: Date; id: string };
  limit: number;
}

/**
 * The filter's conditions on `leads`, written once for every reader (the list, the count, the
 * ids a bulk action takes): `$1` is the workspace; the filter's values follow from `$2`.
 * A new filter key is one more line here.
 */
function matchWhere(workspaceId: string, match: LeadMatch): { where: string; params: unknown[] } {
  const pattern = match.search ? `%${match.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return {
    where: `workspace_id = $1
       and ($2::text is null or status = $2)
       and ($3::text is null or email ilike $3 or company ilike $3
            or concat_ws(' ', first_name, last_name) ilike $3)
       and (not $4 or owner_id is null) and ($5::uuid is null or owner_id = $5)`,
    params: [workspaceId, match.status ?? null, pattern, match.owner === 'none', match.owner && match.owner !== 'none' ? match.owner : null],
  };
}

/** A page of leads, newest first, keyset-paged on (created_at, id). */
export async function listLeads(db: Queryable, filter: LeadFilter): Promise<LeadRecord[]> {
  const { where, params } = matchWhere(filter.workspaceId, filter);
  return db.query<LeadRecord>(
    `select ${LEAD_COLUMNS} from leads
     where ${where}
       and ($6::timestamptz is null or (created_at, id) < ($6, $7::uuid))
     order by created_at desc, id desc
     limit $8`,
    [...params, filter.after?.at ?? null, filter.after?.id ?? null, filter.limit],
  );
}

/** How many leads match, counted up to `upTo` (a bulk action's cap: past it the exact number does not matter). */
export async function countLeadsMatching(db: Queryable, workspaceId: string, match: LeadMatch, upTo: number): Promise<number> {
  const { where, params } = matchWhere(workspaceId, match);
  const [row] = await db.query<{ n: number }>(`select count(*)::int as n from (select 1 from leads where ${where} limit $6) m`, [...params, upTo]);
  return row?.n ?? 0;
}

/** The ids of the leads that match now, in id order, at most `limit` (a bulk action's snapshot). */
export async function listLeadIdsMatching(db: Queryable, workspaceId: string, match: LeadMatch, limit: number): Promise<string[]> {
  const { where, params } = matchWhere(workspaceId, match);
  const rows = await db.query<{ id: string }>(`select id from leads where ${where} order by id limit $6`, [...params, limit]);
  return rows.map((r) => r.id);
}

/** Of these ids, the leads of the workspace, with the names a report shows (id order). */
export async function leadNamesOf(
  db: Queryable,
  workspaceId: string,
  ids: readonly string[],
): Promise<Array<{ id: string; firstName: string | null; lastName: string | null; email: string | null; phone: string | null }>> {
  if (ids.length === 0) return [];
  return db.query(
    `select id, first_name as "firstName", last_name as "lastName", email, phone from leads
     where workspace_id = $1 and id = any($2::uuid[]) order by id`,
    [workspaceId, ids],
  );
}

const PATCHABLE: Record<string, string> = {
  email: 'email',
  phone: 'phone',
  timezone: 'timezone',
  firstName: 'first_name',
  lastName: 'last_name',
  company: 'company',
  title: 'title',
  customFields: 'custom_fields',
  externalId: 'external_id',
};

/**
 * Changes the given fields (a `null` clears one); unknown keys (and `status`, which follows what
 * happens) are ignored. A change that would leave the lead with neither email nor phone changes
 * nothing and answers `unreachable`.
 */
export async function updateLead(
  db: Queryable,
  workspaceId: string,
  id: string,
  patch: Partial<Record<keyof typeof PATCHABLE, unknown>>,
): Promise<LeadRecord | 'unreachable' | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [workspaceId, id];
  for (const [key, value] of Object.entries(patch)) {
    const column = PATCHABLE[key];
    if (!column || value === undefined) continue;
    params.push(key === 'customFields' ? JSON.stringify(value) : value);
    sets.push(`${column} = $${params.length}${key === 'customFields' ? '::jsonb' : ''}`);
  }
  // The constraint `leads_reachable` (migration 008) checks the row as the update leaves it,
  // so two patches clearing one address each cannot race past the rule.
  try {
    const [row] = await db.query<LeadRecord>(
      `update leads set ${[...sets, 'updated_at = now()'].join(', ')} where workspace_id = $1 and id = $2
       returning ${LEAD_COLUMNS}`,
      params,
    );
    return row;
  } catch (error) {
    if ((error as { constraint?: string } | null)?.constraint === 'leads_reachable') return 'unreachable';
    if (/leads_reachable/.test(String((error as Error | null)?.message))) return 'unreachable';
    throw error;
  }
}

/** Deletes a lead with its enrollments and timeline (cascade). */
export async function deleteLead(db: Queryable, workspaceId: string, id: string): Promise<boolean> {
  return (await deleteLeads(db, workspaceId, [id])).length > 0;
}

/** Deletes the workspace's leads among `ids` in one statement; answers the ids deleted. */
export async function deleteLeads(db: Queryable, workspaceId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: string }>('delete from leads where workspace_id = $1 and id = any($2::uuid[]) returning id', [workspaceId, ids]);
  return rows.map((r) => r.id);
}

/**
 * Moves leads up to `status` (never down: only leads whose status ranks lower change). One
 * statement for the batch; a lead already there is not written.
 */
export async function advanceLeadStatus(tx: Queryable, leadIds: readonly string[], status: LeadStatus, now: Date): Promise<void> {
  if (leadIds.length === 0) return;
  const lower = LEAD_STATUSES.slice(0, LEAD_STATUSES.indexOf(status));
  if (lower.length === 0) return;
  await tx.query(
    `update leads set status = $2, updated_at = $3 where id = any($1::uuid[]) and status = any($4::text[])`,
    [leadIds, status, now, lower],
  );
}

/** After an opt-in lifted an opt-out: opted-out leads fall back to what their history shows. */
export async function recomputeOptedOut(tx: Queryable, leadIds: readonly string[], now: Date): Promise<void> {
  if (leadIds.length === 0) return;
  await tx.query(
    `update leads set status = lead_status_from_history(id), updated_at = $2 where id = any($1::uuid[]) and status = 'opted_out'`,
    [leadIds, now],
  );
}

/** Every lead, in any workspace, that holds an address on a channel. */
export async function leadsHoldingAddress(
  tx: Queryable,
  address: { channel: 'email' | 'sms' | 'voice'; value: string },
): Promise<Array<{ id: string; workspaceId: string }>> {
  const byEmail = address.channel === 'email';
  return tx.query(
    `select id, workspace_id as "workspaceId" from leads
     where ${byEmail ? 'lower(email) = lower($1) and email is not null' : 'phone = $1'}
     order by created_at, id`,
    [address.value],
  );
}

/** A lead's addresses, whatever its workspace (an event that names our message names its lead). */
export async function leadAddresses(db: Queryable, leadId: string): Promise<{ email: string | null; phone: string | null } | undefined> {
  const [row] = await db.query<{ email: string | null; phone: string | null }>('select email, phone from leads where id = $1', [leadId]);
  return row;
}

/** How another system names a lead: our id, its email, its phone (E.164) or the CRM's id. */
export type LeadKey = { leadId: string } | { email: string } | { phone: string } | { externalId: string };

/** The lead a key names in one workspace (a phone held by several: the oldest). */
export async function findLeadByKey(db: Queryable, workspaceId: string, key: LeadKey): Promise<LeadRecord | undefined> {
  // The database's lower(), as the unique index has it (see src/db/events.ts, NORMALISED).
  const [match, value] =
    'leadId' in key
      ? ['id = $2::uuid', key.leadId]
      : 'email' in key
        ? ['lower(email) = lower($2)', key.email]
        : 'phone' in key
          ? ['phone = $2', key.phone]
          : ['external_id = $2', key.externalId];
  const [row] = await db.query<LeadRecord>(
    `select ${LEAD_COLUMNS} from leads where workspace_id = $1 and ${match} order by created_at, id limit 1`,
    [workspaceId, value],
  );
  return row;
}

/**
 * Creates a lead from an event's keys (custom events' `upsertLead`) unless the workspace
 * already has one with its email or CRM id: no conflict target, so either unique index turns
 * the insert into nothing instead of an error that would abort the caller's transaction.
 */
export async function insertLeadIfAbsent(
  db: Queryable,
  workspaceId: string,
  lead: { email: string | null; phone: string | null; externalId: string | null },
): Promise<LeadRecord | undefined> {
  const [row] = await db.query<LeadRecord>(
    `insert into leads (id, workspace_id, email, phone, external_id, status)
     select $2, $1, u.email, u.phone, $5, ${INITIAL_STATUS}
     from (select $3::text as email, $4::text as phone, null::text as status) u
     on conflict do nothing
     returning ${LEAD_COLUMNS}`,
    [workspaceId, uuidv7(), lead.email, lead.phone, lead.externalId],
  );
  return row;
}

/** How many of the newest leads `customFieldKeys` reads: bounded, so the picker costs the same in any workspace. */
export const CUSTOM_FIELD_SAMPLE = 5_000;

/**
 * The custom-field keys of the workspace's newest leads (`CUSTOM_FIELD_SAMPLE`, through the
 * (workspace_id, created_at) index), most used first, with how many of those leads have each.
 * A key only older leads carry is left out; the picker is a shortcut, not a schema.
 */
export async function customFieldKeys(db: Queryable, workspaceId: string, limit = 200): Promise<{ key: string; leads: number }[]> {
  const rows = await db.query<{ key: string; leads: string | number }>(
    `select key, count(*) as leads
     from (select custom_fields from leads where workspace_id = $1 order by created_at desc, id desc limit $2) recent,
          jsonb_object_keys(case when jsonb_typeof(recent.custom_fields) = 'object' then recent.custom_fields else '{}'::jsonb end) as key
     group by key
     order by count(*) desc, key
     limit $3`,
    [workspaceId, CUSTOM_FIELD_SAMPLE, limit],
  );
  return rows.map((r) => ({ key: r.key, leads: Number(r.leads) }));
}
