// What we read from AWS Signature Version 4: the Region of the credential scope. We accept
// any signature (the endpoint checks no credentials); the Region names the ARN of secrets
// created through it, as AWS's would.
const CREDENTIAL = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

export function regionFromAuthorization(header: string | undefined, fallback: string): string {
  if (!header) return fallback;
  return CREDENTIAL.exec(header)?.[1] ?? fallback;
}
