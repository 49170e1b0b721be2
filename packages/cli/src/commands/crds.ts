import { z } from 'zod';
import { renderCrdsYaml } from '@herdless/core';
import type { CommandModule } from './command-spec.js';

/** Prints the CRDs as one multi-document YAML (the chart's CRD template is this output). */
export const crdsCommand: CommandModule = {
  description:
    'Prints the CustomResourceDefinitions of external-secrets.io/v1 (ExternalSecret, SecretStore, ClusterSecretStore, ClusterExternalSecret) ' +
    'that Herdless serves, generated from its schemas, as one multi-document YAML: kubectl apply -f - takes it.',
  flags: z.object({}),
  async run() {
    process.stdout.write(renderCrdsYaml());
    return 0;
  },
};
