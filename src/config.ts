/**
 * Configuration: parsed once at start from the environment (zod), then passed down. Nothing
 * below `src/cli` reads `process.env`. Secrets are listed so the logger can redact them.
 */
import { z } from 'zod';

const bool = z
  .union([z.boolean(), z.string()])
  .transform((v) => (typeof v === 'boolean' ? v : !['false', '0', 'no', 'off', ''].includes(v.trim().toLowerCase())));
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./.touchpoint'),
  DATABASE_URL: optionalText,
  REDIS_URL: optionalText,
  PUBLIC_URL: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  USE_MOCK_SEQUENCE_DELIVERY: bool.default(true),
  LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  /** Attempts in a row whose step throws before an enrollment is `failed` (an operator can retry it). */
  MAX_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  /** REST API requests per minute per token (per client address without a token). */
  API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(600),
  WORKSPACE_TIMEZONE: z.string().default('America/New_York'),
  EMAIL_FROM: z.string().default('outreach@touchpoint.local'),
  EMAIL_FROM_NAME: optionalText,
  SMS_FROM_NUMBER: z.string().default('+15550000000'),
  VOICE_FROM_NUMBER: optionalText,
  EMAIL_PROVIDER: z.enum(['sendgrid', 'postmark']).default('sendgrid'),
  SENDGRID_API_KEY: optionalText,
  SENDGRID_BASE_URL: z.string().url().default('https://api.sendgrid.com'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optionalText,
  /** The Inbound Parse security policy's key; SendGrid signs parsed mail with its own key pair. */
  SENDGRID_INBOUND_PUBLIC_KEY: optionalText,
  POSTMARK_SERVER_TOKEN: optionalText,
  POSTMARK_BASE_URL: z.string().url().default('https://api.postmarkapp.com'),
  POSTMARK_WEBHOOK_USER: optionalText,
  POSTMARK_WEBHOOK_PASSWORD: optionalText,
  TELNYX_API_KEY: optionalText,
  TELNYX_BASE_URL: z.string().url().default('https://api.telnyx.com'),
  TELNYX_PUBLIC_KEY: optionalText,
  TELNYX_MESSAGING_PROFILE_ID: optionalText,
  TELNYX_CONNECTION_ID: optionalText,
  VOICE_ORCHESTRATOR_URL: optionalText,
  AI_WRITER_API_KEY: optionalText,
  AI_WRITER_BASE_URL: z.string().url().default('https://api.openai.com/v1'),
  AI_WRITER_MODEL: z.string().default('gpt-4o-mini'),
  AI_WRITER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Signs one-click unsubscribe links; required with live delivery so links outlive a restart. */
  UNSUBSCRIBE_SECRET: optionalText,
  /** How mock calls end, so the embedded demo's timeline shows call outcomes; `none` = no events. */
  MOCK_CALL_OUTCOME: z.enum(['answered', 'voicemail', 'no_answer', 'none']).default('answered'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText,
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
  /** Mock delivery runs unthrottled (demos, tests) unless this is true. */
  RATE_LIMIT_MOCK_DELIVERY: bool.default(false),
});

export type Config = z.infer<typeof configSchema>;

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
] as const;

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`The environment has invalid settings:\n${lines.join('\n')}`);
}
