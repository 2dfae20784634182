/**
 * Provider connections (docs/API.md, "Connections"; docs/PROVIDERS.md, "Per-workspace
 * connections"): a workspace's own SendGrid, Postmark or Telnyx account. Credentials go in, are
 * sealed under the key ring and never come out: answers list which are set (`secretsSet`). Each
 * answer carries the webhook URL to give the provider, which names the connection so that its
 * own key verifies what arrives there.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isSendGridKey, isTelnyxPublicKey } from '../config.ts';
import {
  connectionSecretContext,
  createConnection,
  deleteConnection,
  DuplicateConnectionError,
  getConnection,
  listConnections,
  updateConnection,
  type ConnectionProvider,
  type ConnectionRecord,
} from '../db/connections.ts';
import type { Db } from '../db/db.ts';
import type { KeyRing } from '../secrets/keyRing.ts';
import { callerOf } from './auth.ts';
import { commonErrors, errorSchema, fail, idParams, iso, isoTime, type Api } from './wire.ts';

export interface ConnectionRouteDeps {
  db: Db;
  /** Absent on PostgreSQL without TOUCHPOINT_SECRET_KEY: nothing can be stored sealed. */
  keyRing?: KeyRing;
  /** PUBLIC_URL: the webhook URLs are absolute when it is set. */
  publicUrl?: string;
  /** A workspace's connections changed: drop what this process cached of them. */
  onChange?: (workspaceId: string) => void;
  now?: () => Date;
}

const token = z.string().trim().min(1).max(512).refine((v) => !/\s/.test(v), { message: 'must have no spaces' });
const plain = z.string().trim().min(1).max(200).refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { message: 'must be one line' });
const sendgridKey = z.string().trim().refine(isSendGridKey, { message: 'must be the base64 verification key SendGrid shows (an ECDSA P-256 public key)' });
const telnyxKey = z.string().trim().refine(isTelnyxPublicKey, { message: 'must be the base64 Ed25519 public key from the Telnyx portal (32 bytes)' });

/** Per provider: which fields are secrets (sealed, never returned) and which are plain settings. */
const FIELDS: Record<ConnectionProvider, { secrets: Record<string, z.ZodType<string>>; settings: Record<string, z.ZodType<string>>; required: string[] }> = {
  sendgrid: {
    secrets: { apiKey: token.describe('A SendGrid API key with Mail Send access') },
    settings: {
      webhookPublicKey: sendgridKey.describe('The Event Webhook verification key'),
      inboundPublicKey: sendgridKey.describe('The Inbound Parse verification key'),
    },
    required: ['apiKey'],
  },
  postmark: {
    secrets: { serverToken: token.describe('The Postmark server token'), webhookPassword: token.describe('Basic-auth password of its webhooks') },
    settings: { webhookUser: plain.describe('Basic-auth user name of its webhooks') },
    required: ['serverToken'],
  },
  telnyx: {
    secrets: { apiKey: token.describe('A Telnyx API key (v2)') },
    settings: {
      publicKey: telnyxKey.describe('The webhook signing public key'),
      messagingProfileId: plain.describe('The messaging profile texts are sent with'),
      connectionId: plain.describe('The Call Control application calls are placed with (needed for voice steps)'),
    },
    required: ['apiKey'],
  },
};

const allFields = {
  apiKey: token.optional(),
  serverToken: token.optional(),
  webhookPassword: token.nullable().optional(),
  webhookPublicKey: sendgridKey.nullable().optional(),
  inboundPublicKey: sendgridKey.nullable().optional(),
  webhookUser: plain.nullable().optional(),
  publicKey: telnyxKey.nullable().optional(),
  messagingProfileId: plain.nullable().optional(),
  connectionId: plain.nullable().optional(),
};
const createBody = z
  .strictObject({ provider: z.enum(['sendgrid', 'postmark', 'telnyx']), ...allFields })
  .describe('sendgrid: apiKey, webhookPublicKey?, inboundPublicKey?; postmark: serverToken, webhookUser?, webhookPassword?; telnyx: apiKey, publicKey?, messagingProfileId?, connectionId?');
const patchBody = z.strictObject(allFields).describe('Only the fields given change; null clears an optional one; a secret left out is kept');

const connectionSchema = z
  .object({
    id: z.string(),
    provider: z.enum(['sendgrid', 'postmark', 'telnyx']),
    settings: z.record(z.string(), z.string()).describe('What is not secret (public keys, ids, the webhook user)'),
    secretsSet: z.array(z.string()).describe('Which credentials are stored (sealed; never returned)'),
    webhooks: z.record(z.string(), z.string()).describe('Where the provider must post: these URLs name the connection'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Connection' });

const withConflict = { ...commonErrors, 409: errorSchema, 422: errorSchema };
const noKey = 'Provider credentials are stored sealed under TOUCHPOINT_SECRET_KEY, which this server does not have (PostgreSQL needs it set); set it and restart.';

export function connectionRoutes(api: Api, deps: ConnectionRouteDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const base = deps.publicUrl?.replace(/\/$/, '') ?? '';

  /** The paths a provider posts to for this connection (docs/PROVIDERS.md). */
  const webhooksOf = (c: ConnectionRecord): Record<string, string> =>
    c.provider === 'sendgrid'
      ? { events: `${base}/webhooks/sendgrid/${c.id}`, inbound: `${base}/webhooks/sendgrid/${c.id}/inbound` }
      : c.provider === 'postmark'
        ? { events: `${base}/webhooks/postmark/${c.id}`, inbound: `${base}/webhooks/postmark/${c.id}/inbound` }
        : { events: `${base}/webhooks/telnyx/${c.id}` };

  const wire = (c: ConnectionRecord, secretNames: string[]) => ({
    id: c.id,
    provider: c.provider,
    settings: c.settings,
    secretsSet: secretNames,
    webhooks: webhooksOf(c),
    createdAt: iso(c.createdAt)!,
    updatedAt: iso(c.updatedAt)!,
  });

  /** The names of the stored secrets, read from the sealed object (its values never leave here). */
  const secretNamesOf = (keyRing: KeyRing, c: ConnectionRecord): string[] => {
    try {
      return Object.keys(JSON.parse(keyRing.open(c.secretSealed, connectionSecretContext(c.id))) as object).sort();
    } catch {
      return [];
    }
  };

  /** Splits a body into this provider's settings and secrets; a field of another provider is a 422. */
  const split = (provider: ConnectionProvider, body: Record<string, unknown>) => {
    const fields = FIELDS[provider];
    const foreign = Object.keys(body).filter((k) => k !== 'provider' && body[k] !== undefined && !(k in fields.secrets) && !(k in fields.settings));
    const settings: Record<string, string | null> = {};
    const secrets: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(body)) {
      if (v === undefined) continue;
      if (k in fields.settings) settings[k] = v as string | null;
      if (k in fields.secrets) secrets[k] = v as string | null;
    }
    return { foreign, settings, secrets };
  };

  const merged = (current: Record<string, string>, change: Record<string, string | null>) => {
    const out: Record<string, string> = { ...current };
    for (const [k, v] of Object.entries(change)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return out;
  };

  api.post(
    '/connections',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Connect the workspace’s own SendGrid, Postmark or Telnyx account',
        description: 'Credentials are sealed (AES-256-GCM) and never returned. One connection per provider. See docs/PROVIDERS.md.',
        tags: ['connections'],
        body: createBody,
        response: { 201: connectionSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { keyRing } = deps;
      if (!keyRing) return fail(reply, 409, 'secret_key_missing', noKey);
      const { workspaceId } = callerOf(request);
      const { provider } = request.body;
      const { foreign, settings, secrets } = split(provider, request.body);
      if (foreign.length > 0) return fail(reply, 422, 'unknown_fields', `A ${provider} connection has no ${foreign.join(', ')}.`, { fields: foreign });
      const missing = FIELDS[provider].required.filter((k) => !secrets[k]);
      if (missing.length > 0) return fail(reply, 422, 'missing_fields', `A ${provider} connection needs ${missing.join(' and ')}.`, { fields: missing });
      const id = randomUUID();
      const stored = merged({}, secrets);
      try {
        const created = await createConnection(
          db,
          workspaceId,
          { id, provider, settings: merged({}, settings), secretSealed: keyRing.seal(JSON.stringify(stored), connectionSecretContext(id)) },
          now(),
        );
        deps.onChange?.(workspaceId);
        return reply.status(201).send(wire(created, Object.keys(stored).sort()));
      } catch (error) {
        if (error instanceof DuplicateConnectionError) return fail(reply, 409, 'duplicate_connection', error.message);
        throw error;
      }
    },
  );

  api.get(
    '/connections',
    {
      config: { minRole: 'viewer' },
      schema: { summary: 'The workspace’s provider connections (without credentials)', tags: ['connections'], response: { 200: z.object({ items: z.array(connectionSchema) }), ...commonErrors } },
    },
    async (request) => {
      const { workspaceId } = callerOf(request);
      const rows = await listConnections(db, workspaceId);
      return { items: rows.map((c) => wire(c, deps.keyRing ? secretNamesOf(deps.keyRing, c) : [])) };
    },
  );

  api.get(
    '/connections/:id',
    {
      config: { minRole: 'viewer' },
      schema: { summary: 'One provider connection (without credentials)', tags: ['connections'], params: idParams, response: { 200: connectionSchema, ...commonErrors } },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      const c = await getConnection(db, workspaceId, request.params.id);
      if (!c) return fail(reply, 404, 'not_found', `No connection ${request.params.id} in this workspace.`);
      return wire(c, deps.keyRing ? secretNamesOf(deps.keyRing, c) : []);
    },
  );

  api.patch(
    '/connections/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Change a provider connection (a credential only when given)',
        tags: ['connections'],
        params: idParams,
        body: patchBody,
        response: { 200: connectionSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { keyRing } = deps;
      if (!keyRing) return fail(reply, 409, 'secret_key_missing', noKey);
      const { workspaceId } = callerOf(request);
      const current = await getConnection(db, workspaceId, request.params.id);
      if (!current) return fail(reply, 404, 'not_found', `No connection ${request.params.id} in this workspace.`);
      const { foreign, settings, secrets } = split(current.provider, request.body);
      if (foreign.length > 0) return fail(reply, 422, 'unknown_fields', `A ${current.provider} connection has no ${foreign.join(', ')}.`, { fields: foreign });
      let stored: Record<string, string>;
      try {
        stored = JSON.parse(keyRing.open(current.secretSealed, connectionSecretContext(current.id))) as Record<string, string>;
      } catch (error) {
        // Unreadable (a lost key): only a full set of new credentials can replace it.
        const required = FIELDS[current.provider].required;
        if (required.some((k) => !secrets[k])) {
          return fail(reply, 409, 'secret_unreadable', `The stored credentials cannot be opened (${(error as Error).message}); give ${required.join(' and ')} again.`);
        }
        stored = {};
      }
      const next = merged(stored, secrets);
      const missing = FIELDS[current.provider].required.filter((k) => !next[k]);
      if (missing.length > 0) return fail(reply, 422, 'missing_fields', `A ${current.provider} connection needs ${missing.join(' and ')}.`, { fields: missing });
      const updated = await updateConnection(
        db,
        workspaceId,
        { id: current.id, settings: merged(current.settings, settings), secretSealed: keyRing.seal(JSON.stringify(next), connectionSecretContext(current.id)) },
        now(),
      );
      if (!updated) return fail(reply, 404, 'not_found', `No connection ${request.params.id} in this workspace.`);
      deps.onChange?.(workspaceId);
      return wire(updated, Object.keys(next).sort());
    },
  );

  api.delete(
    '/connections/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Delete a provider connection',
        description: 'The workspace then sends through the deployment’s default account (the environment), if it has one.',
        tags: ['connections'],
        params: idParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workspaceId } = callerOf(request);
      if (!(await deleteConnection(db, workspaceId, request.params.id))) return fail(reply, 404, 'not_found', `No connection ${request.params.id} in this workspace.`);
      deps.onChange?.(workspaceId);
      return reply.status(204).send(null);
    },
  );
}
