// A process that serves core's metrics port and, on the test's word over IPC, blocks its own
// event loop (the test hook of event-loop-stall.test.ts). Argv: port, stall threshold in ms.
import { startMetricsServer } from '@herdless/core';

const [port, thresholdMs] = process.argv.slice(2).map(Number);
const server = startMetricsServer(port, { loop: { stallThresholdMs: thresholdMs, holdMs: 600_000 } });
server.on('listening', () => process.send({ listening: true }));
process.on('message', (m) => {
  if (m === 'stop') {
    server.close();
    process.disconnect();
    return;
  }
  // Atomics.wait blocks the thread: no timer, no socket, no probe runs until it returns.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, m.blockMs);
  process.send({ blocked: m.blockMs });
});
