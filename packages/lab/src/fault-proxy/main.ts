#!/usr/bin/env node
// Runs one fault proxy by hand, until Ctrl-C, so a failing scenario can be reproduced:
//   node packages/lab/dist/fault-proxy/main.js --kubeconfig admin.kubeconfig [--out proxied.kubeconfig]
//   node packages/lab/dist/fault-proxy/main.js --upstream http://127.0.0.1:4566 --flavor aws [--port 4567]
// then break things through the control endpoint it prints, e.g.
//   curl -X PUT localhost:<control>/faults -d '{"errorRate":0.2}'   curl -X POST localhost:<control>/faults/cut-watches
import { runFaultProxyCommand } from './command.js';

await runFaultProxyCommand(process.argv.slice(2));
