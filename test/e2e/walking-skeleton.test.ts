// Issue 8's end-to-end on the run's Redis; the Redis matrix runs it on each production topology
// (redis-matrix/*.test.ts).
import { defineWalkingSkeleton } from './walking-skeleton.js';

defineWalkingSkeleton();
