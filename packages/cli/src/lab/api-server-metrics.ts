// Writes to the API server, from kube-apiserver's own counter (apiserver_request_total), so the
// figure covers every client (the controller's Secrets, status updates and Events) without
// instrumenting any of them. The lab subtracts its own writes (the storm's creates).
import { request } from 'node:https';

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);
/** The resources a sync writes: the target Secret, the ExternalSecret's status, Events. */
export const SYNC_RESOURCES = new Set(['secrets', 'externalsecrets', 'events']);

export interface ApiServerAccess {
  server: string;
  caPem: string;
  adminToken: string;
}

export function fetchApiServerMetrics(access: ApiServerAccess): Promise<string> {
  return getApiServer(access, '/metrics');
}

/** GET a path of the API server as its admin; the body on 200, an error otherwise. */
export function getApiServer(access: ApiServerAccess, path: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${access.server}${path}`,
      { ca: access.caPem, headers: { Authorization: `Bearer ${access.adminToken}` }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path} answered ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Sum of apiserver_request_total for write verbs on the given resources. */
export function countWrites(metricsText: string, resources: ReadonlySet<string> = SYNC_RESOURCES): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const verb = /(?:^|,)verb="([^"]*)"/.exec(labels)?.[1] ?? '';
    const resource = /(?:^|,)resource="([^"]*)"/.exec(labels)?.[1] ?? '';
    if (!WRITE_VERBS.has(verb) || !resources.has(resource)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

/** A Prometheus gauge or counter summed over every series matching the name and label filter. */
export function sumMetric(metricsText: string, name: string, labelIncludes = ''): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labelIncludes && !line.includes(labelIncludes)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}
