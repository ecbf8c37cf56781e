/**
 * Hostile clients against the real stack — the SDK with its MQTT bridges on an embedded broker,
 * the broker's own record of every PUBLISH it received (aedes' `publish` event, which sees topics
 * nobody subscribes to) and the checker's subscription to `#` as witnesses.
 *
 * Covered elsewhere, with a MemoryBridge, and not repeated here: `__proto__`/`constructor` keys
 * (packages/server/src/session.test.ts "bad input"), slow readers coalesced per field
 * ("slow readers"), heartbeat termination ("heartbeat"), the subprotocol (server.test.ts).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AckFrame } from '@live-device-form/protocol';
import { TestClient, genlockDevice, refusal, startWitness, summarize } from '@live-device-form/testkit';
import { topicsOf } from '../src/chaos-device.js';
import { Link } from '../src/link.js';
import { type Stack, startStack } from '../src/stack.js';

const HOSTILE = 'hostile';
const TEXT_DEVICE = genlockDevice(HOSTILE);

/** The only topics the SDK may ever publish to: the devices' action topics. */
const ALLOWED = new Set([...Object.values(topicsOf('dev1').set), `${HOSTILE}/set/phase`, `${HOSTILE}/set/name`]);

/** Publishes the text device's retained state before the bridges connect. */
async function textDeviceState(url: string): Promise<void> {
  const w = await startWitness(url);
  await w.publish(`${HOSTILE}/status/phase`, '1 2', { retain: true });
  await w.publish(`${HOSTILE}/status/name`, 'cam', { retain: true });
  await w.publish(`${HOSTILE}/online`, '1', { retain: true });
  await w.close();
}

const sdkPublishes = (stack: Stack) => stack.publishes.filter((p) => p.clientId.startsWith('ldf-sdk-'));

async function join(
  stack: Stack,
  device = 'dev1',
  options: Parameters<typeof TestClient.connect>[1] = {},
): Promise<{ client: TestClient; rev: (f: string) => number }> {
  const client = await TestClient.connect(stack.url, options);
  client.hello(0, device);
  const resync = await client.next((f) => f.type === 'resync');
  const fields = resync.type === 'resync' ? resync.fields : {};
  return { client, rev: (f) => fields[f]?.rev ?? 0 };
}

describe('hostile clients against the real stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      extra: [TEXT_DEVICE],
      before: textDeviceState,
      server: {
        helloTimeoutMs: 300,
        // Everyone may write everything but `c`.
        authorize: () => ({ user: 'visitor', canWrite: (field) => field !== 'c' }),
      },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('cross-site WebSocket hijacking: a foreign Origin is refused with 403 before any frame', async () => {
    const before = sdkPublishes(stack).length;
    expect(await refusal(stack.url, { origin: 'https://evil.example' })).toBe(403);
    expect(await refusal(stack.url, { origin: 'null' })).toBe(403);
    expect(sdkPublishes(stack).length).toBe(before);
  });

  it('a field the user may not write is refused forbidden and never published', async () => {
    const { client, rev } = await join(stack);
    client.set(1, 'c', 1_000_000, rev('c'));
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'forbidden', field: 'c' });
    client.set(2, 'd', 1_000_001, rev('d'));
    expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
    // The permitted write is the witness that publishes are seen; the forbidden one never was.
    expect(await stack.publishWhere((p) => p.payload.includes('1000001'))).toBeDefined();
    const actions = sdkPublishes(stack).filter((p) => p.topic.startsWith('ldf-chaos/dev1/set/'));
    expect(actions.map((p) => p.topic)).toEqual([topicsOf('dev1').set.d]);
    client.ws.close();
  });

  it('field names and values aimed at other topics (/, #, +, $SYS, NUL) never reach the broker', async () => {
    const { client, rev } = await join(stack, 'genlock');
    const names = [
      'a/b',
      '#',
      '+',
      '$SYS/broker/load',
      'name/#',
      '../name',
      'name\u0000',
      'name ',
      'h+',
      'constructor',
      '__proto__',
    ];
    let id = 0;
    for (const field of names) {
      client.set(++id, field, 1, 0);
      expect(await client.ack(id)).toMatchObject({ status: 'rejected', reason: 'invalid' });
    }
    // Text values: a separator of the payload, control characters (C0, C1 with NEL), NUL, U+2028
    // and lone surrogates are refused; the rest is
    // payload on the device's own action topic, never a topic.
    const refused = [
      'x;y',
      'a\u0000b',
      'line\nbreak',
      'tab\there',
      'nel\u0085level 999999',
      'ls\u2028x',
      'c1\u009b',
      'lone\ud800',
    ];
    for (const value of refused) {
      client.set(++id, 'name', value, rev('name'));
      expect(await client.ack(id)).toMatchObject({ status: 'rejected', reason: 'invalid' });
    }
    client.set(++id, 'name', '$SYS/#', rev('name'));
    expect(await client.ack(id)).toMatchObject({ status: 'accepted' });
    expect(await stack.publishWhere((p) => p.topic === `${HOSTILE}/set/name`)).toBeDefined();
    const mine = sdkPublishes(stack);
    expect(
      mine.every((p) => ALLOWED.has(p.topic)),
      JSON.stringify(mine),
    ).toBe(true);
    expect(mine.filter((p) => p.topic === `${HOSTILE}/set/name`).map((p) => p.payload)).toEqual(['name $SYS/#;']);
    for (const value of refused) expect(mine.some((p) => p.payload.includes(value))).toBe(false);
    client.ws.close();
  });

  it('a frame over the size limit closes with 1009; nothing reaches the broker', async () => {
    const { client } = await join(stack, 'genlock');
    client.send({ type: 'set', id: 1, field: 'name', value: 'x'.repeat(17_000), rev: 0, epoch: 'e' });
    expect((await client.closed).code).toBe(1009);
    expect(client.acksFor(1)).toEqual([]);
    expect(sdkPublishes(stack).some((p) => p.payload.includes('xxxxxxxx'))).toBe(false);
  });

  it('a socket that never says hello is closed with 4408 (error hello-timeout)', async () => {
    const client = await TestClient.connect(stack.url);
    expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'hello-timeout' });
    expect((await client.closed).code).toBe(4408);
  });

  it('a flood of sets is rate limited, then closed (4429); another page on the same server is unaffected', async () => {
    const flood = await join(stack);
    const calm = await join(stack);
    const before = sdkPublishes(stack).length;
    // 150 writes at once: the burst (50) is accepted, the rest refused `rate`; the socket stays.
    for (let i = 1; i <= 150; i++) flood.client.set(i, 'd', 2_000_000 + i, flood.rev('d'));
    for (let i = 1; i <= 150; i++) await flood.client.ack(i, 10_000);
    await flood.client.roundTrip();
    const acks = Array.from({ length: 150 }, (_, i) => flood.client.acksFor(i + 1));
    expect(acks.every((a) => a.length === 1)).toBe(true);
    const statuses = acks.map((a) =>
      (a[0] as AckFrame).status === 'rejected' ? (a[0] as { reason: string }).reason : (a[0] as AckFrame).status,
    );
    const accepted = statuses.filter((s) => s === 'accepted' || s === 'stale').length;
    expect(accepted).toBeLessThanOrEqual(52); // the burst, plus what refilled meanwhile
    expect(statuses.filter((s) => s === 'rate').length).toBeGreaterThanOrEqual(98);
    // Far beyond: 400 frames at once is flooding.
    for (let i = 151; i <= 550; i++) flood.client.send({ type: 'ping', id: i });
    expect(await flood.client.next((f) => f.type === 'error', 10_000)).toMatchObject({ code: 'flooding' });
    expect((await flood.client.closed).code).toBe(4429);
    expect(
      sdkPublishes(stack)
        .slice(before)
        .filter((p) => /2\d{6}/.test(p.payload)).length,
    ).toBeLessThanOrEqual(52);
    // Meanwhile the calm page: round trips answered, its write accepted.
    const rtt: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await calm.client.roundTrip(10_000 + i);
      rtt.push(performance.now() - t0);
    }
    calm.client.set(1, 'a', 3_000_000, calm.rev('a'));
    expect(await calm.client.ack(1)).toMatchObject({ status: 'accepted' });
    expect(Math.max(...rtt)).toBeLessThan(1000);
    calm.client.ws.close();
  });
});

describe('missing or wrong token', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { token: 'correct horse' } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('closes with 4401 (error unauthorized); a set sent right after the hello never reaches the broker', async () => {
    for (const token of [undefined, 'wrong', '']) {
      const client = await TestClient.connect(stack.url);
      client.hello(0, 'dev1', token);
      client.set(1, 'd', 4_000_000, 0);
      expect(await client.next((f) => f.type === 'error')).toMatchObject({ code: 'unauthorized' });
      expect((await client.closed).code).toBe(4401);
    }
    expect(sdkPublishes(stack)).toEqual([]);
    // The right token gets in.
    const ok = await TestClient.connect(stack.url);
    ok.hello(0, 'dev1', 'correct horse');
    await ok.next((f) => f.type === 'resync');
    ok.ws.close();
  });
});

describe(`${Number(process.env.CHAOS_IDLE_SOCKETS ?? 10_000).toLocaleString('en-US')} idle sockets`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { heartbeatMs: 0 } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('the server holds them all, and a live page stays responsive (round trip, write, update)', async () => {
    // CHAOS_IDLE_SOCKETS lowers it on a machine that cannot hold 2 × 10,000 descriptors.
    const COUNT = Number(process.env.CHAOS_IDLE_SOCKETS ?? 10_000);
    const child = fork(
      fileURLToPath(new URL('../src/idle-sockets-child.ts', import.meta.url)),
      [stack.url, String(COUNT), 'dev1'],
      {
        execArgv: ['--import', 'tsx'],
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    try {
      const ready = await new Promise<{ open: number; ms: number }>((resolve, reject) => {
        child.on('message', (m: { type: string; open: number; ms: number }) => m.type === 'ready' && resolve(m));
        child.once('exit', (code) => reject(new Error(`idle sockets child exited (${code})`)));
      });
      expect(ready.open).toBe(COUNT);
      expect(stack.live.sessionCount).toBeGreaterThanOrEqual(COUNT);
      const page = new Link(stack.url);
      expect(await page.opened).toBe(true);
      page.hello('dev1', 0);
      expect(await page.waitLive(10_000)).toBe(true);
      const rtt: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        page.send({ type: 'ping', id: i });
        expect(await page.waitFor((f) => f.type === 'pong' && f.id === i, 5000)).toBe(true);
        rtt.push(performance.now() - t0);
      }
      const t1 = performance.now();
      const id = page.set('d', 5_000_000, page.fields.get('d')?.rev ?? 0) as number;
      expect(await page.waitAcks([id], 5000)).toBe(true);
      expect(page.acks.get(id)?.status).toBe('accepted');
      const writeMs = performance.now() - t1;
      // A change by the device reaches this page through a fan-out to all 10,001 sessions.
      const t2 = performance.now();
      await stack.devices.change('dev1', ['c']);
      const c = stack.devices.values('dev1').c;
      expect(await page.waitFor((f) => f.type === 'update' && f.field === 'c' && f.value === c, 10_000)).toBe(true);
      const updateMs = performance.now() - t2;
      // 50 samples: a median and a maximum, no p99.
      const { p50, max } = summarize(rtt);
      console.log(
        `${COUNT.toLocaleString('en-US')} idle sockets opened in ${ready.ms} ms; live page: ping p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms; write→ack ${writeMs.toFixed(1)} ms; device change → update ${updateMs.toFixed(1)} ms; server RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB`,
      );
      expect(p50).toBeLessThan(50);
      expect(max).toBeLessThan(250);
      expect(updateMs).toBeLessThan(2000);
      page.close();
    } finally {
      child.send({ type: 'close' });
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 120_000);
});
