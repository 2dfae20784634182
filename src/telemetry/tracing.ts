/**
 * OpenTelemetry spans through `@opentelemetry/api` only: without an SDK they are no-ops that
 * cost a function call. The SDK with an OTLP exporter starts only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, and is imported lazily so it costs nothing otherwise.
 */
import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { DeliveryAdapters, DeliveryResult } from '../delivery/types.ts';

const tracer = trace.getTracer('touchpoint');

export async function withSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A span around every adapter call, with the channel, adapter and outcome. */
export function tracedAdapters(adapters: DeliveryAdapters): DeliveryAdapters {
  const around = (channel: string, adapter: string, key: string, call: () => Promise<DeliveryResult>) =>
    withSpan(`touchpoint.deliver.${channel}`, { 'touchpoint.channel': channel, 'touchpoint.adapter': adapter, 'touchpoint.idempotency_key': key }, async () => {
      const result = await call();
      trace.getActiveSpan()?.setAttribute('touchpoint.outcome', result.kind === 'sent' ? 'sent' : result.retryable ? 'retry' : 'failed');
      return result;
    });
  const { email, sms, voice, ledger, mailbox } = adapters;
  return {
    ledger,
    ...(mailbox
      ? { mailbox: { adapter: mailbox.adapter, close: (id?: string) => mailbox.close(id), send: (a: Parameters<typeof mailbox.send>[0], m: Parameters<typeof mailbox.send>[1]) => around('email', mailbox.adapter, m.idempotencyKey, () => mailbox.send(a, m)) } }
      : {}),
    email: { adapter: email.adapter, send: (m) => around('email', email.adapter, m.idempotencyKey, () => email.send(m)) },
    sms: { adapter: sms.adapter, send: (m) => around('sms', sms.adapter, m.idempotencyKey, () => sms.send(m)) },
    voice: { adapter: voice.adapter, dial: (c) => around('voice', voice.adapter, c.idempotencyKey, () => voice.dial(c)) },
  };
}

let started: Promise<void> | undefined;

/** Starts the OpenTelemetry SDK once per process, when an OTLP endpoint is configured. */
export function startTracing(config: { OTEL_EXPORTER_OTLP_ENDPOINT?: string }, logger?: Logger): Promise<void> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return Promise.resolve();
  started ??= (async () => {
    const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/$/, '');
    const sdk = new NodeSDK({ serviceName: 'touchpoint', traceExporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }) });
    sdk.start();
    process.once('beforeExit', () => void sdk.shutdown());
    logger?.info({ endpoint }, 'OpenTelemetry tracing started');
  })();
  return started;
}
