import { formatAddress, parseAddress } from '../../src/raw/listen-address';

describe('parseAddress', () => {
  it('parses tcp://HOST:PORT, including bracketed IPv6 hosts', () => {
    expect(parseAddress('tcp://127.0.0.1:7000')).toEqual({
      network: 'tcp',
      host: '127.0.0.1',
      port: 7000,
    });
    expect(parseAddress('tcp://[::1]:0')).toEqual({ network: 'tcp', host: '::1', port: 0 });
  });

  it('parses unix:PATH', () => {
    expect(parseAddress('unix:/tmp/echo.sock')).toEqual({
      network: 'unix',
      path: '/tmp/echo.sock',
    });
  });

  it('rejects other forms, naming the flag', () => {
    expect(() => parseAddress('http://x:1')).toThrow(
      '--listen must be tcp://HOST:PORT or unix:PATH',
    );
    expect(() => parseAddress('tcp://host')).toThrow(TypeError);
    expect(() => parseAddress('unix:')).toThrow('--listen unix: needs a socket path');
    expect(() => parseAddress('tcp://h:70000', '--connect')).toThrow(
      '--connect port must be at most 65535 (received 70000)',
    );
  });

  it('formats back to the same text', () => {
    for (const text of ['tcp://127.0.0.1:7000', 'tcp://[::1]:9', 'unix:/tmp/a.sock']) {
      expect(formatAddress(parseAddress(text))).toBe(text);
    }
  });
});
