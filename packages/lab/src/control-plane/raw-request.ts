// A JSON request to the API server that bypasses @kubernetes/client-node's typed serializer.
// The serializer renames fields to its TypeScript names (enum → _enum, default → _default,
// x-kubernetes-preserve-unknown-fields → xKubernetesPreserveUnknownFields) and silently drops
// any plain-JSON key it does not know, which strips a CRD's validation. CRDs go through here.
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RawResponse {
  status: number;
  body: unknown;
}

export async function rawJsonRequest(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<RawResponse> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('expected a current cluster in the kubeconfig, found none');
  const url = new URL(path, server);
  const options: import('node:https').RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { accept: 'application/json', 'content-type': 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<RawResponse>((resolve, reject) => {
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Not JSON (rare: proxies); keep the text for the error message.
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    if (payload) req.write(payload);
    req.end();
  });
}
