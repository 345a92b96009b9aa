/** A command line or environment the server or the client cannot start with (the CLIs exit 2). */
export class ConfigError extends Error {
  override get name(): string {
    return 'ConfigError';
  }
}
