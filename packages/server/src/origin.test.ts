import { describe, expect, it } from 'vitest';
import { isOriginAllowed, offersSubprotocol } from './origin.js';

const none = new Set<string>();
const plain = (host: string) => ({ host, secure: false });

describe('isOriginAllowed', () => {
  it('compares host and port, with the scheme’s default port', () => {
    expect(isOriginAllowed('https://panel.example.com', plain('panel.example.com'), none, false)).toBe(true);
    expect(isOriginAllowed('https://panel.example.com', plain('panel.example.com:443'), none, false)).toBe(true);
    expect(isOriginAllowed('http://Panel.Example.com:8080', plain('panel.example.com:8080'), none, false)).toBe(true);
    expect(isOriginAllowed('http://panel.example.com:8080', plain('panel.example.com:8081'), none, false)).toBe(false);
    expect(isOriginAllowed('https://panel.example.com.evil.net', plain('panel.example.com'), none, false)).toBe(false);
  });

  it('allows listed origins, refuses null and garbage, and a missing Origin only without requireOrigin', () => {
    const listed = new Set(['https://a.example']);
    expect(isOriginAllowed('https://a.example', plain('b.example'), listed, true)).toBe(true);
    expect(isOriginAllowed('null', plain('b.example'), listed, false)).toBe(false);
    expect(isOriginAllowed('not a url', plain('b.example'), listed, false)).toBe(false);
    expect(isOriginAllowed(undefined, plain('b.example'), listed, false)).toBe(true);
    expect(isOriginAllowed(undefined, plain('b.example'), listed, true)).toBe(false);
  });
});

describe('isOriginAllowed over a secure connection', () => {
  it('refuses an http: page of the same name, which anyone on its network path can script', () => {
    const secure = { host: 'panel.example.com', secure: true };
    expect(isOriginAllowed('https://panel.example.com', secure, none, false)).toBe(true);
    expect(isOriginAllowed('http://panel.example.com', secure, none, false)).toBe(false);
    expect(isOriginAllowed('http://panel.example.com:443', secure, none, false)).toBe(false);
    // A listed origin is the deployer's word, whatever its scheme.
    expect(isOriginAllowed('http://panel.example.com', secure, new Set(['http://panel.example.com']), false)).toBe(
      true,
    );
  });
});

describe('offersSubprotocol', () => {
  it('finds the protocol in a comma-separated list', () => {
    expect(offersSubprotocol('x, ldf.v1', 'ldf.v1')).toBe(true);
    expect(offersSubprotocol('ldf.v10', 'ldf.v1')).toBe(false);
    expect(offersSubprotocol(undefined, 'ldf.v1')).toBe(false);
  });
});
