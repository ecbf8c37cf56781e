import { afterEach, describe, expect, it } from 'vitest';
import type { AckFrame, ResyncFrame, UpdateFrame } from '@live-device-form/protocol';
import { type Harness, makeBridge, startServer, stopAll, until } from '@live-device-form/testkit';

afterEach(stopAll);

const H = 'genlock_phase_h';
const isUpdate = (field: string, value?: unknown) => (f: { type: string }) =>
  f.type === 'update' &&
  (f as UpdateFrame).field === field &&
  (value === undefined || (f as UpdateFrame).value === value);
const rejections = (h: Harness) => h.log.entries.filter((e) => e.msg === 'write rejected');

describe('hello', () => {
  it('a first mount gets its resync at once, with epoch, schema and every value', async () => {
    const h = await startServer();
    const { client, resync } = await h.join(0);
    expect(client.frames[0]).toBe(resync);
    expect(resync.epoch).toBe(h.live.epoch);
    expect(resync.device).toBe('online');
    expect(resync.schema.map((f) => f.name)).toContain(H);
    expect(resync.fields[H]).toEqual({ value: -25, rev: 0 });
    expect(resync.fields.standard).toEqual({ value: 'pal', rev: 0 });
  });

  it('no hello in time: error hello-timeout, close 4408', async () => {
    const h = await startServer({ helloTimeoutMs: 150 });
    const client = await h.connect();
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'hello-timeout' });
    expect((await client.closed).code).toBe(4408);
  });

  it('a frame before hello: error bad-frame, close 4400', async () => {
    const h = await startServer();
    const client = await h.connect();
    client.send({ type: 'ping', id: 1 });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'bad-frame' });
    expect((await client.closed).code).toBe(4400);
  });

  it('a set before hello still gets its one ack (guard), then close 4400; nothing reaches the bridge', async () => {
    const h = await startServer();
    const client = await h.connect();
    client.set(1, H, 0, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'guard' });
    expect((await client.closed).code).toBe(4400);
    expect(h.bridge.writes).toEqual([]);
  });

  it('a second hello: close 4400', async () => {
    const h = await startServer();
    const { client } = await h.join();
    client.hello(0);
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'bad-frame', message: 'second hello' });
    expect((await client.closed).code).toBe(4400);
  });

  it('an unknown device: error unknown-device, close 4404', async () => {
    const h = await startServer();
    const client = await h.connect();
    client.hello(0, 'toaster');
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'unknown-device' });
    expect((await client.closed).code).toBe(4404);
  });
});

describe('token and authorize', () => {
  it('a missing or bad token: close 4401; the right token: resync', async () => {
    const h = await startServer({ token: 's3cret' });
    const missing = await h.connect();
    missing.hello(0);
    expect(await missing.next((f) => f.type === 'error')).toMatchObject({
      code: 'unauthorized',
      message: 'missing token',
    });
    expect((await missing.closed).code).toBe(4401);
    const bad = await h.connect();
    bad.hello(0, 'videoproc', 's3cret!');
    expect((await bad.closed).code).toBe(4401);
    const good = await h.connect();
    good.hello(0, 'videoproc', 's3cret');
    await good.next((f) => f.type === 'resync');
  });

  it('the token is checked before the device id, so ids cannot be probed without it', async () => {
    const h = await startServer({ token: 's3cret' });
    const client = await h.connect();
    client.hello(0, 'toaster');
    expect((await client.closed).code).toBe(4401);
  });

  it('authorize refusing (false, or throwing): error forbidden, close 4403', async () => {
    const seen: string[] = [];
    let answer: 'no' | 'throw' = 'no';
    const h = await startServer({
      authorize: async (req, hello) => {
        seen.push(`${req.headers['x-user']}:${hello.device}:${hello.mounts}`);
        if (answer === 'throw') throw new Error('directory down');
        return false;
      },
    });
    const refused = await h.connect({ headers: { 'x-user': 'eve' } });
    refused.hello(2);
    expect(await refused.next((f) => f.type === 'error')).toMatchObject({ code: 'forbidden' });
    expect((await refused.closed).code).toBe(4403);
    answer = 'throw';
    const thrown = await h.connect({ headers: { 'x-user': 'bob' } });
    thrown.hello(0);
    expect((await thrown.closed).code).toBe(4403);
    expect(seen).toEqual(['eve:videoproc:2', 'bob:videoproc:0']);
    expect(h.log.entries.some((e) => e.level === 'error' && e.msg.includes('authorize threw'))).toBe(true);
  });

  it('canWrite says no: the write is rejected forbidden with the current value and rev', async () => {
    const h = await startServer({ authorize: () => ({ user: 'operator', canWrite: (field) => field !== 'gain' }) });
    const { client } = await h.join();
    client.set(1, 'gain', 1.5, 0);
    expect(await client.ack(1)).toEqual({
      type: 'ack',
      id: 1,
      status: 'rejected',
      reason: 'forbidden',
      message: 'not allowed to write gain',
      field: 'gain',
      value: 0,
      rev: 0,
    });
    client.set(2, H, 3, 0);
    expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
    expect(h.bridge.writes.map((w) => w.field)).toEqual([H]);
    expect(h.live.sessions()[0]?.user).toBe('operator');
  });

  it('a read-only field is forbidden', async () => {
    const h = await startServer();
    const { client } = await h.join();
    client.set(1, 'temperature', 20, 0);
    expect(await client.ack(1)).toMatchObject({
      status: 'rejected',
      reason: 'forbidden',
      field: 'temperature',
      value: 41.5,
    });
    expect(h.bridge.writes).toEqual([]);
  });

  it('an authorize that never settles ends in hello-timeout 4408', async () => {
    const h = await startServer({ helloTimeoutMs: 150, authorize: () => new Promise(() => {}) });
    const client = await h.connect();
    client.hello(0);
    client.set(1, H, 0, 0); // while authorizing: guard, and no value is told to an unknown user
    expect(await client.ack(1)).toEqual({
      type: 'ack',
      id: 1,
      status: 'rejected',
      reason: 'guard',
      message: 'not authorized yet',
    });
    expect((await client.closed).code).toBe(4408);
  });
});

describe('reconnect guard', () => {
  it('every set of a reconnect mount within 500 ms is rejected guard and none reaches the bridge', async () => {
    const h = await startServer(); // default guardMs: 500
    const client = await h.connect();
    const start = Date.now();
    client.hello(1);
    // A naive client re-submits every input right after reconnecting, then once more a bit later.
    const fields: [string, unknown][] = [
      [H, 22],
      ['genlock_phase_v', 10],
      ['gain', 1],
      ['standard', 'ntsc'],
      ['mute', true],
    ];
    fields.forEach(([field, value], i) => client.set(i + 1, field, value, 0));
    for (let i = 1; i <= fields.length; i++)
      expect(await client.ack(i)).toMatchObject({ status: 'rejected', reason: 'guard' });
    await new Promise((r) => setTimeout(r, 300));
    client.set(10, H, 23, 0);
    const late = await client.ack(10);
    expect(Date.now() - start).toBeLessThan(500);
    expect(late).toMatchObject({ status: 'rejected', reason: 'guard', field: H, value: -25, rev: 0 });
    const resync = await client.next<ResyncFrame>((f) => f.type === 'resync');
    expect(Date.now() - start).toBeGreaterThanOrEqual(480);
    expect(h.bridge.writes).toEqual([]);
    // After the resync, writes from its revisions go through.
    client.set(11, H, 22, resync.fields[H]!.rev);
    expect(await client.ack(11)).toMatchObject({ status: 'accepted' });
    expect(rejections(h).filter((e) => e.obj?.reason === 'guard')).toHaveLength(6);
  });

  it('the resync after the guard carries the value the device changed to during it; no frame precedes it', async () => {
    const h = await startServer({ guardMs: 200 });
    const client = await h.connect();
    client.hello(3);
    client.set(1, H, 99, 0);
    await client.ack(1);
    h.bridge.setStatus({ [H]: 42 });
    h.bridge.setOnline(false);
    h.bridge.setOnline(true);
    const resync = await client.next<ResyncFrame>((f) => f.type === 'resync');
    expect(resync.fields[H]).toEqual({ value: 42, rev: 1 });
    expect(client.frames.map((f) => f.type)).toEqual(['ack', 'resync']);
  });

  it('guardMs 0 disables the guard; setProtection turns it off for later sessions', async () => {
    const h = await startServer({ guardMs: 60_000 });
    h.live.setProtection({ guardMs: 0 });
    const { client, resync } = await h.join(5);
    client.set(1, H, 0, resync.fields[H]!.rev);
    expect(await client.ack(1)).toMatchObject({ status: 'accepted' });
    expect(h.log.entries.some((e) => e.level === 'warn' && e.msg.includes('protection reduced'))).toBe(true);
  });
});

describe('revisions', () => {
  it('a stale write is refused with the current value and rev, and never reaches the bridge', async () => {
    const h = await startServer();
    const { client } = await h.join();
    h.bridge.setStatus({ [H]: -30 });
    await client.next(isUpdate(H, -30));
    client.set(1, H, 22, 0); // edited from the value before the device changed
    expect(await client.ack(1)).toEqual({
      type: 'ack',
      id: 1,
      status: 'rejected',
      reason: 'stale',
      message: `${H} changed since revision 0`,
      field: H,
      value: -30,
      rev: 1,
    });
    client.set(2, H, 23, 5); // a revision from the future
    expect(await client.ack(2)).toMatchObject({ reason: 'stale' });
    expect(h.bridge.writes).toEqual([]);
  });

  it('a slider dragged at 20 writes/s with echoes is never refused', async () => {
    const bridge = makeBridge({ echoDelayMs: 70 }); // echoes lag behind: writes overlap
    const h = await startServer({ bridge });
    const { client, resync } = await h.join();
    let rev = resync.fields[H]!.rev;
    client.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.type === 'update' && f.field === H) rev = f.rev;
    });
    const acks: Promise<AckFrame>[] = [];
    // Loopback has no latency; a real link does. Each write is based on the revision the page knew
    // one write earlier (a ~50 ms-old view), so its own echoes land between its base and the check.
    let base = rev;
    for (let i = 1; i <= 30; i++) {
      client.set(i, H, i, base);
      base = rev;
      acks.push(client.ack(i));
      await new Promise((r) => setTimeout(r, 50));
    }
    const results = await Promise.all(acks);
    expect(results.map((a) => a.status)).toEqual(Array(30).fill('accepted'));
    expect(h.bridge.writes).toHaveLength(30);
  });

  it('two sessions editing one field: the second one’s write from the old value is stale', async () => {
    const h = await startServer();
    const a = await h.join();
    const b = await h.join();
    a.client.set(1, H, 100, 0);
    expect(await a.client.ack(1)).toMatchObject({ status: 'accepted' });
    const update = await b.client.next<UpdateFrame>(isUpdate(H, 100));
    b.client.set(1, H, -100, 0); // B had not looked at the update yet
    expect(await b.client.ack(1)).toMatchObject({ status: 'rejected', reason: 'stale', value: 100, rev: update.rev });
    // The writer gets its own echo as an update too.
    await a.client.next(isUpdate(H, 100));
    expect(h.bridge.writes.map((w) => w.value)).toEqual([100]);
  });

  it('two sessions, one field, one revision: the second write is stale while the first awaits its echo', async () => {
    // The device has not answered A's write yet (no echo, so no new revision): B's write from the
    // same revision would still overwrite a value B never saw (docs/protocol.md rule 3).
    const bridge = makeBridge({ echo: false });
    const h = await startServer({ bridge });
    const a = await h.join();
    const b = await h.join();
    a.client.set(1, H, 100, 0);
    expect(await a.client.ack(1)).toMatchObject({ status: 'accepted' });
    b.client.set(1, H, -100, 0);
    expect(await b.client.ack(1)).toMatchObject({ status: 'rejected', reason: 'stale', value: -25, rev: 0 });
    // A's own next write (a slider) goes on.
    a.client.set(2, H, 101, 0);
    expect(await a.client.ack(2)).toMatchObject({ status: 'accepted' });
    expect(bridge.writes.map((w) => w.value)).toEqual([100, 101]);
  });

  it('checkRevisions off (the demo switch) lets a stale write through', async () => {
    const h = await startServer();
    h.live.setProtection({ checkRevisions: false });
    const { client } = await h.join();
    h.bridge.setStatus({ [H]: -30 });
    client.set(1, H, 22, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'accepted' });
  });

  it('a composite payload carries the freshest other field: a write awaiting its echo', async () => {
    const bridge = makeBridge({ echo: false });
    const h = await startServer({ bridge });
    const { client } = await h.join();
    client.set(1, 'genlock_phase_v', 12, 0);
    await client.ack(1);
    client.set(2, H, 22, 0);
    await client.ack(2);
    expect(bridge.writes.map((w) => w.payload)).toEqual([
      { genlock_phase_h: -25, genlock_phase_v: 12 },
      { genlock_phase_h: 22, genlock_phase_v: 12 }, // not the device's old 10
    ]);
  });
});

describe('acks', () => {
  it('accepted, unknown and offline outcomes each give exactly one ack', async () => {
    const h = await startServer();
    const { client } = await h.join();
    client.set(1, H, 1, 0);
    expect(await client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    h.bridge.writeBehaviour = 'unknown';
    client.set(2, 'gain', 2, 0);
    expect(await client.ack(2)).toEqual({ type: 'ack', id: 2, status: 'unknown' });
    h.bridge.writeBehaviour = 'offline'; // the broker link died while publishing
    client.set(3, 'mute', true, 0);
    expect(await client.ack(3)).toMatchObject({ status: 'rejected', reason: 'offline', field: 'mute', value: false });
    await client.roundTrip();
    for (const id of [1, 2, 3]) expect(client.acksFor(id)).toHaveLength(1);
    expect(h.live.stats()).toMatchObject({ sets: 3, acks: 3, undeliveredAcks: 0 });
  });

  it('a burst of 100 sets gets 100 acks, one each: 50 accepted, 50 rate', async () => {
    // Burst 50 as by default, but a refill too slow to hand out a 51st token however long the
    // burst takes on a loaded machine.
    const h = await startServer({ rateLimit: { burst: 50, perSecond: 0.01 } });
    const { client } = await h.join();
    for (let i = 1; i <= 100; i++) client.set(i, 'gain', (i % 20) - 10, 0);
    const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => client.ack(i + 1)));
    await client.roundTrip();
    expect(acks.filter((a) => a.status === 'accepted')).toHaveLength(50);
    expect(acks.filter((a) => a.status === 'rejected' && a.reason === 'rate')).toHaveLength(50);
    for (let i = 1; i <= 100; i++) expect(client.acksFor(i)).toHaveLength(1);
    expect(h.bridge.writes).toHaveLength(50);
    expect(h.live.stats()).toMatchObject({ sets: 100, acks: 100 });
    expect(rejections(h).filter((e) => e.obj?.reason === 'rate')).toHaveLength(50);
  });

  it('the rate limit refills: after a pause writes are accepted again', async () => {
    const h = await startServer({ rateLimit: { burst: 3, perSecond: 10 } });
    const { client } = await h.join();
    for (let i = 1; i <= 5; i++) client.set(i, 'mute', i % 2 === 0, 0);
    const statuses = (await Promise.all([1, 2, 3, 4, 5].map((i) => client.ack(i)))).map((a) =>
      a.status === 'rejected' ? a.reason : a.status,
    );
    expect(statuses).toEqual(['accepted', 'accepted', 'accepted', 'rate', 'rate']);
    await new Promise((r) => setTimeout(r, 250)); // 2.5 tokens back
    client.set(6, 'gain', 1, 0);
    expect(await client.ack(6)).toMatchObject({ status: 'accepted' });
  });

  it('a socket closed while its write hangs: the ack is due once, nothing is sent, nothing throws', async () => {
    const h = await startServer();
    h.bridge.writeBehaviour = 'hang';
    const { client } = await h.join();
    client.set(1, H, 5, 0);
    await until(() => h.bridge.hanging === 1);
    const closed = new Promise((r) => h.live.on('session-close', r));
    client.ws.close();
    await closed;
    expect(h.bridge.release('accepted')).toBe(1);
    await until(() => h.live.stats().writesInFlight === 0);
    expect(h.live.stats()).toMatchObject({ sets: 1, acks: 1, undeliveredAcks: 1 });
    expect(client.acksFor(1)).toEqual([]);
  });
});

describe('bad input', () => {
  /** Sends a raw frame after hello and returns the ack for `id`. */
  async function rejectedInvalid(h: Harness, raw: string, id: number) {
    const { client } = await h.join();
    client.send(raw);
    const ack = await client.ack(id);
    expect(ack).toMatchObject({ status: 'rejected', reason: 'invalid' });
    return { ack, client };
  }

  it('non-JSON: error bad-frame, close 4400, logged', async () => {
    const h = await startServer();
    const { client } = await h.join();
    client.send('{"type":"set", nope');
    expect(await client.next((f) => f.type === 'error')).toMatchObject({
      code: 'bad-frame',
      message: 'frame is not valid JSON',
    });
    expect((await client.closed).code).toBe(4400);
    expect(h.log.entries.some((e) => e.msg.startsWith('protocol error') && e.obj?.code === 'bad-frame')).toBe(true);
  });

  it('an unknown frame type and a binary frame: close 4400', async () => {
    const h = await startServer();
    const a = await h.join();
    a.client.send({ type: 'exec', id: 1 });
    expect((await a.client.closed).code).toBe(4400);
    const b = await h.join();
    b.client.ws.send(Buffer.from('{"type":"ping","id":1}'), { binary: true });
    expect((await b.client.closed).code).toBe(4400);
    const logged = h.log.entries.filter((e) => e.msg.startsWith('protocol error')).map((e) => e.obj?.message);
    expect(logged).toEqual(['unknown frame type "exec"', 'frame is not text']);
    expect(h.bridge.writes).toEqual([]);
  });

  it('an unknown field: invalid, without a value', async () => {
    const h = await startServer();
    const { ack } = await rejectedInvalid(
      h,
      '{"type":"set","id":4,"field":"brightness","value":1,"rev":0,"epoch":"e"}',
      4,
    );
    expect(ack).toEqual({
      type: 'ack',
      id: 4,
      status: 'rejected',
      reason: 'invalid',
      message: 'unknown field "brightness"',
    });
  });

  it.each([
    ['wrong type', `{"type":"set","id":1,"field":"${H}","value":"22","rev":0,"epoch":"e"}`, 'expected a number'],
    ['out of range', `{"type":"set","id":1,"field":"${H}","value":512,"rev":0,"epoch":"e"}`, 'above the maximum 511'],
    ['off step', '{"type":"set","id":1,"field":"gain","value":0.3,"rev":0,"epoch":"e"}', 'not on a step of 0.5'],
    [
      'unknown enum option',
      '{"type":"set","id":1,"field":"standard","value":"secam","rev":0,"epoch":"e"}',
      'not one of ntsc, pal',
    ],
    ['text with a newline', '{"type":"set","id":1,"field":"name","value":"cam\\n1","rev":0,"epoch":"e"}', 'newline'],
    ['Infinity via 1e999', '{"type":"set","id":1,"field":"gain","value":1e999,"rev":0,"epoch":"e"}', 'finite'],
    [
      'boolean for a number',
      '{"type":"set","id":1,"field":"gain","value":true,"rev":0,"epoch":"e"}',
      'expected a number',
    ],
  ])('%s: invalid with the current value and rev, logged, nothing reaches the bridge', async (_name, raw, message) => {
    const h = await startServer();
    const { ack } = await rejectedInvalid(h, raw, 1);
    expect(ack).toMatchObject({ field: expect.any(String), rev: 0 });
    expect((ack as { message?: string }).message).toContain(message);
    expect(h.bridge.writes).toEqual([]);
    expect(rejections(h)).toHaveLength(1);
    expect(rejections(h)[0]).toMatchObject({ level: 'warn', obj: { reason: 'invalid', id: 1 } });
  });

  it('a text value the bridge cannot encode (a payload separator): invalid', async () => {
    const bridge = makeBridge({
      checkWrite: (_f, v) => (typeof v === 'string' && v.includes(' ') ? 'contains the separator " "' : undefined),
    });
    const h = await startServer({ bridge });
    const { ack } = await rejectedInvalid(
      h,
      '{"type":"set","id":1,"field":"name","value":"cam 2","rev":0,"epoch":"e"}',
      1,
    );
    expect(ack).toMatchObject({ message: 'name: contains the separator " "', value: 'cam 1' });
    expect(bridge.writes).toEqual([]);
  });

  it('__proto__, constructor and prototype keys: the frame is refused (4400), and no prototype is polluted', async () => {
    const h = await startServer();
    // The protocol parser does not trust any part of a frame carrying such a key, its id included:
    // error and close, the other branch rule 7 allows.
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const { client } = await h.join();
      client.send(
        `{"type":"set","id":1,"field":"${H}","value":1,"rev":0,"${key}":{"polluted":true,"prototype":{"polluted":true}}}`,
      );
      expect(await client.next((f) => f.type === 'error')).toMatchObject({
        code: 'bad-frame',
        message: `frame: key "${key}" is not allowed`,
      });
      expect((await client.closed).code).toBe(4400);
    }
    const early = await h.connect();
    early.send('{"type":"hello","device":"videoproc","mounts":0,"__proto__":{"polluted":true}}');
    expect((await early.closed).code).toBe(4400);
    // As a field name the id is readable: one invalid ack, without a field.
    const { client } = await h.join();
    client.send('{"type":"set","id":4,"field":"__proto__","value":1,"rev":0,"epoch":"e"}');
    expect(await client.ack(4)).toEqual({
      type: 'ack',
      id: 4,
      status: 'rejected',
      reason: 'invalid',
      message: 'set.field: not a valid field name',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(h.bridge.writes).toEqual([]);
    expect(h.log.entries.filter((e) => e.msg.startsWith('protocol error'))).toHaveLength(4);
  });

  it('an over-long frame: close 1009', async () => {
    const h = await startServer();
    const { client } = await h.join();
    client.send({ type: 'set', id: 1, field: 'name', value: 'x'.repeat(20_000), rev: 0 });
    expect((await client.closed).code).toBe(1009);
    expect(h.bridge.writes).toEqual([]);
    expect(h.log.entries.some((e) => e.msg === 'socket error')).toBe(true);
  });

  it('flooding far beyond the rate limit: error flooding, close 4429', async () => {
    const h = await startServer();
    const { client } = await h.join();
    for (let i = 0; i < 300; i++) client.send({ type: 'ping', id: i });
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'flooding' });
    expect((await client.closed).code).toBe(4429);
    expect(h.log.entries.some((e) => e.msg.startsWith('protocol error') && e.obj?.code === 'flooding')).toBe(true);
    // The process is fine: the next client is served.
    await h.join();
  });
});

describe('offline device', () => {
  it('offline: a device frame, sets rejected offline; back online: a fresh resync', async () => {
    const h = await startServer();
    const { client } = await h.join();
    h.bridge.setOnline(false);
    await client.next((f) => f.type === 'device');
    client.set(1, H, 3, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'offline', field: H, value: -25, rev: 0 });
    h.bridge.setStatus({ [H]: 7 }); // not sent while offline: the resync will carry it
    h.bridge.setOnline(true);
    const resync = await client.next<ResyncFrame>((f) => f.type === 'resync');
    expect(resync.device).toBe('online');
    expect(resync.fields[H]).toEqual({ value: 7, rev: 1 });
    expect(client.frames.map((f) => f.type)).toEqual(['resync', 'device', 'ack', 'resync']);
    expect(h.bridge.writes).toEqual([]);
  });

  it('a session that joins while the device is offline gets a resync saying so', async () => {
    const h = await startServer({ bridge: makeBridge({ online: false }) });
    const { resync } = await h.join();
    expect(resync.device).toBe('offline');
  });
});

describe('heartbeat', () => {
  it('terminates a peer that does not answer pings; keeps one that does', async () => {
    const h = await startServer({ heartbeatMs: 80 });
    const closes: { id: string; code: number }[] = [];
    h.live.on('session-close', (info) => closes.push(info));
    const healthy = await h.join();
    const healthyId = h.live.sessions()[0]!.id;
    const closed = new Promise<{ id: string; code: number }>((r) => h.live.on('session-close', r));
    const silent = await h.connect({ autoPong: false });
    silent.hello(0);
    const ended = await closed;
    expect(ended.id).not.toBe(healthyId);
    expect(ended.code).toBe(1006); // terminated, no closing handshake
    await new Promise((r) => setTimeout(r, 250)); // three more heartbeats
    expect(healthy.client.ws.readyState).toBe(healthy.client.ws.OPEN);
    expect(h.live.sessionCount).toBe(1);
    expect(closes).toHaveLength(1);
  });
});

describe('containment', () => {
  it('a bridge that throws from write: ack unknown, logged, the session carries on', async () => {
    const bridge = makeBridge();
    bridge.write = () => {
      throw new Error('driver bug');
    };
    const h = await startServer({ bridge });
    const { client } = await h.join();
    client.set(1, H, 1, 0);
    expect(await client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'unknown' });
    expect(h.log.entries.some((e) => e.level === 'error' && e.msg.includes('bridge.write threw'))).toBe(true);
    await client.roundTrip();
  });
});
