/**
 * Per-workspace provider accounts (docs/PROVIDERS.md, "Per-workspace connections"). The
 * router wraps the deployment's adapters (built from the environment: the single-tenant
 * default) with ones that look at the sending workspace first: when it has its own SendGrid,
 * Postmark or Telnyx connection, the send goes through an adapter built for that account;
 * otherwise through the default. A workspace whose connection cannot be used (its credentials
 * do not open, the voice connection id is missing) gets a failed send, never the default
 * account: a tenant's mail must not go out under another account's name.
 *
 * Connections are looked up through an injected function (the assembly reads the rows and opens
 * the sealed credentials) and cached per workspace for `cacheMs`; an adapter is built once per
 * connection version and rebuilt when the connection changes. A change made through this
 * process's API is seen at once (`forget`); other processes see it within `cacheMs`.
 */
import { PostmarkEmailSender } from './email/postmark.ts';
import { SendGridEmailSender } from './email/sendgrid.ts';
import type { FetchLike } from './http.ts';
import { TelnyxSmsSender } from './sms/telnyx.ts';
import type { DeliveryAdapters, DeliveryResult, EmailSender, SmsSender, VoiceCaller } from './types.ts';
import { TelnyxVoiceCaller } from './voice/telnyx.ts';

export type ConnectionProviderName = 'sendgrid' | 'postmark' | 'telnyx';

/** One connection as the router needs it: credentials opened, or why they could not be. */
export type ConnectionCredentials = {
  id: string;
  provider: ConnectionProviderName;
  /** Changes whenever the connection does (its updated_at): an adapter of an older version is rebuilt. */
  version: string;
  settings: Record<string, string>;
} & ({ secrets: Record<string, string> } | { error: string });

export type ConnectionLookup = (workspaceId: string) => Promise<ConnectionCredentials[]>;

export interface ConnectionRouterOptions {
  lookup: ConnectionLookup;
  /** The deployment's EMAIL_PROVIDER: preferred when a workspace connected both email providers. */
  emailProvider: 'sendgrid' | 'postmark';
  baseUrls: { sendgrid?: string; postmark?: string; telnyx?: string };
  /** PUBLIC_URL: Telnyx reports a connection's messages and calls to `/webhooks/telnyx/{id}`. */
  publicUrl?: string;
  /** The engine's clock for send deadlines. */
  now?: () => number;
  /** How long a workspace's connections are trusted before they are read again. */
  cacheMs?: number;
  /** The cache's clock (wall time by default). */
  wallClock?: () => number;
  fetch?: FetchLike;
}

interface Built {
  version: string;
  email?: EmailSender;
  sms?: SmsSender;
  voice?: VoiceCaller;
  /** Why this connection cannot send on a channel (missing setting). */
  problem?: { voice?: string };
}

export class ConnectionRouter {
  private readonly cache = new Map<string, { until: number; connections: ConnectionCredentials[] }>();
  private readonly built = new Map<string, Built>();
  private readonly cacheMs: number;
  private readonly wallClock: () => number;

  constructor(private readonly options: ConnectionRouterOptions) {
    this.cacheMs = options.cacheMs ?? 30_000;
    this.wallClock = options.wallClock ?? Date.now;
  }

  /** Drops what is cached for one workspace (its connection changed here), or for all. */
  forget(workspaceId?: string): void {
    if (workspaceId === undefined) this.cache.clear();
    else this.cache.delete(workspaceId);
  }

  /** The default adapters, each looking at the sending workspace's own connection first. */
  wrap(defaults: DeliveryAdapters): DeliveryAdapters {
    const email: EmailSender = {
      adapter: defaults.email.adapter,
      send: async (message) => {
        const connection = await this.pick(message.workspaceId, 'email');
        if (connection === undefined) return defaults.email.send(message);
        if ('failed' in connection) return connection.failed;
        return tagged(await this.adapters(connection).email!.send(message), connection);
      },
    };
    const sms: SmsSender = {
      adapter: defaults.sms.adapter,
      send: async (message) => {
        const connection = await this.pick(message.workspaceId, 'telnyx');
        if (connection === undefined) return defaults.sms.send(message);
        if ('failed' in connection) return connection.failed;
        return tagged(await this.adapters(connection).sms!.send(message), connection);
      },
    };
    const voice: VoiceCaller = {
      adapter: defaults.voice.adapter,
      dial: async (call) => {
        const connection = await this.pick(call.workspaceId, 'telnyx');
        if (connection === undefined) return defaults.voice.dial(call);
        if ('failed' in connection) return connection.failed;
        const built = this.adapters(connection);
        if (!built.voice) return { kind: 'failed', retryable: false, code: 'connection_incomplete', message: built.problem?.voice ?? 'This Telnyx connection cannot place calls.' };
        return tagged(await built.voice.dial(call), connection);
      },
    };
    return { ...defaults, email, sms, voice };
  }

  /** The workspace's connection for a channel; undefined: none, use the default account. */
  private async pick(
    workspaceId: string,
    channel: 'email' | 'telnyx',
  ): Promise<(ConnectionCredentials & { secrets: Record<string, string> }) | { failed: DeliveryResult } | undefined> {
    let connections: ConnectionCredentials[];
    try {
      connections = await this.connectionsOf(workspaceId);
    } catch (error) {
      return { failed: { kind: 'failed', retryable: true, code: 'connection_lookup_failed', message: `The workspace's provider connections could not be read: ${(error as Error).message}` } };
    }
    const preferred = channel === 'telnyx' ? ['telnyx'] : [this.options.emailProvider, this.options.emailProvider === 'sendgrid' ? 'postmark' : 'sendgrid'];
    const connection = preferred.map((p) => connections.find((c) => c.provider === p)).find((c) => c !== undefined);
    if (!connection) return undefined;
    if ('error' in connection) {
      return { failed: { kind: 'failed', retryable: false, code: 'connection_unreadable', message: `The workspace's ${connection.provider} connection cannot be used: ${connection.error}` } };
    }
    return connection;
  }

  private async connectionsOf(workspaceId: string): Promise<ConnectionCredentials[]> {
    const now = this.wallClock();
    const cached = this.cache.get(workspaceId);
    if (cached && cached.until > now) return cached.connections;
    const connections = await this.options.lookup(workspaceId);
    this.cache.set(workspaceId, { until: now + this.cacheMs, connections });
    return connections;
  }

  private adapters(connection: ConnectionCredentials & { secrets: Record<string, string> }): Built {
    const existing = this.built.get(connection.id);
    if (existing && existing.version === connection.version) return existing;
    const { baseUrls, now, fetch } = this.options;
    const { secrets, settings } = connection;
    const built: Built = { version: connection.version };
    if (connection.provider === 'sendgrid') {
      built.email = new SendGridEmailSender({ apiKey: secrets.apiKey ?? '', baseUrl: baseUrls.sendgrid, now, fetch });
    } else if (connection.provider === 'postmark') {
      built.email = new PostmarkEmailSender({ serverToken: secrets.serverToken ?? '', baseUrl: baseUrls.postmark, now, fetch });
    } else {
      const webhookUrl = this.options.publicUrl ? `${this.options.publicUrl.replace(/\/$/, '')}/webhooks/telnyx/${connection.id}` : undefined;
      const apiKey = secrets.apiKey ?? '';
      built.sms = new TelnyxSmsSender({ apiKey, messagingProfileId: settings.messagingProfileId, baseUrl: baseUrls.telnyx, webhookUrl, now, fetch });
      if (settings.connectionId) {
        built.voice = new TelnyxVoiceCaller({ apiKey, connectionId: settings.connectionId, baseUrl: baseUrls.telnyx, webhookUrl, now, fetch });
      } else {
        built.problem = { voice: "This workspace's Telnyx connection has no connectionId (the Call Control application), so it cannot place calls; set it with PATCH /api/connections/{id}." };
      }
    }
    this.built.set(connection.id, built);
    return built;
  }
}

/** Which account sent it, on the execution row. */
function tagged(result: DeliveryResult, connection: { id: string; provider: string }): DeliveryResult {
  if (result.kind !== 'sent') return result;
  return { ...result, metadata: { ...result.metadata, connectionId: connection.id, provider: connection.provider } };
}
