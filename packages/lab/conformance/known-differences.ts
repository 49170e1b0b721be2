// Differences between our AWS endpoint and moto_server that the differential test
// (test/aws-conformance.test.ts) accepts, each with the reason. An entry belongs here only
// when moto, not we, departs from AWS (checked against the Secrets Manager API reference and
// model), or while a fix of ours is pending (then it says so). Keys are the test's step
// names; values are the exact difference lines the test prints, in order.
export interface KnownDifference {
  difference: string;
  reason: string;
}

// Secrets Manager speaks awsJson1_1 and ResourceNotFoundException has no httpError trait, so
// AWS answers it with HTTP 400 (API reference, Common Errors); moto 5.2.5 answers 404.
const NOT_FOUND_STATUS: KnownDifference = {
  difference: 'status: ours 400, moto 404',
  reason: 'AWS returns ResourceNotFoundException with HTTP 400; moto 5.2.5 uses 404.',
};

// AWS returns LastAccessedDate (rounded down to the day) once a secret has been retrieved in
// the Region ("omitted if the secret has never been retrieved"); moto 5.2.5 never returns it.
const lastAccessed = (path: string, type: 'date' | 'string'): KnownDifference => ({
  difference: `${path}.LastAccessedDate: only in ours (${type})`,
  reason: 'moto 5.2.5 does not track LastAccessedDate; AWS returns it after a GetSecretValue.',
});

// moto's server answers requests it cannot parse or route with a 500 and an HTML/empty body
// (a Python exception), where AWS's front end answers 400 with a typed error.
const motoCrash = (ourType: string): KnownDifference[] => [
  { difference: 'status: ours 400, moto 500', reason: `AWS answers 400 ${ourType}; moto 5.2.5 fails with an internal error (500, no __type).` },
  { difference: `error __type: ours ${ourType}, moto (none)`, reason: `AWS's __type is ${ourType}; moto gives none.` },
];

// STS (AssumeRole and AssumeRoleWithWebIdentity API references): PackedPolicySize is "the packed
// size of the session policies and session tags combined passed in the request", so AWS returns
// it only when a request passes them; moto 5.2.5 always answers 6.
const packedPolicySize: KnownDifference = {
  difference: '$.PackedPolicySize: only in moto (number)',
  reason: 'AWS returns PackedPolicySize only for a request with session policies or tags; moto 5.2.5 always returns it.',
};

// moto 5.2.5 evaluates no trust policy and no DurationSeconds bound: every AssumeRole succeeds.
const motoGrants = (ourType: string, ourStatus: number, why: string): KnownDifference[] => [
  { difference: `status: ours ${ourStatus}, moto 200`, reason: `${why}; moto 5.2.5 grants every AssumeRole.` },
  { difference: `error __type: ours ${ourType}, moto (none)`, reason: `AWS answers ${ourType}; moto returns credentials.` },
];

export const KNOWN_DIFFERENCES: Record<string, KnownDifference[]> = {
  'raw CreateSecret without Name': motoCrash('ValidationException'),
  'raw GetSecretValue without SecretId': motoCrash('ValidationException'),
  'raw malformed JSON': motoCrash('SerializationException'),
  'raw unknown operation': motoCrash('UnknownOperationException'),
  'sdk GetSecretValue missing secret': [NOT_FOUND_STATUS],
  'sdk GetSecretValue bad version stage': [NOT_FOUND_STATUS],
  'sdk GetSecretValue unknown VersionId': [NOT_FOUND_STATUS],
  'sdk GetSecretValue secret without value': [NOT_FOUND_STATUS],
  'sdk PutSecretValue missing secret': [NOT_FOUND_STATUS],
  'sdk DescribeSecret missing secret': [NOT_FOUND_STATUS],
  'sdk DescribeSecret': [lastAccessed('$', 'date')],
  'cli describe-secret': [lastAccessed('$', 'string')],
  'sdk ListSecrets': [lastAccessed('$.SecretList[0]', 'date'), lastAccessed('$.SecretList[2]', 'date')],
  'sdk ListSecrets name filter': [lastAccessed('$.SecretList[0]', 'date')],
  'sdk ListSecrets MaxResults 1': [lastAccessed('$.SecretList[0]', 'date')],
  'cli list-secrets': [lastAccessed('$.SecretList[0]', 'string'), lastAccessed('$.SecretList[2]', 'string')],
  // "You must include Filters or SecretIdList, but not both" (BatchGetSecretValue request);
  // moto 5.2.5 answers 200 with every secret.
  'raw BatchGetSecretValue neither ids nor filters': [
    { difference: 'status: ours 400, moto 200', reason: 'AWS requires Filters or SecretIdList; moto accepts neither.' },
    { difference: 'error __type: ours InvalidParameterException, moto (none)', reason: 'AWS rejects the request; moto returns a result.' },
  ],
  'sdk AssumeRole': [packedPolicySize],
  'sdk AssumeRole chained with the session': [packedPolicySize],
  'sdk AssumeRole DurationSeconds below 900': motoGrants('ValidationError', 400, 'DurationSeconds has a minimum of 900 (API reference)'),
  'sdk AssumeRole of a role that does not trust the caller': motoGrants('AccessDenied', 403, "AWS refuses a caller the role's trust policy does not name"),
  // AssumeRoleWithWebIdentity's response elements include SubjectFromWebIdentityToken, Provider and
  // Audience (API reference); moto 5.2.5 answers only the credentials and the assumed role.
  'sdk AssumeRoleWithWebIdentity': [
    { difference: '$.Audience: only in ours (string)', reason: "AWS returns the token's audience; moto 5.2.5 omits it." },
    { difference: '$.Provider: only in ours (string)', reason: 'AWS returns the issuing provider; moto 5.2.5 omits it.' },
    { difference: '$.SubjectFromWebIdentityToken: only in ours (string)', reason: "AWS returns the token's sub; moto 5.2.5 omits it." },
    packedPolicySize,
  ],
  'raw AssumeRole without RoleSessionName': motoCrash('ValidationError'),
  'raw unknown STS action': motoCrash('InvalidAction'),
};
