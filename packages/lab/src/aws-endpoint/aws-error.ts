// Errors in the shape AWS's JSON 1.1 protocol gives them: HTTP status, `__type` in the body
// and the x-amzn-ErrorType header (the SDK reads either to pick the error class), and the
// messages Secrets Manager uses, so SDK error classification behaves as against AWS.
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const SECRET_NOT_FOUND_MESSAGE = "Secrets Manager can't find the specified secret.";

export const awsErrors = {
  secretNotFound: () => new AwsError('ResourceNotFoundException', SECRET_NOT_FOUND_MESSAGE),
  versionNotFound: (what: 'VersionId' | 'staging label', value: string) =>
    new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}: ${value}`),
  secretExists: (name: string) =>
    new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`),
  throttled: () => new AwsError('ThrottlingException', 'Rate exceeded'),
  invalidParameter: (message: string) => new AwsError('InvalidParameterException', message),
  invalidRequest: (message: string) => new AwsError('InvalidRequestException', message),
  invalidNextToken: () => new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.'),
  /** Model constraint violations, as AWS's front end words them. */
  validation: (field: string, constraint: string) =>
    new AwsError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`),
  serialization: (message: string) => new AwsError('SerializationException', message),
  unknownOperation: (target: string) => new AwsError('UnknownOperationException', `Unknown operation ${target}`),
};
