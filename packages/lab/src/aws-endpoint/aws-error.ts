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

/** Parameter Store's errors, worded as Systems Manager words them. None quotes a parameter value. */
export const ssmErrors = {
  parameterNotFound: (name: string) => new AwsError('ParameterNotFound', `Parameter ${name} not found.`),
  versionNotFound: (name: string, version: number | string) =>
    new AwsError('ParameterVersionNotFound', `Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`),
  alreadyExists: () =>
    new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'),
  /** Free-form ValidationException, as SSM's own checks word them. */
  validation: (message: string) => new AwsError('ValidationException', message),
  /** A model constraint, with the offending value quoted (never use it for a parameter value). */
  constraint: (field: string, value: string, constraint: string) =>
    new AwsError('ValidationException', `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`),
  invalidNextToken: () => new AwsError('InvalidNextToken', 'The specified token is not valid.'),
  /** A tagging call's ResourceId names no resource (a missing parameter, for ResourceType Parameter). */
  invalidResourceId: () => new AwsError('InvalidResourceId', "The resource ID isn't valid. Verify that you entered the correct ID and try again."),
  invalidResourceType: () => new AwsError('InvalidResourceType', "The resource type isn't valid. For example, if you are attempting to tag an EC2 instance, the instance must be a registered managed node."),
  invalidFilterKey: (message: string) => new AwsError('InvalidFilterKey', message),
  invalidFilterOption: (message: string) => new AwsError('InvalidFilterOption', message),
  invalidFilterValue: (message: string) => new AwsError('InvalidFilterValue', message),
  hierarchyLevelLimit: () =>
    new AwsError(
      'HierarchyLevelLimitExceededException',
      'A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide.',
    ),
  patternMismatch: (pattern: string) =>
    new AwsError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`),
  invalidAllowedPattern: () => new AwsError('InvalidAllowedPatternException', 'The request does not meet the regular expression requirement.'),
  maxVersionLimit: (name: string, oldest: number) =>
    new AwsError(
      'ParameterMaxVersionLimitExceeded',
      `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
    ),
  labelLimit: () =>
    new AwsError('ParameterVersionLabelLimitExceeded', 'A parameter version can have maximum 10 labels. Move one or more labels to another version and try again.'),
};
