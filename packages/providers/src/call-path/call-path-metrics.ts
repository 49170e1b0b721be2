// The call path's Prometheus metrics (prom-client's default registry, served by core's
// /metrics). Labels are identities (provider key, operation, outcome), never values.
import { Counter, Gauge, metricsRegistry } from '@herdless/core';

function counter(name: string, help: string, labelNames: string[]): Counter<string> {
  return (metricsRegistry.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
  return (metricsRegistry.getSingleMetric(name) as Gauge<string> | undefined) ?? new Gauge({ name, help, labelNames });
}

export interface CallPathMetrics {
  requests: Counter<string>;
  sent: Counter<string>;
  limiterRate: Gauge<string>;
  limiterDecisions: Counter<string>;
  breakerState: Gauge<string>;
  reads: Counter<string>;
  coalesced: Counter<string>;
  namespaceCalls: Counter<string>;
  namespaceCapped: Counter<string>;
}

let metrics: CallPathMetrics | undefined;

export function callPathMetrics(): CallPathMetrics {
  metrics ??= {
    requests: counter(
      'herdless_provider_requests_total',
      'Requests sent to a secret store, by provider key, operation and outcome (ok, throttled, error).',
      ['provider_key', 'operation', 'outcome'],
    ),
    sent: counter(
      'herdless_provider_calls_sent_total',
      'Calls handed to a store client after the rate limiter admitted them, by provider key, operation and lane (urgent, routine, other), counted when sent.',
      ['provider_key', 'operation', 'lane'],
    ),
    limiterRate: gauge(
      'herdless_rate_limiter_rate_rps',
      'Rate in force of the distributed rate limiter (adaptive: lowered on throttling replies).',
      ['provider_key', 'operation'],
    ),
    limiterDecisions: counter(
      'herdless_rate_limiter_decisions_total',
      'Rate limiter decisions per call: now, waited (admitted after a short wait), booked (a slot of its sync\'s booking), late (slot reached too late, replaced) or deferred (job re-delayed).',
      ['provider_key', 'operation', 'decision'],
    ),
    breakerState: gauge(
      'herdless_circuit_breaker_state',
      'Circuit breaker state per provider key and credential identity (a digest): 0 closed, 1 half-open, 2 open.',
      ['provider_key', 'credential'],
    ),
    reads: counter(
      'herdless_provider_reads_total',
      'Remote values read, by the operation that read them (GetSecretValue or BatchGetSecretValue, …).',
      ['provider_key', 'operation'],
    ),
    namespaceCalls: counter(
      'herdless_limiter_namespace_calls_total',
      "Calls sent for a namespace the operator named in --namespace-weights or --namespace-caps (others get no series), by provider key and quota bucket.",
      ['provider_key', 'operation', 'namespace'],
    ),
    namespaceCapped: counter(
      'herdless_limiter_namespace_capped_total',
      "Calls of a namespace deferred by its --namespace-caps share in the workers' limiter (the job comes back at its place in the namespace's line), by provider key and quota bucket.",
      ['provider_key', 'operation', 'namespace'],
    ),
    coalesced: counter('herdless_coalesced_reads_total', 'Reads that shared another identical read instead of calling the store.', ['provider_key']),
  };
  return metrics;
}
