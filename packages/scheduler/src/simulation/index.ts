// @herdless/scheduler/simulation: the planner in virtual time (the real Planner and
// CapacityPlacement, a modelled queue and workers), for `herdless bench planner`. Not part of
// the scheduler process: nothing under lifetime/, session/ or queue/ imports it.
export { simulateFleet, peakAndMean, fleetItem, VIRTUAL_T0, type VirtualFleet, type FleetStart, type SimulationOptions, type SimulationResult } from './virtual-fleet.js';
