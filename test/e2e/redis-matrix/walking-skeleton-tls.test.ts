// The Redis matrix: the walking skeleton with scheduler and workers on Redis as production runs
// it — TLS (rediss://) with the test's own CA and a client certificate the server requires, plus a password —
// on real redis-server processes the scenario starts on loopback and stops after it.
import { defineWalkingSkeleton } from '../walking-skeleton.js';

defineWalkingSkeleton('tls');
