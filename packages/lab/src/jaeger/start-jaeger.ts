// Runs the cached Jaeger (v1.75.0, all-in-one) as the trace backend of a test or the lab: its
// in-memory storage, an OTLP receiver (HTTP and gRPC) and the query API / UI, every one on a free
// loopback port (its own config file; none of Jaeger's fixed default ports). Owns that one
// process: stop() (or this process's exit, through the lab's process groups) ends it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { answersOk } from '../control-plane/http-probe.js';
import { freeLoopbackPorts } from '../free-port.js';
import type { ManagedProcess } from '../process-group.js';
import { startServedProcess } from '../served-process.js';
import { ensureJaegerBinary, JAEGER_VERSION } from './jaeger-toolchain.js';
import { JaegerQuery } from './jaeger-query.js';

export interface JaegerOptions {
  binary?: string;
  /** Traces kept in memory (oldest dropped first); default 100,000, as Jaeger's all-in-one. */
  maxTraces?: number;
  timeoutMs?: number;
}

export interface JaegerProcess {
  version: string;
  /** OTLP over HTTP, for OTEL_EXPORTER_OTLP_ENDPOINT (http://127.0.0.1:<port>). */
  otlpHttpEndpoint: string;
  /** OTLP over gRPC (http://127.0.0.1:<port>). */
  otlpGrpcEndpoint: string;
  /** The UI, which also serves the query API (/api/traces, /api/v3). */
  uiUrl: string;
  query: JaegerQuery;
  logPath: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Jaeger's configuration: its all-in-one pipeline (OTLP in, memory storage) on the given ports. */
export function jaegerConfig(ports: { otlpHttp: number; otlpGrpc: number; queryHttp: number; queryGrpc: number }, maxTraces: number): string {
  const at = (port: number) => `127.0.0.1:${port}`;
  return stringify({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
      // Jaeger's own metrics would take a fixed port (8888); the lab does not read them.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_query: { storage: { traces: 'memory' }, http: { endpoint: at(ports.queryHttp) }, grpc: { endpoint: at(ports.queryGrpc) } },
      jaeger_storage: { backends: { memory: { memory: { max_traces: maxTraces } } } },
    },
    receivers: { otlp: { protocols: { grpc: { endpoint: at(ports.otlpGrpc) }, http: { endpoint: at(ports.otlpHttp) } } } },
    processors: { batch: { timeout: '100ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memory' } },
  });
}

export async function startJaeger(opts: JaegerOptions = {}): Promise<JaegerProcess> {
  const binary = opts.binary ?? (await ensureJaegerBinary()).binary;
  const [otlpHttp, otlpGrpc, queryHttp, queryGrpc] = (await freeLoopbackPorts(4)) as [number, number, number, number];
  const uiUrl = `http://127.0.0.1:${queryHttp}`;
  const served = await startServedProcess({
    dirPrefix: 'jaeger',
    spawn: async (dir) => {
      const configPath = join(dir, 'jaeger.yaml');
      await writeFile(configPath, jaegerConfig({ otlpHttp, otlpGrpc, queryHttp, queryGrpc }, opts.maxTraces ?? 100_000));
      return { name: 'jaeger', command: binary, args: ['--config', configPath], logPath: join(dir, 'jaeger.log'), env: { PATH: process.env.PATH, HOME: dir } };
    },
    // The query API answers once storage and query are up; the receiver starts before it.
    ready: () => answersOk(`${uiUrl}/api/services`),
    what: `Jaeger ${JAEGER_VERSION} query API`,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  return {
    version: JAEGER_VERSION,
    otlpHttpEndpoint: `http://127.0.0.1:${otlpHttp}`,
    otlpGrpcEndpoint: `http://127.0.0.1:${otlpGrpc}`,
    uiUrl,
    query: new JaegerQuery(uiUrl),
    logPath: served.process.logPath,
    process: served.process,
    stop: served.stop,
  };
}
