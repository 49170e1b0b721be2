// Runs one fault proxy by hand until SIGINT/SIGTERM, so a failing scenario can be reproduced
// (`herdless fault-proxy …` and `node packages/lab/dist/fault-proxy/main.js …` both land here).
import { parseArgs } from 'node:util';
import { startFaultProxy, type FaultFlavor, type FaultProxy } from './fault-proxy.js';
import { startKubeconfigProxy } from './kubeconfig-proxy.js';

export async function runFaultProxyCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      out: { type: 'string' },
      upstream: { type: 'string' },
      flavor: { type: 'string' },
      port: { type: 'string' },
      'control-port': { type: 'string' },
      name: { type: 'string' },
      faults: { type: 'string' },
    },
  });

  function fail(message: string): never {
    process.stderr.write(`fault-proxy: ${message}\n`);
    process.exit(2);
  }

  const controlPort = values['control-port'] !== undefined ? Number(values['control-port']) : 0;
  if (!Number.isInteger(controlPort) || controlPort < 0) fail(`--control-port must be a port number, got ${values['control-port']}`);
  const initialFaults = values.faults ? (JSON.parse(values.faults) as object) : undefined;

  let proxy: FaultProxy;
  let kubeconfigPath: string | undefined;
  if (values.kubeconfig) {
    const started = await startKubeconfigProxy({
      kubeconfigPath: values.kubeconfig,
      ...(values.out ? { outPath: values.out } : {}),
      ...(values.name ? { name: values.name } : {}),
      controlPort,
      ...(initialFaults ? { initialFaults } : {}),
    });
    proxy = started.proxy;
    kubeconfigPath = started.kubeconfigPath;
  } else if (values.upstream) {
    const flavor = (values.flavor ?? 'http') as FaultFlavor;
    if (!['kubernetes', 'aws', 'http'].includes(flavor)) fail(`--flavor must be kubernetes, aws or http, got ${flavor}`);
    proxy = await startFaultProxy({
      upstream: values.upstream,
      flavor,
      ...(values.port ? { port: Number(values.port) } : {}),
      ...(values.name ? { name: values.name } : {}),
      controlPort,
      ...(initialFaults ? { initialFaults } : {}),
    });
  } else {
    fail('give --kubeconfig <path> (API server) or --upstream <url> (AWS endpoint)');
  }

  process.stdout.write(`${JSON.stringify({ name: proxy.name, url: proxy.url, controlUrl: proxy.controlUrl, kubeconfigPath })}\n`);
  const shutdown = () => {
    proxy.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await new Promise<void>(() => undefined);
}
