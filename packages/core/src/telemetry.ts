// Tracing: the OpenTelemetry Node SDK, configured from the process's config (telemetry-config.ts:
// --otel-endpoint or the standard OTEL_* variables) and off unless an endpoint is set; the W3C
// trace context a job carries (its `traceparent`); and the helpers every step uses to open a span. Attributes are identities, reasons and times:
// never a remote value, a credential or a rendered template.
import { context, createContextKey, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace';

export type { Span } from '@opentelemetry/api';
import { tracingRequested, type TelemetryConfig } from './telemetry-config.js';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK for this process when its config asks for it (an endpoint, not disabled): the
 * OTLP exporter of the configured protocol and the sampler are built here from the config; the
 * SDK still reads its own tuning variables (OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES). No metrics or
 * logs go through it (Prometheus and pino have those). Undefined when off.
 */
export async function startTelemetry(config: TelemetryConfig): Promise<Telemetry | undefined> {
  if (!tracingRequested(config) || config.endpoint === undefined) return undefined;
  // Loaded only when on: the SDK and its exporters cost a process that does not trace its start.
  const [{ NodeSDK }, traceExporter, sampler] = await Promise.all([import('@opentelemetry/sdk-node'), exporterOf(config.protocol, config.endpoint), samplerOf(config)]);
  // No auto-instrumentation (ioredis, http, undici): their hooks patch a module as it is
  // required, and a process has loaded ioredis, node:http (the AWS SDK) and undici (the API
  // client) through its static imports before its config says whether to trace; to patch them
  // reliably the SDK would have to be preloaded (`node --import`) by the image's entry point. And a span per Redis command
  // (BullMQ's lock renewals and moves, the limiter's scripts) would multiply a sync's spans; the
  // two waits they would show are spans of ours: herdless.limiter_wait and herdless.provider_call.
  const sdk = new NodeSDK({ serviceName: config.serviceName, traceExporter, sampler, instrumentations: [], logRecordProcessors: [], metricReaders: [] });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/** OTLP's HTTP exporters post to <endpoint>/v1/traces (as OTEL_EXPORTER_OTLP_ENDPOINT means); gRPC takes the endpoint. */
async function exporterOf(protocol: TelemetryConfig['protocol'], endpoint: string): Promise<SpanExporter> {
  const url = `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ url });
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url });
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter({ url: endpoint });
  }
}

/** OpenTelemetry's samplers by their OTEL_TRACES_SAMPLER names; the ratio ones default to 1. */
async function samplerOf(config: TelemetryConfig): Promise<Sampler> {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = await import('@opentelemetry/sdk-trace');
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerArg ?? 1);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
  }
}

const tracer = () => trace.getTracer('herdless');

/**
 * Runs `fn` in a span named `name`, child of `parent` (default: the active context); records an
 * exception's class (its name and `reason`, not its message: a provider's message may echo input)
 * and ends the span whatever happens.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      const reason = (e as { reason?: unknown }).reason;
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof reason === 'string' ? reason : e instanceof Error ? e.name : 'error' });
      if (typeof reason === 'string') span.setAttribute('herdless.error.reason', reason);
      throw e;
    } finally {
      span.end();
    }
  });
}

/** The active context as a W3C `traceparent`, for a job to carry; undefined when tracing is off. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a job's `traceparent` names (the root context without one). */
export function contextOfTraceparent(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

const CALL_ATTRIBUTES = createContextKey('herdless.call_attributes');

/**
 * Runs `fn` with attributes for the spans of the store calls it makes (a batch's size, known
 * where the batch is cut and not where the call is gated); read back with callAttributes().
 */
export function withCallAttributes<T>(attributes: Attributes, fn: () => T): T {
  return context.with(context.active().setValue(CALL_ATTRIBUTES, { ...callAttributes(), ...attributes }), fn);
}

/** The attributes withCallAttributes set around the current call (none outside one). */
export function callAttributes(): Attributes {
  return (context.active().getValue(CALL_ATTRIBUTES) as Attributes | undefined) ?? {};
}

/** Adds an event to the active span (a no-op without one, or with tracing off). */
export function addSpanEvent(name: string, attributes: Attributes = {}): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}
