// Typed failures of the lab environment. `reason` is stable (tests and the CLI match on it);
// the message says what was expected and what was found, with the log tail when a process died.

export type LabErrorReason =
  | 'GoToolchainMissing'
  | 'GoToolchainTooOld'
  | 'ToolchainBuildFailed'
  | 'ProcessExited'
  | 'ReadinessTimeout'
  | 'CrdNotEstablished'
  | 'CrdNotServed'
  | 'CrdNotInstalled'
  | 'CertificateGenerationFailed'
  | 'RedisServerMissing';

export class LabError extends Error {
  override readonly name = 'LabError';
  constructor(
    readonly reason: LabErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
