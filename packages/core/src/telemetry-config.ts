// What tracing a process does, as part of its one validated config: the OTLP endpoint
// (--otel-endpoint, or OpenTelemetry's standard OTEL_EXPORTER_OTLP_ENDPOINT), the protocol, the
// sampler and OTEL_SDK_DISABLED. Off unless an endpoint is set. Only config.ts reads the
// environment; the tracer is built from this object (telemetry.ts).
import { z } from 'zod';

export const OTEL_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
/** OpenTelemetry's sampler names (OTEL_TRACES_SAMPLER); the ratio ones read the sampler argument. */
export const OTEL_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type OtelProtocol = (typeof OTEL_PROTOCOLS)[number];
export type OtelSampler = (typeof OTEL_SAMPLERS)[number];

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

/** Fields of every process's config (common config). Each description is the flag's help text. */
export const telemetryConfigShape = {
  otelEndpoint: z.string().url().optional().meta({
    description: 'OpenTelemetry collector endpoint traces are sent to (OTLP; OTEL_EXPORTER_OTLP_ENDPOINT is read too); unset: no tracing',
  }),
  otelProtocol: z.enum(OTEL_PROTOCOLS).default('http/protobuf').meta({ description: 'OTLP protocol: http/protobuf, http/json or grpc (OTEL_EXPORTER_OTLP_PROTOCOL is read too)' }),
  otelSampler: z.enum(OTEL_SAMPLERS).default('parentbased_always_on').meta({
    description: "trace sampler, OpenTelemetry's names (OTEL_TRACES_SAMPLER is read too); a worker's pass follows the scheduler's decision with the parentbased ones",
  }),
  otelSamplerArg: z.coerce.number().min(0).max(1).optional().meta({ description: 'share of traces the ratio samplers keep, 0 to 1 (OTEL_TRACES_SAMPLER_ARG is read too); default 1' }),
  otelSdkDisabled: flag.default(false).meta({ description: 'turns tracing off whatever else is set (OTEL_SDK_DISABLED is read too)' }),
} as const;

/** OpenTelemetry's standard variables each field also reads. */
export const TELEMETRY_ENV: Readonly<Record<string, string>> = {
  otelEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  otelProtocol: 'OTEL_EXPORTER_OTLP_PROTOCOL',
  otelSampler: 'OTEL_TRACES_SAMPLER',
  otelSamplerArg: 'OTEL_TRACES_SAMPLER_ARG',
  otelSdkDisabled: 'OTEL_SDK_DISABLED',
};

/** The tracer's settings for one process. */
export interface TelemetryConfig {
  serviceName: string;
  /** Unset: tracing off. */
  endpoint?: string | undefined;
  protocol: OtelProtocol;
  sampler: OtelSampler;
  samplerArg?: number | undefined;
  disabled: boolean;
}

type TelemetryFields = { otelEndpoint?: string | undefined; otelProtocol: OtelProtocol; otelSampler: OtelSampler; otelSamplerArg?: number | undefined; otelSdkDisabled: boolean };

/** The tracer's settings from a process's config. */
export function telemetryConfigOf(serviceName: string, config: TelemetryFields): TelemetryConfig {
  return {
    serviceName,
    endpoint: config.otelEndpoint,
    protocol: config.otelProtocol,
    sampler: config.otelSampler,
    samplerArg: config.otelSamplerArg,
    disabled: config.otelSdkDisabled,
  };
}

/** Whether the process traces: an endpoint is set and the SDK is not disabled. */
export function tracingRequested(config: TelemetryConfig): boolean {
  return !config.disabled && config.endpoint !== undefined;
}
