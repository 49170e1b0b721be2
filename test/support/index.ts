// Helpers every integration and end-to-end test may import (`../support/index.js`).
export { injected, type LabContext } from './provided-context.js';
export { adminKubeConfig, controlPlaneAccess, uniqueNamespace, createNamespace, deleteNamespace, suiteNamespace } from './kube.js';
export { waitUntil } from './wait-until.js';
