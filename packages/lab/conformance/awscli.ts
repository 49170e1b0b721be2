// Debian's awscli, the second client in the differential test: `/usr/bin/aws` (a pyenv shim
// named `aws` may sit earlier on PATH and answer for another Python), installed with apt-get
// when missing. Each call gets throw-away credentials, a region and --endpoint-url.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const AWS_CLI = '/usr/bin/aws';

export async function ensureAwsCli(log: (line: string) => void = () => undefined): Promise<string> {
  if (existsSync(AWS_CLI)) return AWS_CLI;
  if (process.getuid?.() !== 0) throw new Error(`${AWS_CLI} is missing and this is not root: apt-get install -y awscli`);
  log('installing Debian awscli (apt-get install -y awscli)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '-qq', 'awscli'], { env, timeout: 600_000, maxBuffer: 16 << 20 });
  } catch {
    // A fresh machine may have no package lists yet.
    await run('apt-get', ['update', '-qq'], { env, timeout: 600_000, maxBuffer: 16 << 20 });
    await run('apt-get', ['install', '-y', '-qq', 'awscli'], { env, timeout: 600_000, maxBuffer: 16 << 20 });
  }
  if (!existsSync(AWS_CLI)) throw new Error(`apt-get install awscli did not provide ${AWS_CLI}`);
  return AWS_CLI;
}

export interface AwsCliResult {
  exitCode: number;
  /** Parsed stdout (--output json), or undefined when empty. */
  output: unknown;
  /** `ResourceNotFoundException` from "An error occurred (X) when calling …", when the call failed. */
  errorCode?: string;
  stderr: string;
}

export async function awsSecretsManager(endpointUrl: string, command: string, args: string[]): Promise<AwsCliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: 'AKIDCONFORMANCE',
    AWS_SECRET_ACCESS_KEY: 'conformance-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
  };
  const argv = ['--endpoint-url', endpointUrl, '--output', 'json', '--no-cli-pager', 'secretsmanager', command, ...args];
  try {
    const { stdout, stderr } = await run(AWS_CLI, argv, { env, timeout: 60_000 });
    return { exitCode: 0, output: stdout.trim() ? JSON.parse(stdout) : undefined, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    const stderr = err.stderr ?? '';
    const code = /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];
    return { exitCode: typeof err.code === 'number' ? err.code : -1, output: undefined, ...(code ? { errorCode: code } : {}), stderr };
  }
}
