// The Redis matrix: the walking skeleton with scheduler and workers on Redis as production runs
// it — Cluster: three masters, every multi-key operation inside one hash slot, a password —
// on real redis-server processes the scenario starts on loopback and stops after it.
import { defineWalkingSkeleton } from '../walking-skeleton.js';

defineWalkingSkeleton('cluster');
