// The external-secrets.io/v1 resources as ESO defines them (the subset Herdless serves),
// as zod schemas. These schemas are the single source: the CRDs in deploy/ are generated
// from them (crd.ts) and the processes validate what they read with them.
import { z } from 'zod';

export const EXTERNAL_SECRETS_GROUP = 'external-secrets.io';
export const EXTERNAL_SECRETS_VERSION = 'v1';
export const API_VERSION = `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`;

export const PLURALS = {
  ExternalSecret: 'externalsecrets',
  SecretStore: 'secretstores',
  ClusterSecretStore: 'clustersecretstores',
  ClusterExternalSecret: 'clusterexternalsecrets',
} as const;

/** The API path of an external-secrets.io/v1 collection, in `namespace` when given, or of its object `name`. */
export function externalSecretsPath(plural: string, namespace?: string, name?: string): string {
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${API_VERSION}${scope}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

const preserveUnknown = { 'x-kubernetes-preserve-unknown-fields': true } as const;
const stringMap = z.record(z.string(), z.string());

export const objectMetaSchema = z
  .object({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().int().optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
    creationTimestamp: z.union([z.string(), z.date()]).optional(),
    deletionTimestamp: z.union([z.string(), z.date()]).optional(),
  })
  .loose();

// ---- ExternalSecret -------------------------------------------------------------------

export const remoteRefSchema = z.object({
  key: z.string().min(1).meta({ description: 'Key (name or ARN) of the secret in the store.' }),
  property: z.string().optional().meta({ description: 'A top-level or dotted JSON property of the remote value.' }),
  version: z.string().optional().meta({ description: 'Version id, or "uuid/<id>" / a version stage for AWS.' }),
  conversionStrategy: z.enum(['Default', 'Unicode']).optional(),
  decodingStrategy: z.enum(['Auto', 'Base64', 'Base64URL', 'None']).optional(),
  metadataPolicy: z.enum(['None', 'Fetch']).optional(),
});

export const secretStoreRefSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['SecretStore', 'ClusterSecretStore']).default('SecretStore'),
});

/** ESO's generatorRef: a generators.external-secrets.io resource (Herdless refuses them: check-spec). */
export const generatorRefSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().min(1),
});

/**
 * ESO's per-entry sourceRef: another store for this entry, or a generator. Kept (not pruned) so
 * that a spec using them is refused with a condition rather than synced from the wrong source.
 */
export const sourceRefSchema = z.object({
  storeRef: secretStoreRefSchema.optional().meta({ description: 'Honoured when it names spec.secretStoreRef; another store is refused.' }),
  generatorRef: generatorRefSchema.optional().meta({ description: 'Generators are not supported: refused with a condition.' }),
});

export const externalSecretDataSchema = z.object({
  secretKey: z.string().min(1).meta({ description: 'Key in the target Secret.' }),
  remoteRef: remoteRefSchema,
  sourceRef: sourceRefSchema.optional(),
});

export const findSchema = z.object({
  path: z.string().optional().meta({ description: 'A prefix the remote names must start with.' }),
  name: z.object({ regexp: z.string().min(1) }).optional(),
  tags: stringMap.optional(),
  conversionStrategy: z.enum(['Default', 'Unicode']).optional(),
  decodingStrategy: z.enum(['Auto', 'Base64', 'Base64URL', 'None']).optional(),
});

export const dataFromSchema = z.object({
  extract: remoteRefSchema.optional(),
  find: findSchema.optional(),
  rewrite: z.array(z.object({}).loose().meta(preserveUnknown)).optional(),
  sourceRef: sourceRefSchema.optional(),
});

const templateRefSchema = z.object({
  name: z.string().min(1),
  items: z.array(z.object({ key: z.string().min(1), templateAs: z.enum(['Values', 'KeysAndValues']).default('Values') })),
});

export const templateFromSchema = z.object({
  configMap: templateRefSchema.optional(),
  secret: templateRefSchema.optional(),
  target: z.enum(['Data', 'Annotations', 'Labels']).default('Data'),
  literal: z.string().optional(),
});

export const templateSchema = z.object({
  type: z.string().optional().meta({ description: 'The target Secret type (default Opaque).' }),
  engineVersion: z.enum(['v1', 'v2']).optional(),
  mergePolicy: z.enum(['Replace', 'Merge']).optional(),
  metadata: z
    .object({ labels: stringMap.optional(), annotations: stringMap.optional(), finalizers: z.array(z.string()).optional() })
    .optional(),
  data: stringMap.optional().meta({ description: "Target keys rendered by ESO's template engine v2 (Go text/template, sprig, ESO's functions)." }),
  templateFrom: z.array(templateFromSchema).optional(),
});

export const creationPolicySchema = z.enum(['Owner', 'Orphan', 'Merge', 'None']);
export const deletionPolicySchema = z.enum(['Delete', 'Merge', 'Retain']);

export const targetSchema = z.object({
  name: z.string().optional().meta({ description: 'Name of the target Secret; defaults to the ExternalSecret name.' }),
  creationPolicy: creationPolicySchema.default('Owner'),
  deletionPolicy: deletionPolicySchema.default('Retain'),
  template: templateSchema.optional(),
  immutable: z.boolean().optional(),
});

export const externalSecretSpecSchema = z.object({
  secretStoreRef: secretStoreRefSchema.optional(),
  target: targetSchema.default({ creationPolicy: 'Owner', deletionPolicy: 'Retain' }),
  refreshInterval: z
    .string()
    .default('1h')
    .meta({ description: 'Go duration between refreshes ("1h", "15m"); "0" disables periodic refresh.' }),
  refreshPolicy: z.enum(['Periodic', 'OnChange', 'CreatedOnce']).optional(),
  data: z.array(externalSecretDataSchema).optional(),
  dataFrom: z.array(dataFromSchema).optional(),
});

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});

export const externalSecretStatusSchema = z.object({
  refreshTime: z.string().nullable().optional().meta({ format: 'date-time' }),
  syncedResourceVersion: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
  binding: z.object({ name: z.string().optional() }).optional(),
  // Herdless additions (pruned harmlessly by ESO's CRDs): failed attempts since the last
  // success, so retry backoff survives a scheduler failover (Kubernetes is the database).
  failedAttempts: z.number().int().optional(),
  lastAttemptTime: z.string().optional().meta({ format: 'date-time' }),
});

export const externalSecretSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: externalSecretSpecSchema,
  status: externalSecretStatusSchema.optional(),
});

// ---- SecretStore / ClusterSecretStore ---------------------------------------------------

export const secretKeySelectorSchema = z.object({
  name: z.string().min(1),
  key: z.string().min(1),
  namespace: z.string().optional(),
});

export const awsProviderSchema = z.object({
  service: z.enum(['SecretsManager', 'ParameterStore']),
  region: z.string().min(1),
  role: z.string().optional(),
  additionalRoles: z.array(z.string()).optional(),
  externalID: z.string().optional(),
  /** Session tags of the AssumeRole of `role` (ESO's sessionTags), and which of them pass on to chained sessions. */
  sessionTags: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
  transitiveTagKeys: z.array(z.string()).optional(),
  prefix: z.string().optional(),
  auth: z
    .object({
      secretRef: z
        .object({
          accessKeyIDSecretRef: secretKeySelectorSchema.optional(),
          secretAccessKeySecretRef: secretKeySelectorSchema.optional(),
          sessionTokenSecretRef: secretKeySelectorSchema.optional(),
        })
        .optional(),
      jwt: z
        .object({
          serviceAccountRef: z
            .object({ name: z.string().min(1), namespace: z.string().optional(), audiences: z.array(z.string()).optional() })
            .optional(),
        })
        .loose()
        .meta(preserveUnknown)
        .optional(),
    })
    .optional(),
});

export const secretStoreProviderSchema = z
  .object({ aws: awsProviderSchema.optional() })
  .loose()
  .meta({ ...preserveUnknown, description: 'Exactly one provider; Herdless serves aws, others are kept but not synced.' });

export const secretStoreSpecSchema = z.object({
  controller: z.string().optional(),
  provider: secretStoreProviderSchema,
  refreshInterval: z.number().int().optional(),
  retrySettings: z
    .object({ maxRetries: z.number().int().optional(), retryInterval: z.string().optional() })
    .optional(),
  conditions: z
    .array(
      z.object({
        namespaceSelector: z.object({}).loose().meta(preserveUnknown).optional(),
        namespaces: z.array(z.string()).optional(),
        namespaceRegexes: z.array(z.string()).optional(),
      }),
    )
    .optional()
    .meta({ description: 'ClusterSecretStore only: which namespaces may use it.' }),
});

export const secretStoreStatusSchema = z.object({
  conditions: z.array(conditionSchema).optional(),
  capabilities: z.string().optional(),
});

export const secretStoreSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: secretStoreSpecSchema,
  status: secretStoreStatusSchema.optional(),
});

// ---- ClusterExternalSecret --------------------------------------------------------------

export const labelSelectorSchema = z.object({
  matchLabels: stringMap.optional(),
  matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
});

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const clusterExternalSecretSpecSchema = z.object({
  externalSecretSpec: externalSecretSpecSchema.meta({ description: 'The spec of the ExternalSecrets to create.' }),
  externalSecretName: z.string().min(1).max(253).regex(dnsSubdomain).optional().meta({ description: 'Their name; defaults to the ClusterExternalSecret name.' }),
  externalSecretMetadata: z.object({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
  namespaceSelector: labelSelectorSchema.optional().meta({ description: 'Deprecated: use namespaceSelectors.' }),
  namespaceSelectors: z.array(labelSelectorSchema).optional().meta({ description: 'Namespaces whose labels match any of these get an ExternalSecret.' }),
  namespaces: z.array(z.string().min(1).max(63).regex(dnsLabel)).optional().meta({ description: 'Namespaces chosen by name (ORed with the selectors).' }),
  refreshTime: z.string().optional().meta({ description: 'Go duration between re-checks of the namespaces (default 1h).' }),
});

export const clusterExternalSecretStatusSchema = z.object({
  externalSecretName: z.string().optional(),
  failedNamespaces: z.array(z.object({ namespace: z.string(), reason: z.string().optional() })).optional(),
  provisionedNamespaces: z.array(z.string()).optional(),
  conditions: z.array(z.object({ type: z.string(), status: z.string(), message: z.string().optional() })).optional(),
});

export const clusterExternalSecretSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: clusterExternalSecretSpecSchema,
  status: clusterExternalSecretStatusSchema.optional(),
});

export type ObjectMeta = z.infer<typeof objectMetaSchema>;
export type LabelSelector = z.infer<typeof labelSelectorSchema>;
export type ClusterExternalSecret = z.infer<typeof clusterExternalSecretSchema>;
export type ClusterExternalSecretStatus = z.infer<typeof clusterExternalSecretStatusSchema>;
export type RemoteRef = z.infer<typeof remoteRefSchema>;
export type ExternalSecretData = z.infer<typeof externalSecretDataSchema>;
export type DataFrom = z.infer<typeof dataFromSchema>;
export type SourceRef = z.infer<typeof sourceRefSchema>;
export type FindSpec = z.infer<typeof findSchema>;
export type ExternalSecretTemplate = z.infer<typeof templateSchema>;
export type ExternalSecretSpec = z.infer<typeof externalSecretSpecSchema>;
export type ExternalSecretStatus = z.infer<typeof externalSecretStatusSchema>;
export type ExternalSecret = z.infer<typeof externalSecretSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type AwsProvider = z.infer<typeof awsProviderSchema>;
export type SecretStoreSpec = z.infer<typeof secretStoreSpecSchema>;
export type SecretStore = z.infer<typeof secretStoreSchema>;
export type StoreKind = 'SecretStore' | 'ClusterSecretStore';

/** Reads an object from the API server as an ExternalSecret, with ESO's defaults applied. */
export function parseExternalSecret(obj: unknown): ExternalSecret {
  return externalSecretSchema.parse(obj);
}

export function parseSecretStore(obj: unknown): SecretStore {
  return secretStoreSchema.parse(obj);
}

export function targetSecretName(es: ExternalSecret): string {
  return es.spec.target.name ?? (es.metadata.name as string);
}
