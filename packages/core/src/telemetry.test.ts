import { expect, test } from 'vitest';
import { loadConfig } from './config.js';
import { currentTraceparent } from './telemetry.js';
import { telemetryConfigOf, telemetryConfigShape, tracingRequested } from './telemetry-config.js';
import { z } from 'zod';

const schema = z.object(telemetryConfigShape);
const telemetryOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => telemetryConfigOf('herdless-test', loadConfig(schema, argv, env));

test('tracing is off unless --otel-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT names an endpoint, and OTEL_SDK_DISABLED wins', () => {
  expect(tracingRequested(telemetryOf([]))).toBe(false);
  expect(tracingRequested(telemetryOf([], { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }))).toBe(false);
  expect(tracingRequested(telemetryOf([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))).toBe(true);
  expect(tracingRequested(telemetryOf(['--otel-endpoint', 'http://collector:4318']))).toBe(true);
  expect(tracingRequested(telemetryOf([], { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }))).toBe(false);
});

test('the flag wins over the standard variable, and the sampler and protocol are read from OTEL_*', () => {
  const t = telemetryOf(['--otel-endpoint', 'http://flag:4318'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.01',
  });
  expect(t).toEqual({ serviceName: 'herdless-test', endpoint: 'http://flag:4318', protocol: 'grpc', sampler: 'parentbased_traceidratio', samplerArg: 0.01, disabled: false });
  expect(() => telemetryOf([], { OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/--otel-sampler-arg/);
});

test('with tracing off a job carries no traceparent', () => {
  expect(currentTraceparent()).toBeUndefined();
});
