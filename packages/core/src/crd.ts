// CustomResourceDefinitions generated from the zod schemas in resources.ts, so the API
// server's validation and the processes' parsing can never disagree. Structural schemas
// only: every node typed, no additionalProperties:false (the API server prunes instead).
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  clusterExternalSecretSpecSchema,
  clusterExternalSecretStatusSchema,
  EXTERNAL_SECRETS_GROUP,
  externalSecretSpecSchema,
  externalSecretStatusSchema,
  PLURALS,
  secretStoreSpecSchema,
  secretStoreStatusSchema,
} from './resources.js';

type JsonSchema = Record<string, unknown>;

/** Turns a zod schema into a Kubernetes structural OpenAPI v3 schema. */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return clean(raw);
}

function clean(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'id') continue;
    if (key === 'additionalProperties' && (value === false || isEmptyObject(value))) continue;
    // zod adds the JS safe-integer range to every int; Kubernetes int64 fields need no cap.
    if ((key === 'maximum' && value === Number.MAX_SAFE_INTEGER) || (key === 'minimum' && value === Number.MIN_SAFE_INTEGER)) continue;
    if (key === 'properties' && node['x-kubernetes-preserve-unknown-fields'] === true && isEmptyObject(value)) continue;
    if (key === 'anyOf' && Array.isArray(value)) {
      // Only "string or date" (metadata timestamps) and nullable unions reach here.
      out.type = 'string';
      continue;
    }
    if (key === 'nullable') {
      out.nullable = value;
      continue;
    }
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value as JsonSchema).map(([k, v]) => [k, clean(v as JsonSchema)]));
      continue;
    }
    if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = clean(value as JsonSchema);
      continue;
    }
    out[key] = value;
  }
  return out;
}

function isEmptyObject(value: unknown): boolean {
  return !!value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

interface CrdShape {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
}

const readyColumns = [
  { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const shapes: CrdShape[] = [
  {
    kind: 'ExternalSecret',
    plural: PLURALS.ExternalSecret,
    singular: 'externalsecret',
    shortNames: ['es'],
    scope: 'Namespaced',
    spec: externalSecretSpecSchema,
    status: externalSecretStatusSchema,
    printerColumns: [
      { name: 'StoreType', type: 'string', jsonPath: '.spec.secretStoreRef.kind' },
      { name: 'Store', type: 'string', jsonPath: '.spec.secretStoreRef.name' },
      { name: 'Refresh Interval', type: 'string', jsonPath: '.spec.refreshInterval' },
      ...readyColumns,
    ],
  },
  {
    kind: 'SecretStore',
    plural: PLURALS.SecretStore,
    singular: 'secretstore',
    shortNames: ['ss'],
    scope: 'Namespaced',
    spec: secretStoreSpecSchema,
    status: secretStoreStatusSchema,
    printerColumns: readyColumns,
  },
  {
    kind: 'ClusterSecretStore',
    plural: PLURALS.ClusterSecretStore,
    singular: 'clustersecretstore',
    shortNames: ['css'],
    scope: 'Cluster',
    spec: secretStoreSpecSchema,
    status: secretStoreStatusSchema,
    printerColumns: readyColumns,
  },
  {
    kind: 'ClusterExternalSecret',
    plural: PLURALS.ClusterExternalSecret,
    singular: 'clusterexternalsecret',
    shortNames: ['ces'],
    scope: 'Cluster',
    spec: clusterExternalSecretSpecSchema,
    status: clusterExternalSecretStatusSchema,
    printerColumns: [
      { name: 'Store', type: 'string', jsonPath: '.spec.externalSecretSpec.secretStoreRef.name' },
      { name: 'Refresh Interval', type: 'string', jsonPath: '.spec.refreshTime' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
];

/** The four CRDs, v1 served and stored, with the status subresource and printer columns. */
export function crdManifests(): Array<Record<string, unknown>> {
  return shapes.map((shape) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${shape.plural}.${EXTERNAL_SECRETS_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'herdless' },
    },
    spec: {
      group: EXTERNAL_SECRETS_GROUP,
      names: {
        kind: shape.kind,
        listKind: `${shape.kind}List`,
        plural: shape.plural,
        singular: shape.singular,
        shortNames: shape.shortNames,
        categories: ['external-secrets'],
      },
      scope: shape.scope,
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: shape.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toStructuralSchema(shape.spec),
                status: toStructuralSchema(shape.status),
              },
            },
          },
        },
      ],
    },
  }));
}

/** The CRDs as one multi-document YAML: deploy/chart/files/crds/external-secrets.yaml is this text. */
export function renderCrdsYaml(): string {
  const header = '# Generated by `herdless crds` from the zod schemas in packages/core. Do not edit.\n';
  return header + crdManifests().map((crd) => '---\n' + stringify(crd, { lineWidth: 0 })).join('');
}
