import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestFacts } from './forwarded.js';
import { hostRules, isHostAllowed, isHostRule } from './host.js';

const none = hostRules([], []);

describe('isHostAllowed: what needs no listing', () => {
  it('allows IPv4 literals and bracketed IPv6 literals, with or without a port', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.1:8080',
      '10.1.2.3:80',
      '0.0.0.0:8080',
      '[::1]',
      '[::1]:8080',
      '[fe80::1]:1',
    ]) {
      expect(isHostAllowed(host, none), host).toBe(true);
    }
  });

  it('allows localhost and its subdomains, in any case, with a trailing dot', () => {
    for (const host of ['localhost', 'localhost:8080', 'LocalHost:1', 'localhost.', 'panel.localhost:8080']) {
      expect(isHostAllowed(host, none), host).toBe(true);
    }
  });

  it('refuses every other name, a missing Host and malformed ones', () => {
    for (const host of [
      'attacker.example:8080',
      'attacker.example',
      'localhost.attacker.example',
      'notlocalhost',
      '127.0.0.1.nip.io:8080',
      '::1', // IPv6 without brackets is not a Host
      '[::1',
      '[attacker.example]',
      'evil.example@127.0.0.1',
      '127.0.0.1/x',
      'localhost:8080:1',
      '',
      '.',
    ]) {
      expect(isHostAllowed(host, none), host).toBe(false);
    }
    expect(isHostAllowed(undefined, none)).toBe(false);
  });
});

describe('isHostAllowed: allowedHosts and allowedOrigins', () => {
  it('allows a listed name exactly (any port), but not its subdomains', () => {
    const rules = hostRules(['Panel.Example.com'], []);
    expect(isHostAllowed('panel.example.com', rules)).toBe(true);
    expect(isHostAllowed('panel.example.com:8443', rules)).toBe(true);
    expect(isHostAllowed('PANEL.example.com.', rules)).toBe(true);
    expect(isHostAllowed('a.panel.example.com', rules)).toBe(false);
    expect(isHostAllowed('example.com', rules)).toBe(false);
  });

  it('a leading dot allows the domain and every subdomain, not look-alikes', () => {
    const rules = hostRules(['.example.com'], []);
    expect(isHostAllowed('example.com', rules)).toBe(true);
    expect(isHostAllowed('panel.example.com:8080', rules)).toBe(true);
    expect(isHostAllowed('a.b.example.com', rules)).toBe(true);
    expect(isHostAllowed('badexample.com', rules)).toBe(false);
    expect(isHostAllowed('example.com.attacker.example', rules)).toBe(false);
  });

  it('allows the host names of allowedOrigins', () => {
    const rules = hostRules([], ['https://panel.example.com:8443']);
    expect(isHostAllowed('panel.example.com', rules)).toBe(true);
    expect(isHostAllowed('other.example.com', rules)).toBe(false);
  });

  it('checks allowedHosts entries: names or .domains, no scheme, port or path', () => {
    for (const ok of ['panel.example.com', '.example.com', 'localhost', 'my_host', 'example.com.']) {
      expect(isHostRule(ok), ok).toBe(true);
    }
    for (const bad of ['http://panel.example.com', 'panel.example.com:8080', '*.example.com', '', '.', 'a/b', 42]) {
      expect(isHostRule(bad), String(bad)).toBe(false);
    }
  });
});

describe('isHostAllowed on requestFacts: X-Forwarded-Host only with trustProxy', () => {
  const request = (headers: Record<string, string>): IncomingMessage =>
    ({ headers, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
  const rules = hostRules(['panel.example.com'], []);

  it('without trustProxy, the Host header decides and X-Forwarded-Host is ignored', () => {
    const forged = request({ host: 'attacker.example:8080', 'x-forwarded-host': 'panel.example.com' });
    expect(isHostAllowed(requestFacts(forged, false).host, rules)).toBe(false);
    const plain = request({ host: '127.0.0.1:8080', 'x-forwarded-host': 'attacker.example' });
    expect(isHostAllowed(requestFacts(plain, false).host, rules)).toBe(true);
  });

  it('with trustProxy, the forwarded host decides', () => {
    const proxied = request({ host: '127.0.0.1:8080', 'x-forwarded-host': 'panel.example.com' });
    expect(isHostAllowed(requestFacts(proxied, true).host, rules)).toBe(true);
    const rebound = request({ host: '127.0.0.1:8080', 'x-forwarded-host': 'attacker.example' });
    expect(isHostAllowed(requestFacts(rebound, true).host, rules)).toBe(false);
  });
});
