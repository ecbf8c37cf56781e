import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseAddress, requestFacts, type RequestFacts } from './forwarded.js';

/** A real HTTP server on loopback that answers each request with its facts, read both ways. */
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.end(JSON.stringify({ plain: requestFacts(req, false), trusted: requestFacts(req, true) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function facts(
  headers: Record<string, string | string[]>,
  localAddress = '127.0.0.1',
): Promise<{ plain: RequestFacts; trusted: RequestFacts }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, headers, localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { plain: RequestFacts; trusted: RequestFacts }));
    });
    req.on('error', reject);
  });
}

describe('requestFacts', () => {
  it('reads the socket and Host, and ignores forwarded headers without trustProxy', async () => {
    const { plain } = await facts(
      { host: 'panel.example:8080', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'evil.example' },
      '127.0.0.2',
    );
    expect(plain).toEqual({ address: '127.0.0.2', host: 'panel.example:8080', secure: false });
  });

  it('with trustProxy, believes the last X-Forwarded-For entry and the forwarded host and scheme', async () => {
    const { trusted } = await facts({
      host: '10.0.0.5:8080',
      'x-forwarded-for': '198.51.100.1, 203.0.113.7',
      'x-forwarded-host': 'panel.example',
      'x-forwarded-proto': 'https',
    });
    // The first entry is whatever the client claimed; the last is what the proxy saw.
    expect(trusted).toEqual({ address: '203.0.113.7', host: 'panel.example', secure: true });
  });

  it('with trustProxy, joins repeated header lines and takes the last', async () => {
    const { trusted } = await facts({ host: 'h', 'x-forwarded-for': ['198.51.100.1', '[2001:db8::1]:4711'] });
    expect(trusted.address).toBe('2001:db8::1');
  });

  it('with trustProxy, falls back to the socket when the forwarded address is malformed or missing', async () => {
    expect((await facts({ host: 'h', 'x-forwarded-for': '203.0.113.7, unknown' }, '127.0.0.3')).trusted.address).toBe(
      '127.0.0.3',
    );
    expect((await facts({ host: 'h' }, '127.0.0.3')).trusted).toEqual({
      address: '127.0.0.3',
      host: 'h',
      secure: false,
    });
  });
});

describe('normaliseAddress', () => {
  it('gives IPv4-mapped IPv6 addresses as IPv4 and lower-cases IPv6', () => {
    expect(normaliseAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseAddress('2001:DB8::1')).toBe('2001:db8::1');
    expect(normaliseAddress('::ffff:not-v4')).toBe('::ffff:not-v4');
  });
});
