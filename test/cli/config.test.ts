/**
 * Every setting in the README's table is checked at start: a bad value stops the start with a
 * sentence naming it, and the defaults parse.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

const refused = (env: Record<string, string>, key: string) => {
  expect(() => parseConfig(env), JSON.stringify(env)).toThrow(ConfigError);
  expect(() => parseConfig(env)).toThrow(new RegExp(`\\b${key}\\b`));
};

describe('configuration', () => {
  it('the defaults parse', () => {
    const config = parseConfig({});
    expect(config.WORKSPACE_TIMEZONE).toBe('America/New_York');
    expect(config.SHUTDOWN_TIMEOUT_SECONDS).toBe(30);
  });

  it('refuses a time zone luxon does not know', () => {
    refused({ WORKSPACE_TIMEZONE: 'Mars/Base' }, 'WORKSPACE_TIMEZONE');
    expect(parseConfig({ WORKSPACE_TIMEZONE: 'Europe/Berlin' }).WORKSPACE_TIMEZONE).toBe('Europe/Berlin');
  });

  it('refuses an unsubscribe secret shorter than 32 bytes', () => {
    refused({ UNSUBSCRIBE_SECRET: 'x' }, 'UNSUBSCRIBE_SECRET');
    refused({ UNSUBSCRIBE_SECRET: 'a'.repeat(31) }, 'UNSUBSCRIBE_SECRET');
    expect(parseConfig({ UNSUBSCRIBE_SECRET: 'a'.repeat(32) }).UNSUBSCRIBE_SECRET).toHaveLength(32);
  });

  it('refuses malformed addresses, numbers and URLs, naming each', () => {
    const cases: Array<[string, string]> = [
      ['EMAIL_FROM', 'not-an-address'],
      ['EMAIL_FROM_NAME', 'Sales\r\nBcc: everyone@example.com'],
      ['SMS_FROM_NUMBER', '5550000000'],
      ['SMS_FROM_NUMBER', '+1 555 000'],
      ['VOICE_FROM_NUMBER', 'call me'],
      ['PUBLIC_URL', 'touchpoint.example.com'],
      ['PUBLIC_URL', 'ftp://touchpoint.example.com'],
      ['DATABASE_URL', 'mysql://localhost/db'],
      ['REDIS_URL', 'localhost:6379'],
      ['SENDGRID_BASE_URL', 'javascript:alert(1)'],
      ['VOICE_ORCHESTRATOR_URL', 'not a url'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
      ['USE_MOCK_SEQUENCE_DELIVERY', 'flase'],
      ['RATE_LIMIT_MOCK_DELIVERY', 'maybe'],
      ['PORT', 'eighty'],
      ['HOST', 'my host'],
      ['RATE_LIMIT_SMS_PER_SECOND', '-1'],
      ['METRICS_TOKEN', 'short'],
      ['SHUTDOWN_TIMEOUT_SECONDS', '0'],
      ['AI_WRITER_MODEL', ''],
      ['DATA_DIR', ''],
    ];
    for (const [key, value] of cases) refused({ [key]: value }, key);
  });

  it('requires TOUCHPOINT_SECRET_KEY with live delivery on PostgreSQL, and checks its length', () => {
    const live = { USE_MOCK_SEQUENCE_DELIVERY: 'false', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/touchpoint' };
    expect(() => parseConfig(live)).toThrow(/TOUCHPOINT_SECRET_KEY: must be set with live delivery on PostgreSQL/);
    expect(() => parseConfig({ TOUCHPOINT_SECRET_KEY: 'abc' })).toThrow(/TOUCHPOINT_SECRET_KEY: must be 32 random bytes/);
    expect(parseConfig({ TOUCHPOINT_SECRET_KEY: 'ab'.repeat(32) }).TOUCHPOINT_SECRET_KEY).toBe('ab'.repeat(32));
  });

  it('takes the documented spellings', () => {
    const config = parseConfig({
      USE_MOCK_SEQUENCE_DELIVERY: 'no',
      PUBLIC_URL: 'https://touchpoint.example.com',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/touchpoint',
      REDIS_URL: 'rediss://cache.example.com:6380',
      EMAIL_FROM: 'sales@example.com',
      EMAIL_FROM_NAME: 'Acme Sales',
      SMS_FROM_NUMBER: '+14155550100',
      VOICE_FROM_NUMBER: '+14155550101',
      HOST: '0.0.0.0',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      // Live delivery on PostgreSQL seals mailbox passwords with this key: required there.
      TOUCHPOINT_SECRET_KEY: 'q0tZ3vJc2mO6sE8dS1yT7uP4wX9rA5bN0hK2gL6fV3c=',
    });
    expect(config.USE_MOCK_SEQUENCE_DELIVERY).toBe(false);
    expect(parseConfig({ HOST: '::' }).HOST).toBe('::');
    expect(parseConfig({ HOST: 'api.internal' }).HOST).toBe('api.internal');
  });

  it('reads TRUST_PROXY as a switch or a list of addresses', () => {
    expect(parseConfig({}).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(parseConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).TRUST_PROXY).toEqual(['127.0.0.1', '10.0.0.0/8']);
    refused({ TRUST_PROXY: 'the load balancer' }, 'TRUST_PROXY');
  });

  it('wants both halves of the Postmark webhook credentials or neither', () => {
    refused({ POSTMARK_WEBHOOK_USER: 'hooks' }, 'POSTMARK_WEBHOOK_PASSWORD');
  });

  it('takes single sign-on whole, over https (http only on this machine), with a list of domains', () => {
    const client = { OIDC_CLIENT_ID: 'touchpoint', OIDC_CLIENT_SECRET: 's3cret' };
    refused({ OIDC_ISSUER: 'https://accounts.google.com' }, 'OIDC_CLIENT_ID');
    refused({ OIDC_ISSUER: 'http://sso.example.com', ...client }, 'OIDC_ISSUER');
    expect(parseConfig({ OIDC_ISSUER: 'http://127.0.0.1:9000', ...client }).OIDC_ISSUER).toBe('http://127.0.0.1:9000');
    const config = parseConfig({ OIDC_ISSUER: 'https://accounts.google.com', ...client, OIDC_ALLOWED_DOMAINS: 'Example.com, @example.org,', OIDC_ALLOWED_DOMAIN: 'example.net' });
    expect(config.OIDC_ALLOWED_DOMAINS).toEqual(['example.com', 'example.org']);
    expect(config.OIDC_ALLOWED_DOMAIN).toEqual(['example.net']);
    refused({ OIDC_ALLOWED_DOMAINS: 'example.com, not a domain' }, 'OIDC_ALLOWED_DOMAINS');
    // Just-in-time accounts need SSO and a domain list: otherwise any account at the provider gets in.
    refused({ OIDC_ISSUER: 'https://accounts.google.com', ...client, OIDC_JIT_WORKSPACE: 'default' }, 'OIDC_JIT_WORKSPACE');
    refused({ OIDC_JIT_WORKSPACE: 'default', OIDC_ALLOWED_DOMAINS: 'example.com' }, 'OIDC_JIT_WORKSPACE');
    refused({ OIDC_ISSUER: 'https://accounts.google.com', ...client, OIDC_ALLOWED_DOMAINS: 'example.com', OIDC_JIT_WORKSPACE: 'default', OIDC_JIT_ROLE: 'owner' }, 'OIDC_JIT_ROLE');
  });
});
