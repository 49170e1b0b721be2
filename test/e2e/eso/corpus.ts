// The differential test's corpus: what the AWS endpoint holds and the ExternalSecrets (and one
// ClusterExternalSecret) both controllers sync, one case per ESO feature. Values are made up.
import type { AwsEndpoint } from '@herdless/lab';

export const CORPUS_NS = 'corpus';
/** The ClusterExternalSecret's namespaces: two chosen by label, one with an ExternalSecret of that name it does not own. */
export const CES_NAMESPACES = ['ces-a', 'ces-b', 'ces-conflict'];
export const CES_NAME = 'fan-out';

export function seedRemote(aws: AwsEndpoint): void {
  aws.putSecret({ name: 'corpus/db', secretString: JSON.stringify({ username: 'app', password: 'p@ss:w0rd', nested: { a: 1, b: 'x' }, num: 5, bool: true, empty: '' }) });
  aws.putSecret({ name: 'corpus/plain', secretString: 'just a string\nwith a newline' });
  aws.putSecret({ name: 'corpus/b64', secretString: 'aGVsbG8gd29ybGQ=' });
  aws.putSecret({ name: 'corpus/b64json', secretString: JSON.stringify({ cert: 'aGVsbG8=', url: 'aGk_', plain: 'not base64!' }) });
  aws.putSecret({ name: 'corpus/unicode', secretString: JSON.stringify({ 'name with space': 'v1', 'slash/and:colon': 'v2', 'dots.and-dashes_ok': 'v3' }) });
  aws.putSecret({ name: 'corpus/find/one', secretString: 'first', tags: [{ Key: 'team', Value: 'finders' }] });
  aws.putSecret({ name: 'corpus/find/two', secretString: JSON.stringify({ k: 'second' }), tags: [{ Key: 'team', Value: 'finders' }] });
  aws.putSecret({ name: 'corpus/tagged', secretString: 'tagged value', tags: [{ Key: 'env', Value: 'prod' }, { Key: 'owner', Value: 'team-a' }] });
  aws.putSecret({ name: 'corpus/template', secretString: JSON.stringify({ user: 'admin', pass: 'hunter2', obj: { x: [1, 2] } }) });
  aws.putParameter({ name: '/corpus/param', value: 'param-value', tags: [{ Key: 'tier', Value: 'gold' }, { Key: 'app', Value: 'a&b <c>' }] });
  aws.putParameter({ name: '/corpus/list', value: 'a,b,c', type: 'StringList' });
}

const ref = (key: string, extra: Record<string, unknown> = {}) => ({ key, ...extra });
const sm = { name: 'aws', kind: 'SecretStore' };
const ps = { name: 'ssm', kind: 'SecretStore' };

/** The corpus's cases ESO itself refuses (Ready False); every other case must be Ready at ESO, or it tests nothing. */
export const ESO_REFUSES = new Set(['missing-remote-key']);

/** name → ExternalSecret spec, in the corpus namespace. */
export const CORPUS: Record<string, Record<string, unknown>> = {
  'plain-data': {
    secretStoreRef: sm,
    data: [
      { secretKey: 'user', remoteRef: ref('corpus/db', { property: 'username' }) },
      { secretKey: 'whole', remoteRef: ref('corpus/plain') },
    ],
  },
  'json-properties': {
    secretStoreRef: sm,
    data: [
      { secretKey: 'nested-b', remoteRef: ref('corpus/db', { property: 'nested.b' }) },
      { secretKey: 'nested', remoteRef: ref('corpus/db', { property: 'nested' }) },
      { secretKey: 'num', remoteRef: ref('corpus/db', { property: 'num' }) },
      { secretKey: 'bool', remoteRef: ref('corpus/db', { property: 'bool' }) },
      { secretKey: 'empty', remoteRef: ref('corpus/db', { property: 'empty' }) },
    ],
  },
  'extract-json': { secretStoreRef: sm, dataFrom: [{ extract: ref('corpus/db') }] },
  'find-by-name': { secretStoreRef: sm, dataFrom: [{ find: { name: { regexp: '^corpus/find/' } } }] },
  'find-by-tags': { secretStoreRef: sm, dataFrom: [{ find: { tags: { team: 'finders' } } }] },
  'find-by-path': { secretStoreRef: sm, dataFrom: [{ find: { path: 'corpus/find', name: { regexp: '.*' } } }] },
  'template-metadata-type': {
    secretStoreRef: sm,
    target: {
      template: {
        type: 'kubernetes.io/basic-auth',
        metadata: { labels: { app: 'corpus' }, annotations: { note: 'rendered' } },
        data: { username: '{{ .user }}', password: '{{ .pass }}' },
      },
    },
    data: [
      { secretKey: 'user', remoteRef: ref('corpus/template', { property: 'user' }) },
      { secretKey: 'pass', remoteRef: ref('corpus/template', { property: 'pass' }) },
    ],
  },
  'template-functions': {
    secretStoreRef: sm,
    target: {
      template: {
        data: {
          upper: '{{ .pass | upper }}',
          encoded: '{{ .pass | b64enc }}',
          json: '{{ .obj | fromJson | toJson }}',
          defaulted: '{{ .pass | default "fallback" }}',
        },
      },
    },
    data: [
      { secretKey: 'pass', remoteRef: ref('corpus/template', { property: 'pass' }) },
      { secretKey: 'obj', remoteRef: ref('corpus/template', { property: 'obj' }) },
    ],
  },
  'template-merge-policy': {
    secretStoreRef: sm,
    target: { template: { mergePolicy: 'Merge', data: { greeting: 'hello {{ .user }}' } } },
    dataFrom: [{ extract: ref('corpus/template') }],
  },
  'decoding-base64': { secretStoreRef: sm, data: [{ secretKey: 'decoded', remoteRef: ref('corpus/b64', { decodingStrategy: 'Base64' }) }] },
  'decoding-auto': { secretStoreRef: sm, dataFrom: [{ extract: ref('corpus/b64json', { decodingStrategy: 'Auto' }) }] },
  'decoding-base64url': { secretStoreRef: sm, data: [{ secretKey: 'url', remoteRef: ref('corpus/b64json', { property: 'url', decodingStrategy: 'Base64URL' }) }] },
  'conversion-unicode': { secretStoreRef: sm, dataFrom: [{ extract: ref('corpus/unicode', { conversionStrategy: 'Unicode' }) }] },
  'conversion-default': { secretStoreRef: sm, dataFrom: [{ extract: ref('corpus/unicode') }] },
  'rewrite-regexp': { secretStoreRef: sm, dataFrom: [{ extract: ref('corpus/db'), rewrite: [{ regexp: { source: '^(.*)$', target: 'db_$1' } }] }] },
  'metadata-fetch': { secretStoreRef: sm, data: [{ secretKey: 'tags', remoteRef: ref('corpus/tagged', { metadataPolicy: 'Fetch' }) }] },
  'metadata-fetch-property': { secretStoreRef: sm, data: [{ secretKey: 'env', remoteRef: ref('corpus/tagged', { metadataPolicy: 'Fetch', property: 'env' }) }] },
  'metadata-fetch-extract': { secretStoreRef: sm, dataFrom: [{ extract: ref('corpus/tagged', { metadataPolicy: 'Fetch' }) }] },
  'metadata-fetch-parameter': {
    secretStoreRef: ps,
    data: [
      { secretKey: 'tags', remoteRef: ref('/corpus/param', { metadataPolicy: 'Fetch' }) },
      { secretKey: 'tier', remoteRef: ref('/corpus/param', { metadataPolicy: 'Fetch', property: 'tier' }) },
      { secretKey: 'value', remoteRef: ref('/corpus/param') },
    ],
  },
  'merge-into-existing': {
    secretStoreRef: sm,
    target: { name: 'merge-target', creationPolicy: 'Merge' },
    data: [{ secretKey: 'added', remoteRef: ref('corpus/db', { property: 'username' }) }],
  },
  'parameter-store': {
    secretStoreRef: ps,
    data: [
      { secretKey: 'param', remoteRef: ref('/corpus/param') },
      { secretKey: 'list', remoteRef: ref('/corpus/list') },
    ],
  },
  'missing-remote-key': { secretStoreRef: sm, data: [{ secretKey: 'x', remoteRef: ref('corpus/does-not-exist') }] },
};

/** The ClusterExternalSecret's spec: chosen by label, with its own ExternalSecret name and metadata. */
export const CES_SPEC = {
  externalSecretName: 'fanned',
  externalSecretMetadata: { labels: { from: 'ces' }, annotations: { note: 'fanned out' } },
  namespaceSelectors: [{ matchLabels: { 'corpus-ces': 'yes' } }],
  refreshTime: '30s',
  externalSecretSpec: { secretStoreRef: { name: 'shared', kind: 'ClusterSecretStore' }, data: [{ secretKey: 'user', remoteRef: { key: 'corpus/db', property: 'username' } }] },
};
