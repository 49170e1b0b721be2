// ClusterExternalSecret: one ExternalSecret per chosen namespace, as ESO v0.20.4 provisions them.
export { runClusterExternalSecrets, type ClusterExternalSecretsOptions } from './cluster-external-secrets.js';
