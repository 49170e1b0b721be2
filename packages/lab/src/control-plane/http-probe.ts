// One GET against the API server (or etcd) with the run's CA and a client certificate, for
// readiness checks before any Kubernetes client is worth building.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

export interface ProbeTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Resolves with the status code and body; rejects on connection errors. */
export function httpGet(url: string, tls?: ProbeTls, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const options = { method: 'GET', timeout: timeoutMs, agent: false as const, ...(tls ? { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem } : {}) };
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** True when `url` answers 200, for readiness waits (a connection error rejects, so the wait can
 * name it as the last error seen). */
export async function answersOk(url: string, tls?: ProbeTls): Promise<boolean> {
  return (await httpGet(url, tls)).status === 200;
}
