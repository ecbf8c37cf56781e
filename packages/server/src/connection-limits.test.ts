import { describe, expect, it } from 'vitest';
import { ConnectionCap, ConnectionCounter } from './connection-limits.js';
import { addressKey } from './forwarded.js';

describe('ConnectionCounter', () => {
  const limits = { total: 4, perAddress: 3, preHello: 3, preHelloPerAddress: 2 };

  it('names the cap a new socket would exceed, per-address caps first', () => {
    const c = new ConnectionCounter(limits);
    const a1 = c.opened('10.0.0.1');
    c.opened('10.0.0.1');
    expect(c.refusal('10.0.0.1')).toBe(ConnectionCap.PreHelloPerAddress);
    a1.greeted();
    expect(c.refusal('10.0.0.1')).toBeUndefined();
    c.opened('10.0.0.1').greeted();
    expect(c.refusal('10.0.0.1')).toBe(ConnectionCap.PerAddress);
    c.opened('10.0.0.2');
    expect(c.refusal('10.0.0.3')).toBe(ConnectionCap.Total);
    expect(c.counts()).toEqual({ open: 4, preHello: 2 });
  });

  it('caps the sockets before hello in total', () => {
    const c = new ConnectionCounter({ ...limits, total: 100 });
    c.opened('10.0.0.1');
    c.opened('10.0.0.2');
    c.opened('10.0.0.3');
    expect(c.refusal('10.0.0.4')).toBe(ConnectionCap.PreHello);
  });

  it('releases a socket once, whether greeted or not, and forgets an address with none open', () => {
    const c = new ConnectionCounter(limits);
    const t = c.opened('10.0.0.1');
    t.greeted();
    t.greeted();
    t.closed();
    t.closed();
    expect(c.counts()).toEqual({ open: 0, preHello: 0 });
    const u = c.opened('10.0.0.1');
    u.closed();
    expect(c.counts('10.0.0.1')).toEqual({ open: 0, preHello: 0 });
  });

  it('counts an IPv6 client by its /64', () => {
    const c = new ConnectionCounter(limits);
    c.opened('2001:db8:1:2::1').greeted();
    c.opened('2001:db8:1:2:ffff::9').greeted();
    c.opened('2001:db8:1:2:aaaa:bbbb:cccc:dddd').greeted();
    expect(c.refusal('2001:db8:1:2::77')).toBe(ConnectionCap.PerAddress);
    expect(c.refusal('2001:db8:1:3::1')).toBeUndefined();
  });
});

describe('addressKey', () => {
  it('keeps IPv4 and gives IPv6 as its /64 prefix', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:0db8:0001:0002:0003:0004:0005:0006')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressKey('unknown')).toBe('unknown');
  });
});
