import { ConfigError } from '../src/config-error';
import { kServerUsage, parseServerConfig } from '../src/server/server-config';

function refusal(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseServerConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')} ${JSON.stringify(env)}`);
}

describe('parseServerConfig', () => {
  it('has defaults for everything', () => {
    expect(parseServerConfig([], {})).toEqual({
      host: '127.0.0.1',
      port: 7000,
      metricsPort: 9464,
      reactors: 1,
      hashThreads: 1,
      shutdownTimeout: 10_000,
      logLevel: 'info',
    });
  });

  it('takes each setting from its variable, and a flag over its variable', () => {
    const env = {
      ECHO_HOST: '0.0.0.0',
      ECHO_PORT: '7100',
      ECHO_METRICS_PORT: '9100',
      ECHO_REACTORS: '2',
      ECHO_HASH_THREADS: '3',
      ECHO_SHUTDOWN_TIMEOUT: '0',
      ECHO_LOG_LEVEL: 'debug',
    };
    expect(parseServerConfig([], env)).toEqual({
      host: '0.0.0.0',
      port: 7100,
      metricsPort: 9100,
      reactors: 2,
      hashThreads: 3,
      shutdownTimeout: 0,
      logLevel: 'debug',
    });
    const flags = ['--port', '0', '--reactors', '4', '--log-level', 'warn', '--host', '::1'];
    expect(parseServerConfig(flags, env)).toMatchObject({
      host: '::1',
      port: 0,
      reactors: 4,
      logLevel: 'warn',
      metricsPort: 9100,
    });
    // A flag wins even over a variable that would be refused: the variable is not read.
    expect(parseServerConfig(['--port', '1'], { ECHO_PORT: 'nope' }).port).toBe(1);
    // An empty variable counts as unset.
    expect(parseServerConfig([], { ECHO_PORT: '' }).port).toBe(7000);
  });

  it('names the flag, the variable, the range and where the value came from', () => {
    expect(refusal(['--port', '70000'])).toBe(
      '--port (ECHO_PORT) must be an integer from 0 to 65535 (received "70000" from --port)',
    );
    expect(refusal([], { ECHO_REACTORS: '0' })).toBe(
      '--reactors (ECHO_REACTORS) must be an integer from 1 to 256 (received "0" from ECHO_REACTORS)',
    );
    expect(refusal(['--hash-threads', '1.5'])).toBe(
      '--hash-threads (ECHO_HASH_THREADS) must be an integer from 1 to 64 (received "1.5" from --hash-threads)',
    );
    expect(refusal([], { ECHO_SHUTDOWN_TIMEOUT: '-1' })).toContain('from 0 to 2147483647');
    expect(refusal(['--shutdown-timeout', '-5'])).toBe(
      '--shutdown-timeout (ECHO_SHUTDOWN_TIMEOUT) must be an integer from 0 to 2147483647 (received "-5" from --shutdown-timeout)',
    );
    expect(refusal(['--log-level', 'loud'])).toBe(
      '--log-level (ECHO_LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, silent (received "loud" from --log-level)',
    );
    expect(refusal([], { ECHO_HOST: 'example.com' })).toBe(
      '--host (ECHO_HOST) must be an IP address or localhost (received "example.com" from ECHO_HOST)',
    );
  });

  it('refuses unknown flags, missing values, stray arguments and one port for both', () => {
    expect(refusal(['--prot', '1'])).toContain("Unknown option '--prot'");
    expect(refusal(['--port'])).toContain("Option '--port <value>' argument missing");
    expect(refusal(['serve'])).toContain("Unexpected argument 'serve'");
    expect(refusal(['--port', '8000', '--metrics-port', '8000'])).toBe(
      '--port (ECHO_PORT) and --metrics-port (ECHO_METRICS_PORT) must differ (both 8000)',
    );
    expect(parseServerConfig(['--port', '0', '--metrics-port', '0'], {}).port).toBe(0);
  });

  it('lists every flag with its variable and default in the usage', () => {
    for (const line of [
      '--host (ECHO_HOST)',
      '--port (ECHO_PORT)',
      '--metrics-port (ECHO_METRICS_PORT)',
      '--reactors (ECHO_REACTORS)',
      '--hash-threads (ECHO_HASH_THREADS)',
      '--shutdown-timeout (ECHO_SHUTDOWN_TIMEOUT)',
      '--log-level (ECHO_LOG_LEVEL)',
      'default 7000',
    ]) {
      expect(kServerUsage).toContain(line);
    }
    // One column for the flags, as wide as the widest, then at least two spaces; ranges shown.
    const rows = kServerUsage.split('\n').filter((line) => line.startsWith('  --'));
    expect(rows).toHaveLength(8);
    const descriptionAt = (row: string) => {
      const gap = row.indexOf('  ', 2); // the first two spaces after the flag
      return gap + (row.slice(gap).length - row.slice(gap).trimStart().length);
    };
    expect(new Set(rows.map(descriptionAt)).size).toBe(1);
    expect(kServerUsage).toContain('1 to 256; default 1');
  });
});
