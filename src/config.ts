/**
 * Configuration: parsed once at start from the environment (zod), then passed down. Nothing
 * below `src/cli` reads `process.env`. Secrets are listed so the logger can redact them.
 */
import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { isValidZone } from './core/definition.ts';

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off', ''];
const bool = z
  .union([z.boolean(), z.string()])
  .refine((v) => typeof v === 'boolean' || [...TRUE, ...FALSE].includes(v.trim().toLowerCase()), {
    message: 'must be true or false (1/0, yes/no and on/off work too)',
  })
  .transform((v) => (typeof v === 'boolean' ? v : TRUE.includes(v.trim().toLowerCase())));
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/** An optional setting that, when given, must pass `check`. */
const optionalChecked = (check: (v: string) => boolean, message: string) =>
  optionalText.refine((v) => v === undefined || check(v), { message });

function urlWith(protocols: string[]) {
  return (value: string): boolean => {
    try {
      const url = new URL(value);
      return protocols.includes(url.protocol) && url.hostname !== '';
    } catch {
      return false;
    }
  };
}
const isHttpUrl = urlWith(['http:', 'https:']);
const HTTP_URL = 'must be an http(s) URL such as https://touchpoint.example.com';
const httpUrl = (fallback: string) => z.string().trim().refine(isHttpUrl, { message: HTTP_URL }).default(fallback);

/** E.164: a plus, a country code, at most 15 digits in all, no spaces. */
const E164 = /^\+[1-9]\d{6,14}$/;
const PHONE = 'must be a phone number in E.164 form, e.g. +14155550100';
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** http is for a provider on this machine only: anywhere else the code and tokens would cross the network in clear. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
function isIssuerUrl(value: string): boolean {
  if (!isHttpUrl(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
}
/** A comma-separated list of domains, lower-cased; empty when unset. */
const domainList = z
  .string()
  .optional()
  .transform((v, context) => {
    const domains = (v ?? '').split(',').map((d) => d.trim().toLowerCase().replace(/^@/, '')).filter(Boolean);
    const bad = domains.find((d) => !(HOSTNAME.test(d) && d.includes('.')));
    if (bad) context.addIssue({ code: 'custom', message: `"${bad}" is not a domain; use e.g. example.com,example.org` });
    return [...new Set(domains)];
  });
const EMAIL = z.email({ message: 'must be an email address such as outreach@example.com' });

function base64(value: string): Buffer | undefined {
  const compact = value.replace(/\s+/g, '');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}
/** SendGrid's verification key: base64 DER of an ECDSA P-256 public key, as its console shows it. */
export function isSendGridKey(value: string): boolean {
  const der = base64(value);
  if (!der) return false;
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}
/** TOUCHPOINT_SECRET_KEY: 32 bytes as 64 hex digits or base64 (src/secrets/keyRing.ts reads it). */
function isSecretKey(value: string): boolean {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return true;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length === 32;
}
/** Telnyx's webhook key: a base64 Ed25519 public key (32 bytes), as its portal shows it. */
export function isTelnyxPublicKey(value: string): boolean {
  return base64(value)?.length === 32;
}
const SECRET_KEY = 'must be 32 random bytes as 64 hex digits or base64; generate one with `openssl rand -base64 32`';
const SENDGRID_KEY = 'must be the base64 verification key SendGrid shows (an ECDSA P-256 public key)';

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z
    .string()
    .trim()
    .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), { message: 'must be an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0' })
    .default('127.0.0.1'),
  DATA_DIR: z.string().trim().min(1, 'must name a folder').default('./.touchpoint'),
  DATABASE_URL: optionalChecked(urlWith(['postgres:', 'postgresql:']), 'must be a postgres:// URL such as postgres://postgres@127.0.0.1:5432/touchpoint'),
  REDIS_URL: optionalChecked(urlWith(['redis:', 'rediss:']), 'must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379'),
  PUBLIC_URL: optionalChecked(isHttpUrl, HTTP_URL),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  USE_MOCK_SEQUENCE_DELIVERY: bool.default(true),
  LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  /**
   * The longest the dispatcher sleeps with nothing due before it looks at the database again
   * (a safety net for a lost wake-up or a clock jump; every change that makes work due wakes it
   * at once). Unset: 60 s embedded, min(30 s, LEASE_SECONDS) on a distributed leader. The
   * wake-up tests set it to minutes, so only a wake-up explains a prompt step.
   */
  DISPATCHER_MAX_IDLE_SECONDS: z.coerce.number().int().min(1).max(3600).optional(),
  /** Attempts in a row whose step throws before an enrollment is `failed` (an operator can retry it). */
  MAX_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  /** Watch the INBOX of every mailbox with IMAP settings (docs/MAILBOXES.md, "Replies, bounces and auto-replies"). */
  IMAP_WATCH: bool.default(true),
  /** How often each INBOX is looked at besides IDLE's notifications (and the poll of a server without IDLE). */
  IMAP_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** How long a process's watch of a mailbox lasts unless renewed; another process takes it over after. */
  IMAP_LEASE_SECONDS: z.coerce.number().int().min(3).max(3600).default(60),
  /** How long an auto-reply that states no return day pauses the lead's enrollments. */
  AUTO_REPLY_PAUSE_DAYS: z.coerce.number().min(0).max(365).default(3),
  /** A stated return day further away than this is not believed (the default pause applies). */
  AUTO_REPLY_MAX_PAUSE_DAYS: z.coerce.number().int().min(1).max(365).default(90),
  /** REST API requests per minute per token (per client address without a token). */
  API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(600),
  WORKSPACE_TIMEZONE: z
    .string()
    .trim()
    .refine(isValidZone, { message: 'must be an IANA time zone such as America/New_York or Europe/Berlin' })
    .default('America/New_York'),
  EMAIL_FROM: z.string().trim().pipe(EMAIL).default('outreach@touchpoint.local'),
  // A name goes into the From header: a line break there would add headers of the sender's choosing.
  EMAIL_FROM_NAME: optionalChecked((v) => v.length <= 200 && !/[\u0000-\u001f\u007f]/.test(v), 'must be one line of at most 200 characters'),
  SMS_FROM_NUMBER: z.string().trim().regex(E164, PHONE).default('+15550000000'),
  VOICE_FROM_NUMBER: optionalChecked((v) => E164.test(v), PHONE),
  EMAIL_PROVIDER: z.enum(['sendgrid', 'postmark']).default('sendgrid'),
  SENDGRID_API_KEY: optionalText,
  SENDGRID_BASE_URL: httpUrl('https://api.sendgrid.com'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optionalChecked(isSendGridKey, SENDGRID_KEY),
  /** The Inbound Parse security policy's key; SendGrid signs parsed mail with its own key pair. */
  SENDGRID_INBOUND_PUBLIC_KEY: optionalChecked(isSendGridKey, SENDGRID_KEY),
  POSTMARK_SERVER_TOKEN: optionalText,
  POSTMARK_BASE_URL: httpUrl('https://api.postmarkapp.com'),
  POSTMARK_WEBHOOK_USER: optionalText,
  POSTMARK_WEBHOOK_PASSWORD: optionalText,
  TELNYX_API_KEY: optionalText,
  TELNYX_BASE_URL: httpUrl('https://api.telnyx.com'),
  TELNYX_PUBLIC_KEY: optionalChecked((v) => base64(v)?.length === 32, 'must be the base64 Ed25519 public key from the Telnyx portal (32 bytes)'),
  TELNYX_MESSAGING_PROFILE_ID: optionalText,
  TELNYX_CONNECTION_ID: optionalText,
  /** How long a worker trusts a workspace's provider connections before reading them again (docs/PROVIDERS.md). */
  CONNECTION_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  // Meetings booked (docs/INTEGRATIONS.md): the secret set on the Cal.com webhook, and the
  // signing key of the Calendly webhook subscription. Unset: the route answers 503.
  CALCOM_WEBHOOK_SECRET: optionalText,
  CALENDLY_WEBHOOK_SIGNING_KEY: optionalText,
  VOICE_ORCHESTRATOR_URL: optionalChecked(isHttpUrl, HTTP_URL),
  AI_WRITER_API_KEY: optionalText,
  AI_WRITER_BASE_URL: httpUrl('https://api.openai.com/v1'),
  AI_WRITER_MODEL: z.string().trim().min(1, 'must name a model, e.g. gpt-4o-mini').default('gpt-4o-mini'),
  AI_WRITER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /**
   * How long a landing reply waits for the AI writer's endpoint to classify it when no rule
   * matched (docs/ANALYTICS.md, "Reply sentiment"); past it the rules' class stands.
   */
  AI_REPLY_CLASSIFIER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Signs one-click unsubscribe links; required with live delivery so links outlive a restart. */
  UNSUBSCRIBE_SECRET: optionalChecked((v) => Buffer.byteLength(v, 'utf8') >= 32, 'must be at least 32 bytes; generate one with `openssl rand -hex 32`'),
  /**
   * Seals stored credentials (mailbox passwords, provider connections) with AES-256-GCM. Unset on
   * the embedded store: generated once into DATA_DIR/secret.key. Required with live delivery on
   * PostgreSQL (docs/SECURITY.md, "Stored credentials").
   */
  TOUCHPOINT_SECRET_KEY: optionalChecked(isSecretKey, SECRET_KEY),
  /** Keys of before a rotation, comma-separated: they open what they sealed, never seal (docs/OPERATIONS.md). */
  TOUCHPOINT_SECRET_KEY_PREVIOUS: optionalChecked(
    (v) => v.split(',').map((k) => k.trim()).filter(Boolean).every(isSecretKey),
    'must be a comma-separated list of former TOUCHPOINT_SECRET_KEY values (each 32 bytes as hex or base64)',
  ),
  /** How mock calls end, so the embedded demo's timeline shows call outcomes; `none` = no events. */
  MOCK_CALL_OUTCOME: z.enum(['answered', 'voicemail', 'no_answer', 'none']).default('answered'),
  /** How long after a mock email to a `+reply` address (the demo data's) its simulated reply comes. */
  MOCK_REPLY_DELAY_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalChecked(isHttpUrl, 'must be an http(s) URL such as http://127.0.0.1:4318'),
  /** Distributed mode: namespaces the BullMQ queue, rate-limit buckets and wake channel in Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('touchpoint'),
  /** Jobs one `touchpoint worker` holds at once; they run as batches of up to 100 (half of it). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(2000).default(200),
  /** `touchpoint worker` serves /metrics and /healthz here; 0 disables. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Sends per second per account and per sender (0 = no limit); Telnyx: 50 SMS/s, 1 msg/s per long code. */
  RATE_LIMIT_EMAIL_PER_SECOND: z.coerce.number().min(0).default(0),
  RATE_LIMIT_EMAIL_PER_SENDER_PER_SECOND: z.coerce.number().min(0).default(0),
  RATE_LIMIT_SMS_PER_SECOND: z.coerce.number().min(0).default(50),
  RATE_LIMIT_SMS_PER_SENDER_PER_SECOND: z.coerce.number().min(0).default(1),
  RATE_LIMIT_VOICE_PER_SECOND: z.coerce.number().min(0).default(10),
  RATE_LIMIT_VOICE_PER_SENDER_PER_SECOND: z.coerce.number().min(0).default(1),
  /** Longest a send waits for a slot before it is rescheduled (capped at a third of the lease). */
  RATE_LIMIT_MAX_WAIT_MS: z.coerce.number().int().min(0).default(15_000),
  /** Per-lead frequency cap: sends per channel per lead per local day, across sequences (0 = no cap); a workspace may override. */
  FREQUENCY_CAP_EMAIL_PER_DAY: z.coerce.number().int().min(0).max(1000).default(3),
  FREQUENCY_CAP_SMS_PER_DAY: z.coerce.number().int().min(0).max(1000).default(2),
  FREQUENCY_CAP_VOICE_PER_DAY: z.coerce.number().int().min(0).max(1000).default(2),
  /** Mock delivery runs unthrottled (demos, tests) unless this is true. */
  RATE_LIMIT_MOCK_DELIVERY: bool.default(false),
  /**
   * Behind a reverse proxy: the proxies whose X-Forwarded-For is believed (`true` = any, or a
   * comma-separated list of addresses/CIDRs). Unset: the peer address is the client's.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, context): boolean | string[] => {
      const text = v?.trim() ?? '';
      if (['', 'false', '0', 'no', 'off'].includes(text.toLowerCase())) return false;
      if (['true', '1', 'yes', 'on'].includes(text.toLowerCase())) return true;
      const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
      const bad = entries.find((e) => isIP(e.split('/')[0] ?? '') === 0 || (e.includes('/') && !/^\d{1,3}$/.test(e.split('/')[1] ?? '')));
      if (bad) context.addIssue({ code: 'custom', message: `"${bad}" is not an address or CIDR; use true, false or e.g. 10.0.0.0/8,127.0.0.1` });
      return entries;
    }),
  /** Failed API authentications per minute per client address; past it, 429 without a token lookup. */
  AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(30),
  // ── Accounts (docs/ACCOUNTS.md): sessions, the sign-in lockout, optional single sign-on.
  /** A session not used for this long ends (the dashboard signs in again). */
  SESSION_IDLE_HOURS: z.coerce.number().min(0.05).max(24 * 90).default(72),
  /** A session ends this long after sign-in, however busy. */
  SESSION_MAX_DAYS: z.coerce.number().min(0.01).max(365).default(30),
  /** Failed sign-ins for one email within LOGIN_LOCKOUT_MINUTES before it is locked that long. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_LOCKOUT_MINUTES: z.coerce.number().min(1).max(24 * 60).default(15),
  /** Failed sign-ins per client address per 15 minutes before 429 (any email). */
  LOGIN_ADDRESS_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(50),
  /** The OpenID provider (docs/ACCOUNTS.md, "Single sign-on"): https, or http on this machine only (tests, a local provider). */
  OIDC_ISSUER: optionalChecked(isIssuerUrl, 'must be the issuer URL over https, e.g. https://accounts.google.com (http only for localhost or 127.0.0.1)'),
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  /** Only verified emails of these domains may sign in with SSO (comma-separated, e.g. example.com,example.org); unset = any. */
  OIDC_ALLOWED_DOMAINS: domainList,
  /** The older, one-domain spelling of OIDC_ALLOWED_DOMAINS; both lists are merged. */
  OIDC_ALLOWED_DOMAIN: domainList,
  /**
   * Just-in-time accounts: a verified email of an allowed domain with no account and no invite
   * gets an account in this workspace (by name) with OIDC_JIT_ROLE. Unset = refused.
   */
  OIDC_JIT_WORKSPACE: optionalText,
  OIDC_JIT_ROLE: z.enum(['viewer', 'operator', 'admin']).default('viewer'),
  /** Bearer token Prometheus sends to GET /metrics (an API token is accepted too). */
  METRICS_TOKEN: optionalChecked((v) => v.length >= 16, 'must be at least 16 characters; generate one with `openssl rand -hex 16`'),
  /** A scrape reuses the store's counts (due, in flight) for this long. */
  METRICS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
  // ── Live updates (GET /api/stream; docs/DASHBOARD.md, "Live updates").
  /** A comment on every open stream this often, so proxies keep it open. */
  LIVE_HEARTBEAT_MS: z.coerce.number().int().min(10).max(300_000).default(15_000),
  /** Open streams one token or session may hold at once (tabs); past it 429. */
  LIVE_STREAMS_PER_CALLER: z.coerce.number().int().min(1).max(1000).default(16),
  /** SIGTERM: how long in-flight work may take before leases are given back and the process exits. */
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // ── Webhook intake (docs/PROVIDERS.md, "Webhooks"): body caps per route and the failure limit.
  /** Largest SendGrid event batch, Postmark event or Telnyx event (SendGrid batches at ~768 KB). */
  WEBHOOK_EVENT_BODY_LIMIT_BYTES: z.coerce.number().int().min(64 * 1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Largest SendGrid Inbound Parse post (SendGrid parses mail up to 30 MB). */
  SENDGRID_INBOUND_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024 * 1024).max(256 * 1024 * 1024).default(32 * 1024 * 1024),
  /** Largest Postmark inbound JSON (35 MB of attachments, base64: ~47 MB). */
  POSTMARK_INBOUND_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024 * 1024).max(256 * 1024 * 1024).default(50 * 1024 * 1024),
  /** Webhook requests per client address that may fail authentication per minute before 429; 0 = no limit. */
  WEBHOOK_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(20),
  /** Signed bodies read at once before their signature is checked (one address: half); past it 503 + Retry-After. */
  WEBHOOK_UNVERIFIED_BYTES_IN_FLIGHT: z.coerce.number().int().min(1024 * 1024).max(4 * 1024 * 1024 * 1024).default(128 * 1024 * 1024),
  // ── Outbound webhooks (docs/INTEGRATIONS.md, "Webhooks out"; docs/OPERATIONS.md).
  /** Lets endpoints reach private, loopback and link-local addresses (tests, a receiver on this machine). */
  WEBHOOKS_ALLOW_PRIVATE: bool.default(false),
  /** How long a receiver has to answer one delivery. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** How long after an event its delivery is retried (timeouts, 5xx, 429); also how long an endpoint may fail before it is disabled. */
  WEBHOOK_RETRY_HOURS: z.coerce.number().min(24).max(24 * 7).default(24),
  /** Deliveries one process posts at once. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
  /** Longest a deliverer sleeps between looks at the outbox: the most a new event waits. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
}).superRefine((config, context) => {
  if (!config.USE_MOCK_SEQUENCE_DELIVERY && config.DATABASE_URL && !config.TOUCHPOINT_SECRET_KEY) {
    context.addIssue({
      code: 'custom',
      path: ['TOUCHPOINT_SECRET_KEY'],
      message:
        'must be set with live delivery on PostgreSQL: every process must seal and open mailbox passwords with the same key. Generate one with `openssl rand -base64 32`',
    });
  }
  if (config.SESSION_IDLE_HOURS > config.SESSION_MAX_DAYS * 24) {
    context.addIssue({ code: 'custom', path: ['SESSION_IDLE_HOURS'], message: `must not exceed SESSION_MAX_DAYS (${config.SESSION_MAX_DAYS} days = ${config.SESSION_MAX_DAYS * 24} hours)` });
  }
  const oidc = { OIDC_ISSUER: config.OIDC_ISSUER, OIDC_CLIENT_ID: config.OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: config.OIDC_CLIENT_SECRET };
  const given = Object.entries(oidc).filter(([, v]) => v);
  if (given.length > 0 && given.length < 3) {
    for (const [key] of Object.entries(oidc).filter(([, v]) => !v)) {
      context.addIssue({ code: 'custom', path: [key], message: 'must be set together with OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or none of them)' });
    }
  }
  if (config.OIDC_JIT_WORKSPACE && !config.OIDC_ISSUER) {
    context.addIssue({ code: 'custom', path: ['OIDC_JIT_WORKSPACE'], message: 'needs single sign-on configured (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)' });
  }
  if (config.OIDC_JIT_WORKSPACE && config.OIDC_ALLOWED_DOMAINS.length + config.OIDC_ALLOWED_DOMAIN.length === 0) {
    context.addIssue({
      code: 'custom',
      path: ['OIDC_JIT_WORKSPACE'],
      message: 'needs OIDC_ALLOWED_DOMAINS: without it, anyone with an account at the provider (e.g. any Google account) would get into the workspace',
    });
  }
  if (Boolean(config.POSTMARK_WEBHOOK_USER) !== Boolean(config.POSTMARK_WEBHOOK_PASSWORD)) {
    const missing = config.POSTMARK_WEBHOOK_USER ? 'POSTMARK_WEBHOOK_PASSWORD' : 'POSTMARK_WEBHOOK_USER';
    context.addIssue({ code: 'custom', path: [missing], message: 'must be set together with the other half of the Postmark webhook credentials (or neither)' });
  }
});

export type Config = z.infer<typeof configSchema>;

/** The webhook deliverer's settings (src/outbound/deliverer.ts). */
export function webhookSettingsOf(config: Config) {
  const retryWindowMs = config.WEBHOOK_RETRY_HOURS * 3600_000;
  return {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE,
    batchSize: config.WEBHOOK_CONCURRENCY,
    pollMs: config.WEBHOOK_POLL_MS,
    retryWindowMs,
    disableAfterMs: retryWindowMs,
  };
}

/** The deployment's default frequency caps (FREQUENCY_CAP_*_PER_DAY). */
export function frequencyCapsOf(config: Config): { email: number; sms: number; voice: number } {
  return { email: config.FREQUENCY_CAP_EMAIL_PER_DAY, sms: config.FREQUENCY_CAP_SMS_PER_DAY, voice: config.FREQUENCY_CAP_VOICE_PER_DAY };
}

/** Environment variables whose values must never reach a log line. */
export const SECRET_KEYS = [
  'SENDGRID_API_KEY',
  'POSTMARK_SERVER_TOKEN',
  'POSTMARK_WEBHOOK_PASSWORD',
  'TELNYX_API_KEY',
  'AI_WRITER_API_KEY',
  'UNSUBSCRIBE_SECRET',
  'DATABASE_URL',
  'REDIS_URL',
  'METRICS_TOKEN',
  'CALCOM_WEBHOOK_SECRET',
  'CALENDLY_WEBHOOK_SIGNING_KEY',
  'TOUCHPOINT_SECRET_KEY',
  'TOUCHPOINT_SECRET_KEY_PREVIOUS',
  'OIDC_CLIENT_SECRET',
] as const;

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`The environment has invalid settings:\n${lines.join('\n')}`);
}
