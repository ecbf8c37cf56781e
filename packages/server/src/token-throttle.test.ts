/**
 * Token guessing. Unit tests of the throttle on a hand-driven clock, then a guessing loop over real
 * sockets from 127.0.0.2 against a real server while a page from 127.0.0.1 connects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ErrorFrame, SUBPROTOCOL } from '@live-device-form/protocol';
import { type Harness, RawWsClient, startServer, stopAll, until } from '@live-device-form/testkit';
import { recordingLogger } from './logger.js';
import { TOKEN_THROTTLE_DEFAULTS, TokenThrottle, type TokenThrottleOptions } from './token-throttle.js';
import { addressKey } from './forwarded.js';

afterEach(stopAll);

function throttle(options: Partial<TokenThrottleOptions> = {}) {
  let now = 1_000_000;
  const log = recordingLogger();
  const t = new TokenThrottle({ ...TOKEN_THROTTLE_DEFAULTS, ...options }, log, () => now);
  return {
    t,
    log,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('token throttle', () => {
  it('after `failures` failures, locks the address out for 1 s, doubling to 60 s', () => {
    const { t } = throttle();
    const lockouts: number[] = [];
    for (let i = 0; i < 14; i++) {
      t.failed('10.0.0.1');
      lockouts.push(t.lockout('10.0.0.1'));
    }
    expect(lockouts).toEqual([0, 0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(t.lockout('10.0.0.2')).toBe(0);
  });

  it('a lockout runs out; the next failure locks for twice as long', () => {
    const { t, advance } = throttle({ failures: 1 });
    t.failed('10.0.0.1');
    expect(t.lockout('10.0.0.1')).toBe(1000);
    advance(1000);
    expect(t.lockout('10.0.0.1')).toBe(0);
    t.failed('10.0.0.1');
    expect(t.lockout('10.0.0.1')).toBe(2000);
  });

  it('a right token clears the address; so does forgetAfterMs without a failure', () => {
    const { t, advance } = throttle({ failures: 2 });
    t.failed('10.0.0.1');
    t.succeeded('10.0.0.1');
    t.failed('10.0.0.1');
    expect(t.lockout('10.0.0.1')).toBe(0);
    t.failed('10.0.0.1');
    expect(t.lockout('10.0.0.1')).toBe(1000);
    advance(TOKEN_THROTTLE_DEFAULTS.forgetAfterMs + 1);
    t.failed('10.0.0.1');
    expect(t.lockout('10.0.0.1')).toBe(0);
  });

  it('tracks at most maxAddresses, forgetting the one whose last failure is oldest', () => {
    const { t } = throttle({ failures: 1, maxAddresses: 3 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) t.failed(a);
    t.failed('10.0.0.1'); // now the most recent
    t.failed('10.0.0.4');
    expect(t.trackedAddresses).toBe(3);
    expect(t.lockout('10.0.0.2')).toBe(0);
    expect(t.lockout('10.0.0.1')).toBeGreaterThan(0);
    expect(t.lockout('10.0.0.3')).toBeGreaterThan(0);
  });

  it('counts IPv6 clients by their /64', () => {
    expect(addressKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('127.0.0.2')).toBe('127.0.0.2');
    const { t } = throttle({ failures: 1 });
    t.failed('2001:db8:0:1::5');
    expect(t.lockout('2001:db8:0:1:abcd::9')).toBe(1000);
    expect(t.lockout('2001:db8:0:2::5')).toBe(0);
  });

  it('logs the first failure of an interval at once, the rest as one summary line per address', () => {
    const { t, log } = throttle({ failures: 3 });
    for (let i = 0; i < 1000; i++) {
      if (t.lockout('10.0.0.2') === 0) t.failed('10.0.0.2');
    }
    t.failed('10.0.0.3');
    t.close();
    expect(log.entries.map((e) => e.msg)).toEqual([
      'hello refused: bad token',
      'hello refused: bad token',
      '3 failed tokens and 997 hellos refused unchecked from 10.0.0.2 in the last 10 s',
    ]);
    expect(log.entries[0]?.obj).toMatchObject({ address: '10.0.0.2', failures: 1 });
    expect(log.entries[1]?.obj).toMatchObject({ address: '10.0.0.3', failures: 1 });
    expect(log.entries[2]?.obj).toMatchObject({ address: '10.0.0.2', failedTokens: 3, refusedHellos: 997 });
  });

  it('summarises at most 20 addresses a line each, the rest in one line', () => {
    const { t, log } = throttle();
    for (let a = 1; a <= 30; a++) for (let i = 0; i < 1 + a; i++) t.failed(`10.0.1.${a}`);
    t.close();
    const summaries = log.entries.filter((e) => e.msg.includes('in the last'));
    expect(summaries).toHaveLength(21);
    expect(summaries[0]?.msg).toBe('31 failed tokens and 0 hellos refused unchecked from 10.0.1.30 in the last 10 s');
    expect(summaries[20]?.msg).toBe(
      '65 failed tokens and 0 hellos refused unchecked from 10 more addresses in the last 10 s',
    );
  });
});

/** What a raw client from `localAddress` that says hello with `token` is answered: its error and close code. */
function hello(h: Harness, localAddress: string, token: string) {
  return new Promise<{ error: ErrorFrame | undefined; close: number | undefined; resync: boolean }>(
    (resolve, reject) => {
      let error: ErrorFrame | undefined;
      let close: number | undefined;
      const client = new RawWsClient(0, {
        onText(c, _kind, payload) {
          const frame = JSON.parse(payload.toString()) as { type: string };
          if (frame.type === 'error') error = frame as ErrorFrame;
          if (frame.type === 'resync') {
            c.destroy();
            resolve({ error, close, resync: true });
          }
        },
        onCloseFrame(_c, code) {
          close = code;
        },
        onClose() {
          resolve({ error, close, resync: false });
        },
      });
      const text = JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0, token });
      client
        .open({ host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL, localAddress }, text)
        .catch(reject);
    },
  );
}

describe('token guessing over real sockets', () => {
  const TOKEN = 'the-right-token';
  /** Lockouts too long to run out within a test; summaries often enough to wait for. */
  const THROTTLE = { failures: 3, firstDelayMs: 60_000, summaryIntervalMs: 100 };

  it('a guessing loop from 127.0.0.2 is refused unchecked after 3 failures, the right token too; 127.0.0.1 gets in', async () => {
    const h = await startServer({ token: TOKEN, tokenThrottle: THROTTLE });
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await hello(h, '127.0.0.2', `guess-${i}`));
    expect(answers.slice(0, 3).map((a) => [a.close, a.error?.code])).toEqual(Array(3).fill([4401, 'unauthorized']));
    expect(answers.slice(3).every((a) => a.close === 4429 && a.error?.code === 'flooding')).toBe(true);
    expect(answers[3]?.error?.message).toBe('too many failed tokens from this address: try again in 60 s');
    // The right token from the locked address is refused as well: it was never compared.
    expect(await hello(h, '127.0.0.2', TOKEN)).toMatchObject({ close: 4429, error: { code: 'flooding' } });
    // Another address is not locked out.
    expect(await hello(h, '127.0.0.1', TOKEN)).toMatchObject({ resync: true, error: undefined });
  });

  it('the log has summary lines, not a line per failure', async () => {
    const h = await startServer({ token: TOKEN, tokenThrottle: THROTTLE });
    for (let i = 0; i < 40; i++) await hello(h, '127.0.0.2', `guess-${i}`);
    const summaries = () => h.log.entries.filter((e) => e.msg.endsWith('in the last 100 ms'));
    const told = () =>
      summaries().reduce((n, e) => n + (e.obj?.failedTokens as number) + (e.obj?.refusedHellos as number), 0);
    const perFailure = () => h.log.entries.filter((e) => e.msg === 'protocol error; socket closed');
    // Told in summaries, or (without the throttle) a line each.
    await until(() => told() === 40 || perFailure().length === 40);
    // Only a failure (never a refusal) is told at once, and only the first of its interval.
    expect(h.log.entries.filter((e) => e.msg === 'hello refused: bad token').length).toBeLessThanOrEqual(3);
    expect(summaries().length).toBeLessThan(20);
    expect(perFailure()).toEqual([]);
  });

  it('tokenThrottle: false compares every token', async () => {
    const h = await startServer({ token: TOKEN, tokenThrottle: false });
    for (let i = 0; i < 10; i++) expect((await hello(h, '127.0.0.2', `guess-${i}`)).close).toBe(4401);
    expect(await hello(h, '127.0.0.2', TOKEN)).toMatchObject({ resync: true });
  });

  it('options are checked', async () => {
    await expect(startServer({ token: TOKEN, tokenThrottle: { failures: 0 } })).rejects.toThrow(
      /"tokenThrottle.failures"/,
    );
    await expect(
      startServer({ token: TOKEN, tokenThrottle: { firstDelayMs: 5000, maxDelayMs: 1000 } }),
    ).rejects.toThrow(/"tokenThrottle.maxDelayMs"/);
  });
});
