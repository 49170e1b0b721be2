// @herdless/lab: the real environment that tests, the lab and the bench stand on — the local
// Kubernetes control plane, our AWS Secrets Manager endpoint with real quotas, private Redis.
// Test and lab tooling only: product packages never import it.
export * from './lab-error.js';
export { herdlessCacheDir } from './lab-paths.js';
export { waitUntil, type WaitOptions } from './wait-until.js';
export { freeLoopbackPort, freeLoopbackPorts } from './free-port.js';
export { ensureGoTool, PROMTOOL, type GoTool } from './go-tool.js';
export { scrapeLoopbackMetrics } from './scrape-metrics.js';
export * from './metrics-text.js';
export {
  ensureControlPlaneBinaries,
  controlPlaneBinaries,
  toolchainStamp,
  KUBERNETES_VERSION,
  CONTROL_PLANE_LDFLAGS,
  type ControlPlaneBinaries,
  type EnsureOptions,
  type EnsureResult,
} from './toolchain.js';
export {
  startControlPlane,
  SERVICE_ACCOUNT_ISSUER,
  type ControlPlane,
  type ControlPlaneOptions,
  type ControlPlaneTimings,
} from './control-plane/start-control-plane.js';
export {
  createServiceAccountKubeconfig,
  type ServiceAccountKubeconfig,
  type ServiceAccountKubeconfigOptions,
} from './control-plane/service-account-kubeconfig.js';
export { installCrds } from './control-plane/install-crds.js';
export { createCa, type CertificateFiles } from './control-plane/pki.js';
export { renderKubeconfig, writeKubeconfig, type KubeconfigSpec, type KubeconfigCredential } from './control-plane/kubeconfig.js';
export {
  startAwsEndpoint,
  type AwsEndpoint,
  type AwsEndpointOptions,
  type SeedSecret,
} from './aws-endpoint/aws-endpoint.js';
export { OPERATIONS, DEFAULT_QUOTAS, type SecretsManagerOperation, type Quota } from './aws-endpoint/operations.js';
export { STS_OPERATIONS, STS_DEFAULT_QUOTAS, type StsOperation } from './aws-endpoint/sts-operations.js';
export type { RoleDeclaration, SessionRecord } from './aws-endpoint/iam-roles.js';
export type { OidcProvider } from './aws-endpoint/web-identity.js';
export {
  countRequests,
  filterRequests,
  requestsPerSecond,
  type RequestRecord,
  type RequestOutcome,
  type RequestFilter,
  type OutcomeCounts,
  type PerSecondBucket,
} from './aws-endpoint/request-log.js';
export type { Tag } from './aws-endpoint/secret-store.js';
export type { SeedParameter } from './aws-endpoint/aws-endpoint.js';
export { QUOTA_NAMES, ALL_DEFAULT_QUOTAS, type EndpointOperation, type QuotaName } from './aws-endpoint/operations.js';
export type { QuotaSelector } from './aws-endpoint/operation-quotas.js';
export {
  SSM_OPERATIONS,
  SSM_DEFAULT_QUOTAS,
  PARAMETER_STORE_THROUGHPUT_OPERATIONS,
  type SsmOperation,
  type SsmQuotaName,
} from './aws-endpoint/ssm-operations.js';
export { encryptedSecureString } from './aws-endpoint/secure-string.js';
export { startRedis, type RedisServer, type RedisOptions } from './redis/start-redis.js';
export { startRedisTopology, REDIS_TOPOLOGIES, type RedisTopology, type RedisTopologyKind, type RedisNode } from './redis/redis-topology.js';
export * from './fault-proxy/index.js';
export { AwsEndpointFaults, NO_AWS_FAULTS, type AwsFaultSettings, type AwsFaultsState, type QuotaControl } from './aws-endpoint/faults.js';
export * from './eso/index.js';
export * from './jaeger/index.js';
export { ensureHelm, helmToolchain, HELM_VERSION, UPSTREAM_CRDS, type HelmToolchain, type EnsureHelmResult } from './helm/helm-toolchain.js';
export * from './report/index.js';
export * from './storm/storm.js';
