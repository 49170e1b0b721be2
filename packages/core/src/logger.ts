// Structured JSON logs (pino). Log objects carry identities (namespace, name, provider key),
// never values: the redact list is a second line of defence, not the first.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, component: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['data', '*.data', 'stringData', '*.stringData', 'value', '*.value', 'SecretString', '*.SecretString', 'SecretBinary', '*.SecretBinary', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
