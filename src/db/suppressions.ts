/**
 * The suppression list as people keep it (docs/ACCOUNTS.md, "Suppression list"): the same
 * `suppressions` rows webhooks write (src/db/events.ts), listed, added and deleted by hand. An
 * address is normalised by the one rule of src/db/events.ts (`normalisedAddress`); a whole email
 * domain is the address `@domain` on the email channel. Every change by hand leaves a
 * `suppression_changes` row naming who made it.
 */
import type { Queryable } from './db.ts';
import { normalisedAddress } from './events.ts';

export type SuppressionChannel = 'email' | 'sms' | 'voice';
export type SuppressionKind = 'email' | 'phone' | 'domain';

export interface Suppression {
  id: string;
  channel: SuppressionChannel;
  address: string;
  kind: SuppressionKind;
  reason: string;
  source: string;
  addedBy: string | null;
  createdAt: Date;
}

/** What a stored row is, from its channel and address (no column: a domain is '@domain'). */
const KIND = `case when channel <> 'email' then 'phone' when left(address, 1) = '@' then 'domain' else 'email' end`;

const COLUMNS = `id, channel, address, ${KIND} as kind, reason, source, added_by as "addedBy", created_at as "createdAt"`;

export interface SuppressionFilter {
  workspaceId: string;
  channel?: SuppressionChannel;
  kind?: SuppressionKind;
  /** A part of the address, case-insensitive. */
  search?: string;
  after?: { at: Date; id: string };
  limit: number;
}

/** A page of the workspace's suppressions, newest first (keyset on created_at, id). */
export async function listSuppressions(db: Queryable, filter: SuppressionFilter): Promise<Suppression[]> {
  const pattern = filter.search ? `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return db.query<Suppression>(
    `select ${COLUMNS} from suppressions
     where workspace_id = $1
       and ($2::text is null or channel = $2)
       and ($3::text is null or ${KIND} = $3)
       and ($4::text is null or address ilike $4)
       and ($5::timestamptz is null or (created_at, id) < ($5, $6::uuid))
     order by created_at desc, id desc
     limit $7`,
    [filter.workspaceId, filter.channel ?? null, filter.kind ?? null, pattern, filter.after?.at ?? null, filter.after?.id ?? null, filter.limit],
  );
}

export async function getSuppression(db: Queryable, workspaceId: string, id: string): Promise<Suppression | undefined> {
  const [row] = await db.query<Suppression>(`select ${COLUMNS} from suppressions where workspace_id = $1 and id = $2`, [workspaceId, id]);
  return row;
}

/**
 * Suppresses `address` on each of `channels` in one workspace, by hand. A channel already
 * suppressed for it keeps its row (reason, source and all): the answer holds it with
 * `created: false`. `address` is as given (trimmed, validated): the database normalises it.
 */
export async function addSuppressions(
  db: Queryable,
  args: { workspaceId: string; channels: SuppressionChannel[]; address: string; reason: string; source: string; actor: string; now: Date },
): Promise<Array<Suppression & { created: boolean }>> {
  const normalised = normalisedAddress('w.channel', '$2');
  const rows = await db.query<Suppression & { created: boolean }>(
    `with wanted as (select distinct unnest($3::text[]) as channel),
     added as (
       insert into suppressions (workspace_id, channel, address, reason, source, added_by, created_at)
       select $1, w.channel, ${normalised}, $4, $5, $6, $7 from wanted w
       on conflict (workspace_id, channel, address) do nothing
       returning *),
     logged as (
       insert into suppression_changes (workspace_id, action, channel, address, reason, source, actor, at)
       select workspace_id, 'added', channel, address, reason, source, $6, $7 from added)
     select ${COLUMNS}, true as created from added
     union all
     -- The statement's snapshot predates its own inserts: these are the rows that were there.
     select ${COLUMNS}, false as created from suppressions
     where workspace_id = $1 and (channel, address) in (select w.channel, ${normalised} from wanted w)
     order by channel`,
    [args.workspaceId, args.address, args.channels, args.reason, args.source, args.actor, args.now],
  );
  if (rows.length >= new Set(args.channels).size) return rows;
  // A concurrent call inserted a channel after this statement's snapshot: its insert did nothing
  // and the snapshot cannot show the row. A new statement (a new snapshot) reads it.
  const late = await db.query<Suppression & { created: boolean }>(
    `select ${COLUMNS}, false as created from suppressions
     where workspace_id = $1 and (channel, address) in (select w.channel, ${normalised} from (select distinct unnest($3::text[]) as channel) w)
     order by channel`,
    [args.workspaceId, args.address, args.channels],
  );
  const created = new Set(rows.filter((r) => r.created).map((r) => r.id));
  return late.map((r) => ({ ...r, created: created.has(r.id) }));
}

/** Deletes one suppression of the workspace (whoever made it), with a change row naming the actor. */
export async function deleteSuppression(
  db: Queryable,
  args: { workspaceId: string; id: string; actor: string; now: Date },
): Promise<Suppression | undefined> {
  const [row] = await db.query<Suppression>(
    `with removed as (delete from suppressions where workspace_id = $1 and id = $2 returning *),
     logged as (
       insert into suppression_changes (workspace_id, action, channel, address, reason, source, actor, at)
       select workspace_id, 'removed', channel, address, reason, source, $3, $4 from removed)
     select ${COLUMNS} from removed`,
    [args.workspaceId, args.id, args.actor, args.now],
  );
  return row;
}

/** The hand-made changes of a workspace, newest first (for the docs' "who removed it" question and tests). */
export async function listSuppressionChanges(db: Queryable, workspaceId: string, limit = 100) {
  return db.query<{ action: 'added' | 'removed'; channel: string; address: string; reason: string | null; actor: string; at: Date }>(
    `select action, channel, address, reason, actor, at from suppression_changes where workspace_id = $1 order by at desc, id desc limit $2`,
    [workspaceId, limit],
  );
}

/**
 * Suppresses many (channel, address, reason) rows in one statement (the CSV import): addresses
 * as given, normalised here by the same rule. Rows already there (or repeated in `rows`) are
 * left as they are; the answer counts the rows added.
 */
export async function addSuppressionRows(
  db: Queryable,
  args: { workspaceId: string; rows: Array<{ channel: SuppressionChannel; address: string; reason: string }>; source: string; actor: string; now: Date },
): Promise<number> {
  if (args.rows.length === 0) return 0;
  const [row] = await db.query<{ added: number }>(
    `with added as (
       insert into suppressions (workspace_id, channel, address, reason, source, added_by, created_at)
       select $1, u.channel, ${normalisedAddress('u.channel', 'u.address')}, u.reason, $5, $6, $7
       from unnest($2::text[], $3::text[], $4::text[]) with ordinality as u(channel, address, reason, ord)
       order by u.ord
       on conflict (workspace_id, channel, address) do nothing
       returning *),
     logged as (
       insert into suppression_changes (workspace_id, action, channel, address, reason, source, actor, at)
       select workspace_id, 'added', channel, address, reason, source, $6, $7 from added)
     select count(*)::int as added from added`,
    [args.workspaceId, args.rows.map((r) => r.channel), args.rows.map((r) => r.address), args.rows.map((r) => r.reason), args.source, args.actor, args.now],
  );
  return row?.added ?? 0;
}
