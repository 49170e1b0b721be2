import { renderCrdsYaml } from '@herdless/core';

/** Prints the CRDs as one multi-document YAML (deploy/chart/crds is this output). */
export async function runCrdsCommand(_argv: string[]): Promise<number> {
  process.stdout.write(renderCrdsYaml());
  return 0;
}
