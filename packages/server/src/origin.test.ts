import { describe, expect, it } from 'vitest';
import { isOriginAllowed, offersSubprotocol } from './origin.js';

const none = new Set<string>();

describe('isOriginAllowed', () => {
  it('compares host and port, with the scheme’s default port', () => {
    expect(isOriginAllowed('https://panel.example.com', 'panel.example.com', none, false)).toBe(true);
    expect(isOriginAllowed('https://panel.example.com', 'panel.example.com:443', none, false)).toBe(true);
    expect(isOriginAllowed('http://Panel.Example.com:8080', 'panel.example.com:8080', none, false)).toBe(true);
    expect(isOriginAllowed('http://panel.example.com:8080', 'panel.example.com:8081', none, false)).toBe(false);
    expect(isOriginAllowed('https://panel.example.com.evil.net', 'panel.example.com', none, false)).toBe(false);
  });

  it('allows listed origins, refuses null and garbage, and a missing Origin only without requireOrigin', () => {
    const listed = new Set(['https://a.example']);
    expect(isOriginAllowed('https://a.example', 'b.example', listed, true)).toBe(true);
    expect(isOriginAllowed('null', 'b.example', listed, false)).toBe(false);
    expect(isOriginAllowed('not a url', 'b.example', listed, false)).toBe(false);
    expect(isOriginAllowed(undefined, 'b.example', listed, false)).toBe(true);
    expect(isOriginAllowed(undefined, 'b.example', listed, true)).toBe(false);
  });
});

describe('offersSubprotocol', () => {
  it('finds the protocol in a comma-separated list', () => {
    expect(offersSubprotocol('x, ldf.v1', 'ldf.v1')).toBe(true);
    expect(offersSubprotocol('ldf.v10', 'ldf.v1')).toBe(false);
    expect(offersSubprotocol(undefined, 'ldf.v1')).toBe(false);
  });
});
