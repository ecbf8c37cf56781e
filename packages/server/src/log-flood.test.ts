/**
 * The SDK's own log under a flood of one bad input (docs/server.md, Logging): repeated warnings of
 * one kind are rate-limited per `logThrottleMs` window, with one summary line carrying the count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, stopAll } from '@live-device-form/testkit';

afterEach(stopAll);

const BAD_SOCKETS = 30;

describe('log rate limit (logThrottleMs)', () => {
  it('30 sockets closed for one protocol error log 2 lines and one summary of the other 28', async () => {
    const h = await startServer({ logThrottleMs: 60_000 });
    for (let i = 0; i < BAD_SOCKETS; i++) {
      const client = await h.connect();
      client.send('{"type":"ping"}'); // before hello: error bad-frame, close 4400
      expect((await client.closed).code).toBe(4400);
    }
    const lines = () => h.log.entries.filter((e) => e.msg.startsWith('protocol error'));
    expect(lines()).toHaveLength(2);
    await h.live.close(); // logs the pending summary
    const summary = lines().at(-1);
    expect(summary?.msg).toBe('protocol error; socket closed (and 28 more in the last 60 s)');
    expect(summary?.obj).toMatchObject({ suppressed: BAD_SOCKETS - 2, intervalMs: 60_000, code: 'bad-frame' });
  });

  it('with logThrottleMs 0 every entry is logged', async () => {
    const h = await startServer({ logThrottleMs: 0 });
    for (let i = 0; i < 5; i++) {
      const client = await h.connect();
      client.send('{"type":"ping"}');
      await client.closed;
    }
    expect(h.log.entries.filter((e) => e.msg.startsWith('protocol error'))).toHaveLength(5);
  });
});
