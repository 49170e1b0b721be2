// Every scenario of the lab, by the name --scenario takes. One file each.
import type { ScenarioName } from '../lab-config.js';
import { burstScenario } from './burst.js';
import { failoverScenario } from './failover.js';
import { noisyNeighbourScenario } from './noisy-neighbour.js';
import { outageScenario } from './outage.js';
import { recoveryScenario } from './recovery.js';
import { shardedScenario } from './sharded.js';
import { sharedKeysScenario } from './shared-keys.js';
import type { Scenario } from './scenario.js';
import { steadyScenario } from './steady.js';

export type { Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js';

/** A fresh scenario for one contender's run (a scenario may hold state for that run). */
export const SCENARIO_FACTORIES: Record<ScenarioName, () => Scenario> = {
  burst: burstScenario,
  recovery: recoveryScenario,
  steady: steadyScenario,
  outage: outageScenario,
  failover: failoverScenario,
  'noisy-neighbour': noisyNeighbourScenario,
  sharded: shardedScenario,
  'shared-keys': sharedKeysScenario,
};
