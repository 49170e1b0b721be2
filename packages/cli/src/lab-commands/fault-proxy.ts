import { z } from 'zod';
import { loadConfig } from '@herdless/core';
import type { CommandModule } from '../commands/command-spec.js';

// The lab's fault proxy reads its own arguments (node:util parseArgs); this schema describes
// and checks them first, so an unknown flag fails here with the others listed.
const schema = z.object({
  kubeconfig: z.string().optional().meta({ description: "proxy this kubeconfig's API server and write a kubeconfig that goes through the proxy" }),
  out: z.string().optional().meta({ description: 'with --kubeconfig: where to write the proxied kubeconfig' }),
  upstream: z.string().url().optional().meta({ description: 'proxy this URL instead (an AWS endpoint or any HTTP server)' }),
  flavor: z.enum(['kubernetes', 'aws', 'http']).optional().meta({ description: 'with --upstream: which faults make sense (default: http)' }),
  port: z.coerce.number().int().min(0).max(65535).optional().meta({ description: 'with --upstream: the port to listen on (default: a free one)' }),
  controlPort: z.coerce.number().int().min(0).max(65535).optional().meta({ description: 'port of the control URL (default: a free one)' }),
  name: z.string().optional().meta({ description: 'a name for this proxy in its output' }),
  faults: z.string().optional().meta({ description: 'initial faults as JSON, e.g. {"latencyMs":200,"errorRate":0.1}' }),
});

export const faultProxyCommand: CommandModule = {
  description:
    "A fault proxy in front of one process's API server (--kubeconfig) or AWS endpoint (--upstream <url> --flavor aws). " +
    'Prints one JSON line with its URL and control URL; faults through the control URL: latency, 500 and 429 shares, ' +
    'cut watches, 410 Gone, pause, partition. Runs until SIGTERM or SIGINT.',
  flags: schema,
  async run(argv) {
    loadConfig(schema, argv);
    const { runFaultProxyCommand } = await import('@herdless/lab');
    await runFaultProxyCommand(argv);
    return 0;
  },
};
