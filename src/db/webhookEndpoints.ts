/**
 * Outbound webhook endpoints (docs/INTEGRATIONS.md, "Webhooks out"): a workspace's subscriber
 * URLs, what each subscribes to, its signing secrets, and whether it is on. Every read and
 * write names the workspace, so one workspace never sees another's endpoints.
 */
import type { Queryable } from './db.ts';

export type DisabledReason = 'operator' | 'gone' | 'failing';

export interface WebhookEndpoint {
  id: string;
  workspaceId: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  disabledReason: DisabledReason | null;
  disabledAt: Date | null;
  failingSince: Date | null;
  /** When the secret before the last rotation stops signing (null: no previous secret). */
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a deliverer signs with: the secret, and the previous one while it still signs. */
export interface EndpointSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/**
 * The additional data an endpoint's sealed signing secrets are bound to. One for both the
 * current and the previous secret: a rotation moves the current one into `previous_secret`.
 */
export function endpointSecretContext(endpointId: string): string {
  return `webhook-endpoint:${endpointId}`;
}

/** Whether a stored secret is sealed (src/secrets/keyRing.ts) rather than a plain `whsec_…` kept from before. */
export function isSealedSecret(value: string): boolean {
  return value.startsWith('v1.');
}

const COLUMNS = `id, workspace_id as "workspaceId", url, description, events, enabled, disabled_reason as "disabledReason",
  disabled_at as "disabledAt", failing_since as "failingSince", previous_secret_expires_at as "previousSecretExpiresAt",
  created_at as "createdAt", updated_at as "updatedAt"`;

export async function createEndpoint(
  db: Queryable,
  args: { id: string; workspaceId: string; url: string; description: string; events: string[]; secret: string; now: Date },
): Promise<WebhookEndpoint> {
  // The id is the caller's: a sealed secret is bound to it.
  const [row] = await db.query<WebhookEndpoint>(
    `insert into webhook_endpoints (id, workspace_id, url, description, events, secret, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7) returning ${COLUMNS}`,
    [args.id, args.workspaceId, args.url, args.description, args.events, args.secret, args.now],
  );
  return row!;
}

export function listEndpoints(db: Queryable, workspaceId: string): Promise<WebhookEndpoint[]> {
  return db.query<WebhookEndpoint>(`select ${COLUMNS} from webhook_endpoints where workspace_id = $1 order by created_at, id`, [workspaceId]);
}

export async function getEndpoint(db: Queryable, workspaceId: string, id: string): Promise<WebhookEndpoint | undefined> {
  const [row] = await db.query<WebhookEndpoint>(`select ${COLUMNS} from webhook_endpoints where workspace_id = $1 and id = $2`, [workspaceId, id]);
  return row;
}

/**
 * Changes what is given; `enabled: true` also clears the reason it was off and its failing
 * streak (an operator turning it back on starts it afresh), `enabled: false` records `operator`.
 */
export async function updateEndpoint(
  db: Queryable,
  workspaceId: string,
  id: string,
  patch: { url?: string; description?: string; events?: string[]; enabled?: boolean },
  now: Date,
): Promise<WebhookEndpoint | undefined> {
  const [row] = await db.query<WebhookEndpoint>(
    `update webhook_endpoints set
       url = coalesce($3, url),
       description = coalesce($4, description),
       events = coalesce($5, events),
       enabled = coalesce($6, enabled),
       disabled_reason = case when $6 is null then disabled_reason when $6 then null
                              when enabled then 'operator' else disabled_reason end,
       disabled_at = case when $6 is null then disabled_at when $6 then null when enabled then $7 else disabled_at end,
       failing_since = case when $6 then null else failing_since end,
       updated_at = $7
     where workspace_id = $1 and id = $2 returning ${COLUMNS}`,
    [workspaceId, id, patch.url ?? null, patch.description ?? null, patch.events ?? null, patch.enabled ?? null, now],
  );
  return row;
}

/** A new secret; the current one keeps signing beside it until `previousUntil`. */
export async function rotateSecret(
  db: Queryable,
  args: { workspaceId: string; id: string; secret: string; previousUntil: Date; now: Date },
): Promise<WebhookEndpoint | undefined> {
  const [row] = await db.query<WebhookEndpoint>(
    `update webhook_endpoints set previous_secret = secret, previous_secret_expires_at = $4, secret = $3, updated_at = $5
     where workspace_id = $1 and id = $2 returning ${COLUMNS}`,
    [args.workspaceId, args.id, args.secret, args.previousUntil, args.now],
  );
  return row;
}

export async function deleteEndpoint(db: Queryable, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db.query(`delete from webhook_endpoints where workspace_id = $1 and id = $2 returning id`, [workspaceId, id]);
  return rows.length > 0;
}

/** After an attempt: a success ends the failing streak; a failure starts one (if none is running). */
export async function recordEndpointHealth(db: Queryable, id: string, ok: boolean, now: Date): Promise<{ failingSince: Date | null }> {
  const [row] = await db.query<{ failingSince: Date | null }>(
    `update webhook_endpoints set failing_since = case when $2 then null else coalesce(failing_since, $3) end
     where id = $1 returning failing_since as "failingSince"`,
    [id, ok, now],
  );
  return row ?? { failingSince: null };
}

/** Turns an endpoint off for a reason of the deliverer's (`gone`, `failing`); its deliveries wait. */
export async function disableEndpoint(db: Queryable, id: string, reason: Exclude<DisabledReason, 'operator'>, now: Date): Promise<void> {
  await db.query(
    `update webhook_endpoints set enabled = false, disabled_reason = $2, disabled_at = $3, updated_at = $3 where id = $1 and enabled`,
    [id, reason, now],
  );
}
