// Tracing: the OpenTelemetry Node SDK, configured by the standard OTEL_* variables and off unless
// they name an exporter or endpoint; the W3C trace context a job carries (its `traceparent`); and
// the one helper every step uses to open a span. Attributes are identities, reasons and times:
// never a remote value, a credential or a rendered template.
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/** Variables that turn tracing on (an exporter or an OTLP endpoint); OTEL_SDK_DISABLED=true wins. */
const ENABLING = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];

/** Whether the environment asks for tracing. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return false;
  return ENABLING.some((name) => (env[name] ?? '').trim() !== '');
}

/**
 * Starts the SDK for this process when the environment asks for it: exporter, protocol, endpoint,
 * sampler (OTEL_TRACES_SAMPLER, _ARG) and resource come from OTEL_* as the SDK reads them.
 * No metrics or logs go through it (Prometheus and pino have those). Undefined when off.
 */
export async function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv): Promise<Telemetry | undefined> {
  if (!tracingRequested(env)) return undefined;
  // Loaded only when on: the SDK and its exporters cost a process that does not trace its start.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName, instrumentations: [], logRecordProcessors: [] });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
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
