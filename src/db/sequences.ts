import type { SequenceDefinition, SequenceDefinitionInput } from '../core/definition.ts';
import type { Queryable } from './db.ts';

export const SEQUENCE_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type SequenceStatus = (typeof SEQUENCE_STATUSES)[number];

export interface SequenceRecord {
  id: string;
  workspaceId: string;
  name: string;
  status: SequenceStatus;
  currentVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

const SEQUENCE_COLUMNS = `id, workspace_id as "workspaceId", name, status, current_version as "currentVersion",
  created_at as "createdAt", updated_at as "updatedAt"`;

/**
 * Stores a validated definition as version 1 of a new sequence. The stored document is the
 * one the user wrote; defaults are filled in when it is parsed, so they can evolve.
 */
export async function createSequence(
  db: Queryable,
  workspaceId: string,
  definition: SequenceDefinitionInput | SequenceDefinition,
  status: SequenceStatus = 'draft',
): Promise<SequenceRecord> {
  const [row] = await db.query<SequenceRecord>(
    `with s as (insert into sequences (workspace_id, name, status) values ($1, $2, $3) returning *),
          v as (insert into sequence_versions (sequence_id, version, definition) select id, 1, $4::jsonb from s)
     select ${SEQUENCE_COLUMNS} from s`,
    [workspaceId, definition.name, status, JSON.stringify(definition)],
  );
  return row!;
}

/** Adds a version; running enrollments stay on theirs (they carry their version number). */
export async function addSequenceVersion(
  db: Queryable,
  workspaceId: string,
  sequenceId: string,
  definition: SequenceDefinitionInput | SequenceDefinition,
): Promise<SequenceRecord | undefined> {
  const [row] = await db.query<SequenceRecord>(
    `with s as (update sequences set current_version = current_version + 1, name = $3, updated_at = now()
                where workspace_id = $1 and id = $2 returning *),
          v as (insert into sequence_versions (sequence_id, version, definition)
                select id, current_version, $4::jsonb from s)
     select ${SEQUENCE_COLUMNS} from s`,
    [workspaceId, sequenceId, definition.name, JSON.stringify(definition)],
  );
  return row;
}

export async function getSequence(db: Queryable, workspaceId: string, id: string): Promise<SequenceRecord | undefined> {
  const [row] = await db.query<SequenceRecord>(
    `select ${SEQUENCE_COLUMNS} from sequences where workspace_id = $1 and id = $2`,
    [workspaceId, id],
  );
  return row;
}

export async function setSequenceStatus(
  db: Queryable,
  workspaceId: string,
  id: string,
  status: SequenceStatus,
): Promise<SequenceRecord | undefined> {
  const [row] = await db.query<SequenceRecord>(
    `update sequences set status = $3, updated_at = now() where workspace_id = $1 and id = $2
     returning ${SEQUENCE_COLUMNS}`,
    [workspaceId, id, status],
  );
  return row;
}

export async function getDefinition(db: Queryable, sequenceId: string, version: number): Promise<unknown> {
  const [row] = await db.query<{ definition: unknown }>(
    'select definition from sequence_versions where sequence_id = $1 and version = $2',
    [sequenceId, version],
  );
  return row?.definition;
}

/** A page of sequences, newest first, keyset-paged on (created_at, id). */
export async function listSequences(
  db: Queryable,
  args: { workspaceId: string; status?: SequenceStatus; after?: { at: Date; id: string }; limit: number },
): Promise<SequenceRecord[]> {
  return db.query<SequenceRecord>(
    `select ${SEQUENCE_COLUMNS} from sequences
     where workspace_id = $1 and ($2::text is null or status = $2)
       and ($3::timestamptz is null or (created_at, id) < ($3, $4::uuid))
     order by created_at desc, id desc limit $5`,
    [args.workspaceId, args.status ?? null, args.after?.at ?? null, args.after?.id ?? null, args.limit],
  );
}

/** Locks the sequence row, so status changes and the holds they imply serialise. */
export async function lockSequence(tx: Queryable, workspaceId: string, id: string): Promise<SequenceRecord | undefined> {
  const [row] = await tx.query<SequenceRecord>(
    `select ${SEQUENCE_COLUMNS} from sequences where workspace_id = $1 and id = $2 for update`,
    [workspaceId, id],
  );
  return row;
}

export interface SequenceVersionInfo {
  version: number;
  createdAt: Date;
  enrollments: number;
}

/** Every version of a sequence, newest first, with how many enrollments run on each. */
export async function listSequenceVersions(db: Queryable, sequenceId: string): Promise<SequenceVersionInfo[]> {
  return db.query<SequenceVersionInfo>(
    `select v.version, v.created_at as "createdAt",
       (select count(*)::int from enrollments e where e.sequence_id = v.sequence_id and e.sequence_version = v.version) as enrollments
     from sequence_versions v where v.sequence_id = $1 order by v.version desc`,
    [sequenceId],
  );
}
