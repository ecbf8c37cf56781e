/**
 * Hostile clients as a hostile network sends them (docs/security.md), against the real stack: the
 * SDK with its MQTT bridges on an embedded broker, the broker's record of every PUBLISH as the
 * witness. A second loopback address (127.0.0.2) plays the attacker's machine; the page that must
 * keep working connects from 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBPROTOCOL } from '@live-device-form/protocol';
import { DEFAULTS } from '@live-device-form/server';
import { RawWsClient, TestClient, refusal } from '@live-device-form/testkit';
import { type Stack, startStack } from '../src/stack.js';

const ATTACKER = '127.0.0.2';

const sdkPublishes = (stack: Stack) => stack.publishes.filter((p) => p.clientId.startsWith('ldf-sdk-'));

/** A page from 127.0.0.1: hello, resync, one write acknowledged `accepted` and published. */
async function pageStillWorks(stack: Stack, value: number, token?: string): Promise<void> {
  const page = await TestClient.connect(stack.url);
  page.hello(0, 'dev1', token);
  const resync = await page.next((f) => f.type === 'resync', 10_000);
  const rev = resync.type === 'resync' ? (resync.fields.d?.rev ?? 0) : 0;
  page.set(1, 'd', value, rev);
  expect(await page.ack(1, 10_000)).toMatchObject({ status: 'accepted' });
  expect(await stack.publishWhere((p) => p.payload.includes(String(value)), 10_000)).toBeDefined();
  page.ws.close();
}

describe('post-close floods', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A flood bucket of 4 frames that does not refill during the test: the fifth frame is a 4429.
    stack = await startStack({ server: { rateLimit: { burst: 1, perSecond: 0.001 } } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('four sockets that ignore their 4429 and keep sending are dropped unread and cut off; a page is unaffected', async () => {
    const url = new URL(stack.url);
    const target = { host: url.hostname, port: Number(url.port), path: url.pathname, protocol: SUBPROTOCOL };
    // The server's view: when it has let go of each of them (they never answer its close frame).
    let ended = 0;
    let allEnded!: () => void;
    const gone = new Promise<void>((resolve) => (allEnded = resolve));
    const off = stack.live.on('session-close', (info) => {
      if (info.remoteAddress === ATTACKER && ++ended === 4) allEnded();
    });
    const flooders = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        let closeFrame!: (code: number | undefined) => void;
        const gotClose = new Promise<number | undefined>((resolve) => (closeFrame = resolve));
        const client = new RawWsClient(
          i,
          { onText() {}, onClose() {}, onCloseFrame: (_c, code) => closeFrame(code) },
          { answerClose: false },
        );
        await client.open(
          { ...target, localAddress: ATTACKER },
          JSON.stringify({ type: 'hello', device: 'dev1', mounts: 0 }),
        );
        return { client, gotClose };
      }),
    );
    const before = stack.live.stats();
    for (const f of flooders) for (let i = 1; i <= 4; i++) f.client.sendText(JSON.stringify({ type: 'ping', id: i }));
    for (const f of flooders) expect(await f.gotClose).toBe(4429);
    // After their close: 500 sets each, sent as fast as the socket takes them.
    const set = (i: number) =>
      JSON.stringify({ type: 'set', id: i, field: 'd', value: 7_000_000 + i, rev: 0, epoch: 'x' });
    for (const f of flooders) for (let i = 1; i <= 500; i++) f.client.sendText(set(i));
    // The server cuts every one of them off (1 s deadline; the test's timeout is the ceiling).
    await gone;
    off();
    for (const f of flooders) f.client.destroy();
    const after = stack.live.stats();
    expect(after.sets).toBe(before.sets);
    expect(after.framesAfterClose).toBeGreaterThan(before.framesAfterClose);
    expect(sdkPublishes(stack).some((p) => /7\d{6}/.test(p.payload))).toBe(false);
    await pageStillWorks(stack, 7_100_001);
  }, 30_000);
});

describe('token guessing', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { token: 'correct horse battery staple' } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('200 guesses from a second address are locked out, even the right one; a page elsewhere gets in', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const guess = await TestClient.connect(stack.url, { localAddress: ATTACKER });
      guess.hello(0, 'dev1', i === 199 ? 'correct horse battery staple' : `guess ${i}`);
      guess.set(1, 'd', 8_000_000 + i, 0);
      codes.push((await guess.closed).code);
    }
    // A few plain refusals, then the lockout: 4429 without the token being compared. The last
    // guess was the right token, and it was refused too.
    expect(codes.slice(0, 5).every((c) => c === 4401)).toBe(true);
    expect(codes.slice(5).every((c) => c === 4429)).toBe(true);
    expect(sdkPublishes(stack).some((p) => /8\d{6}/.test(p.payload))).toBe(false);
    await pageStillWorks(stack, 8_100_001, 'correct horse battery staple');
  }, 60_000);
});

describe('DNS rebinding and connection floods (default caps)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('a rebound name (Origin and Host agree on attacker.example) is refused 403 before any frame', async () => {
    const port = new URL(stack.url).port;
    for (const host of [`attacker.example:${port}`, `attacker.example`, `panel.attacker.example:${port}`]) {
      const origin = `http://${host}`;
      expect(await refusal(stack.url, { headers: { host }, origin })).toBe(403);
      expect(await refusal(stack.url, { headers: { host } })).toBe(403);
    }
    expect(sdkPublishes(stack)).toEqual([]);
    await pageStillWorks(stack, 9_100_001);
  });

  it('floods from second addresses stop at the per-address caps; a page from 127.0.0.1 gets in, resyncs and is acked', async () => {
    const url = new URL(stack.url);
    const target = { host: url.hostname, port: Number(url.port), path: url.pathname, protocol: SUBPROTOCOL };
    const { preHelloPerAddress, perAddress } = DEFAULTS.connectionLimits;
    /** Opens `n` sockets from `address`, 50 at a time; resolves with the open ones and the refusals. */
    const flood = async (address: string, n: number, hello: string | undefined) => {
      const open: RawWsClient[] = [];
      const refused: string[] = [];
      for (let i = 0; i < n; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
            const c = new RawWsClient(i + j, { onText() {}, onClose() {} });
            try {
              await c.open({ ...target, localAddress: address }, hello, true);
              open.push(c);
            } catch (err) {
              refused.push((err as Error).message);
            }
          }),
        );
      }
      return { open, refused };
    };
    // Sockets that never say hello: only preHelloPerAddress of them are held.
    const silent = await flood('127.0.0.2', preHelloPerAddress + 100, undefined);
    // Sockets that say hello (and then never read): only perAddress of them.
    const hello = JSON.stringify({ type: 'hello', device: 'dev1', mounts: 0 });
    const chatty = await flood('127.0.0.3', perAddress + 100, hello);
    try {
      expect(silent.open).toHaveLength(preHelloPerAddress);
      expect(silent.refused).toHaveLength(100);
      expect(new Set(silent.refused)).toEqual(new Set(['upgrade refused: HTTP/1.1 429 Too Many Requests']));
      expect(chatty.open).toHaveLength(perAddress);
      expect(chatty.refused).toHaveLength(100);
      await pageStillWorks(stack, 9_200_001);
    } finally {
      for (const c of [...silent.open, ...chatty.open]) c.destroy();
    }
  }, 60_000);
});
