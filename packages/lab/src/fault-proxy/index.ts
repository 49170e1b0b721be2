// The fault proxy: break the path between one process and the API server or the AWS endpoint
// on demand (latency, 500/429, cut watches, forced 410, pause, partition).
export { startFaultProxy, type FaultFlavor, type FaultProxy, type FaultProxyOptions, type FaultProxyStats } from './fault-proxy.js';
export { startFaultControlEndpoint, type FaultControlEndpoint } from './control-endpoint.js';
export {
  NO_FAULTS,
  FaultSettingsError,
  mergeFaultSettings,
  decideFault,
  isWatchRequest,
  type FaultSettings,
  type FaultDecision,
  type FaultScope,
  type PartitionMode,
} from './fault-settings.js';
export {
  startKubeconfigProxy,
  rewriteKubeconfig,
  createProxyCertificate,
  type KubeconfigProxy,
  type KubeconfigProxyOptions,
  type ProxyCertificate,
} from './kubeconfig-proxy.js';
export { runFaultProxyCommand } from './command.js';
