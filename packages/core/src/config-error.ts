// The error a bad configuration value stops a process with: it names the flag, its environment
// variable and the rule the value broke (config.ts and redis-connection.ts throw it).
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
