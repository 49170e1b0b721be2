// The Redis matrix: the walking skeleton with scheduler and workers on Redis as production runs
// it — an ACL user with a password (the default user off) —
// on real redis-server processes the scenario starts on loopback and stops after it.
import { defineWalkingSkeleton } from '../walking-skeleton.js';

defineWalkingSkeleton('password');
