import type { Lead } from '../core/definition.ts';
import type { Queryable } from './db.ts';

export interface LeadRecord extends Lead {
  workspaceId: string;
  status: string;
  customFields: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export type NewLead = Omit<Lead, 'id'> & { status?: string };

export const LEAD_COLUMNS = `id, workspace_id as "workspaceId", email, phone, timezone,
  first_name as "firstName", last_name as "lastName", company, title, status,
  custom_fields as "customFields", created_at as "createdAt", updated_at as "updatedAt"`;

/** Inserts many leads in one statement (unnest), returning them in input order. */
export async function insertLeads(db: Queryable, workspaceId: string, leads: NewLead[]): Promise<LeadRecord[]> {
  if (leads.length === 0) return [];
  const column = <K extends keyof NewLead>(key: K) => leads.map((l) => l[key] ?? null);
  return db.query<LeadRecord>(
    `insert into leads (workspace_id, email, phone, timezone, first_name, last_name, company, title, status, custom_fields)
     select $1, u.email, u.phone, u.timezone, u.first_name, u.last_name, u.company, u.title,
            coalesce(u.status, 'new'), coalesce(u.custom_fields, '{}'::jsonb)
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[])
       with ordinality as u(email, phone, timezone, first_name, last_name, company, title, status, custom_fields, ord)
     order by u.ord
     returning ${LEAD_COLUMNS}`,
    [
      workspaceId,
      column('email'),
      column('phone'),
      column('timezone'),
      column('firstName'),
      column('lastName'),
      column('company'),
      column('title'),
      column('status'),
      leads.map((l) => JSON.stringify(l.customFields ?? {})),
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

export async function getLeadsByIds(db: Queryable, workspaceId: string, ids: string[]): Promise<LeadRecord[]> {
  return db.query<LeadRecord>(`select ${LEAD_COLUMNS} from leads where workspace_id = $1 and id = any($2::uuid[])`, [
    workspaceId,
    ids,
  ]);
}
