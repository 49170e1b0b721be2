// Reading the fields of a JSON 1.1 request body the way AWS's front end checks them: a
// missing required member or one outside its model constraints is a ValidationException, a
// member of the wrong JSON type a SerializationException. Shared by the Secrets Manager and
// Parameter Store handlers.
import { awsErrors, ssmErrors } from './aws-error.js';

export type Input = Record<string, unknown>;

export function requireString(input: Input, field: string): string {
  const value = input[field];
  if (value === undefined || value === null) throw awsErrors.validation(lowerFirst(field), 'Member must not be null');
  if (typeof value !== 'string') throw awsErrors.serialization(`${field} must be a string`);
  if (value.length === 0) throw awsErrors.validation(lowerFirst(field), 'Member must have length greater than or equal to 1');
  return value;
}

export function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw awsErrors.serialization(`${field} must be a string`);
  return value;
}

export function optionalInt(input: Input, field: string, min: number, max: number): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw awsErrors.serialization(`${field} must be an integer`);
  if (value < min) throw awsErrors.validation(lowerFirst(field), `Member must have value greater than or equal to ${min}`);
  if (value > max) throw awsErrors.validation(lowerFirst(field), `Member must have value less than or equal to ${max}`);
  return value;
}

/** Like optionalInt, worded as Systems Manager does (the value is quoted). */
export function optionalSsmInt(input: Input, field: string, min: number, max: number): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw awsErrors.serialization(`${field} must be an integer`);
  if (value < min) throw ssmErrors.constraint(lowerFirst(field), String(value), `Member must have value greater than or equal to ${min}`);
  if (value > max) throw ssmErrors.constraint(lowerFirst(field), String(value), `Member must have value less than or equal to ${max}`);
  return value;
}

export function optionalBool(input: Input, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw awsErrors.serialization(`${field} must be a boolean`);
  return value;
}

export function optionalStringList(input: Input, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw awsErrors.serialization(`${field} must be a list of strings`);
  return value as string[];
}

export function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
