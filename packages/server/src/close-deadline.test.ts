/**
 * After the server closes a socket for an error, a peer that ignores the closing handshake costs
 * nothing: its frames are dropped unread and its socket is destroyed within `CLOSE_DEADLINE_MS`
 * (ws alone would read and hand over every frame for 30 s). Real sockets: a raw client that never
 * answers the close frame, against the SDK on a real HTTP server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SUBPROTOCOL } from '@live-device-form/protocol';
import { type Harness, type HarnessOptions, RawWsClient, startServer, stopAll, until } from '@live-device-form/testkit';
import { CLOSE_DEADLINE_MS } from './session.js';

afterEach(stopAll);

const HELLO = JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0 });
/** Per-socket write rate whose flood bucket (×4) holds 4 frames and never refills in a test. */
const TINY_RATE: HarnessOptions = { rateLimit: { burst: 1, perSecond: 0.001 } };

/** A raw client that ignores the server's close frame; `closeFrame` resolves with its code. */
async function hostileClient(h: Harness, firstText: string | undefined) {
  let onCloseFrame!: (code: number | undefined) => void;
  const closeFrame = new Promise<number | undefined>((resolve) => (onCloseFrame = resolve));
  const client = new RawWsClient(
    0,
    { onText() {}, onClose() {}, onCloseFrame: (_c, code) => onCloseFrame(code) },
    { answerClose: false },
  );
  await client.open({ host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL }, firstText);
  return { client, closeFrame };
}

/** Hello, then pings until the fifth frame overflows the flood bucket of {@link TINY_RATE}. */
function flood(client: RawWsClient): void {
  for (let i = 1; i <= 4; i++) client.sendText(JSON.stringify({ type: 'ping', id: i }));
}

describe('close deadline', () => {
  it('frames a peer sends after its 4429 are dropped unread: no set is parsed or counted', async () => {
    const h = await startServer(TINY_RATE);
    const { client, closeFrame } = await hostileClient(h, HELLO);
    flood(client);
    expect(await closeFrame).toBe(4429);
    const setsBefore = h.live.stats().sets;
    for (let i = 1; i <= 50; i++) {
      client.sendText(JSON.stringify({ type: 'set', id: i, field: 'gain', value: 1, rev: 0, epoch: 'x' }));
    }
    // Either they were dropped (counted as such) or parsed as late sets (counted in `sets`).
    await until(() => h.live.stats().framesAfterClose === 50 || h.live.stats().sets === setsBefore + 50);
    expect(h.live.stats()).toMatchObject({ sets: setsBefore, acks: setsBefore, framesAfterClose: 50 });
    expect(h.log.entries.filter((e) => e.msg === 'write rejected')).toEqual([]);
    client.destroy();
  });

  const cases: [string, HarnessOptions, string | undefined, ((c: RawWsClient) => void) | undefined, number][] = [
    ['4400 (bad frame)', {}, 'not json', undefined, 4400],
    ['4408 (no hello in time)', { helloTimeoutMs: 100 }, undefined, undefined, 4408],
    ['4429 (flooding)', TINY_RATE, HELLO, flood, 4429],
    ['1009 (frame over maxFrameBytes, refused by ws itself)', {}, 'x'.repeat(20_000), undefined, 1009],
  ];
  for (const [name, options, firstText, then, code] of cases) {
    it(`a peer that never answers the close frame is cut off within the deadline: ${name}`, async () => {
      const h = await startServer(options);
      const sessionClosed = new Promise<number>((resolve) =>
        h.live.on('session-close', () => resolve(performance.now())),
      );
      const { client, closeFrame } = await hostileClient(h, firstText);
      then?.(client);
      expect(await closeFrame).toBe(code);
      const sent = performance.now();
      const closedAt = await sessionClosed;
      // ws alone waits 30 s; the deadline is 1 s. The ceiling leaves room for a loaded machine.
      expect(closedAt - sent).toBeLessThan(CLOSE_DEADLINE_MS + 4000);
      expect(h.live.sessionCount).toBe(0);
      client.destroy();
    }, 20_000);
  }
});
