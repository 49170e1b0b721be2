// The Redis matrix: the walking skeleton with scheduler and workers on Redis as production runs
// it — Sentinel: a master, a replica and three sentinels, passwords on both —
// on real redis-server processes the scenario starts on loopback and stops after it.
import { defineWalkingSkeleton } from '../walking-skeleton.js';

defineWalkingSkeleton('sentinel');
