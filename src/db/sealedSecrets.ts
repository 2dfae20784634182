/**
 * Every stored credential, for `touchpoint secrets rotate` (docs/SECURITY.md, "Rotating the
 * key"): mailbox passwords, provider connections and outbound webhook signing secrets, each
 * with the context it is sealed under. A value is replaced only if it is still the one read
 * (compare and set), so a rotation racing an API write never overwrites the newer value.
 */
import type { Queryable } from './db.ts';
import { connectionSecretContext } from './connections.ts';
import { mailboxSecretContext } from './mailboxes.ts';
import { endpointSecretContext } from './webhookEndpoints.ts';

/** Where a stored credential lives: a fixed list, so no name read from data reaches SQL. */
const PLACES = {
  'mailbox.smtp': { table: 'mailboxes', column: 'smtp_password_sealed', context: (id: string) => mailboxSecretContext(id, 'smtp') },
  'mailbox.imap': { table: 'mailboxes', column: 'imap_password_sealed', context: (id: string) => mailboxSecretContext(id, 'imap') },
  connection: { table: 'provider_connections', column: 'secret_sealed', context: connectionSecretContext },
  'webhook.secret': { table: 'webhook_endpoints', column: 'secret', context: endpointSecretContext },
  'webhook.previous': { table: 'webhook_endpoints', column: 'previous_secret', context: endpointSecretContext },
} as const;

export type SecretPlace = keyof typeof PLACES;

export interface StoredSecret {
  place: SecretPlace;
  id: string;
  value: string;
  /** The additional data it is (or, once sealed, will be) bound to. */
  context: string;
}

/** Every stored credential (nulls left out), place by place. */
export async function storedSecrets(db: Queryable, places: SecretPlace[] = Object.keys(PLACES) as SecretPlace[]): Promise<StoredSecret[]> {
  const out: StoredSecret[] = [];
  for (const place of places) {
    const { table, column, context } = PLACES[place];
    const rows = await db.query<{ id: string; value: string }>(`select id, ${column} as value from ${table} where ${column} is not null order by id`);
    for (const row of rows) out.push({ place, id: row.id, value: row.value, context: context(row.id) });
  }
  return out;
}

/** Replaces one credential if it still holds `before`; answers whether it did. */
export async function replaceSecret(db: Queryable, secret: StoredSecret, after: string): Promise<boolean> {
  const { table, column } = PLACES[secret.place];
  const rows = await db.query(`update ${table} set ${column} = $3 where id = $1 and ${column} = $2 returning id`, [secret.id, secret.value, after]);
  return rows.length > 0;
}
