import { pino, type Logger } from 'pino';

/** Paths pino blanks out wherever they appear: tokens, keys, passwords, auth headers. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-postmark-server-token"]',
  'config.SENDGRID_API_KEY',
  'config.POSTMARK_SERVER_TOKEN',
  'config.POSTMARK_WEBHOOK_PASSWORD',
  'config.TELNYX_API_KEY',
  'config.AI_WRITER_API_KEY',
  'config.DATABASE_URL',
  'config.REDIS_URL',
  'config.METRICS_TOKEN',
  'config.UNSUBSCRIBE_SECRET',
  // A pg error carries its client, and with it the connection parameters (password included).
  'err.client',
  'connectionString',
  '*.connectionString',
];

export function createLogger(level = 'info'): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'touchpoint' } });
}
