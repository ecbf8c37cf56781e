/**
 * The upgrade gate over real sockets: the Host check (DNS rebinding) and the connection caps.
 * Clients that fill a cap connect from other loopback addresses (127.0.0.2, …: any of 127/8 is a
 * source address on Linux) while a page from 127.0.0.1 shows the server still serves everyone else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SUBPROTOCOL } from '@live-device-form/protocol';
import { createLiveDeviceServer, type LiveDeviceServerOptions, silentLogger } from '@live-device-form/server';
import {
  type Harness,
  makeBridge,
  RawWsClient,
  openPausedClients,
  refusal,
  startServer,
  stopAll,
  TestClient,
  until,
} from '@live-device-form/testkit';

afterEach(stopAll);

const HELLO = JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0 });
const NOBODY = { onText() {}, onClose() {} };

/** Opens one raw client from `localAddress` that says `firstText` (or nothing); resolves with it, or with the refusal line. */
async function rawFrom(h: Harness, localAddress: string, firstText?: string): Promise<RawWsClient | string> {
  const client = new RawWsClient(0, NOBODY);
  try {
    await client.open(
      { host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL, localAddress },
      firstText,
    );
    return client;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Opens `n` clients from `localAddress` that never say hello, one after the other (each counted before the next). */
async function silentFrom(h: Harness, localAddress: string, n: number): Promise<RawWsClient[]> {
  const clients: RawWsClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await rawFrom(h, localAddress);
    if (typeof c === 'string') throw new Error(`client ${i} from ${localAddress}: ${c}`);
    clients.push(c);
  }
  return clients;
}

/** A page from 127.0.0.1 gets in, resyncs and gets its write acked. */
async function pageStillServed(h: Harness): Promise<void> {
  const { client, resync } = await h.join();
  client.set(1, 'gain', 2, resync.fields.gain!.rev);
  expect(await client.ack(1, 10_000)).toMatchObject({ status: 'accepted' });
  client.ws.close();
}

describe('Host check (DNS rebinding)', () => {
  it('refuses a forged Host with 403 whatever its Origin, and logs it', async () => {
    const h = await startServer();
    const host = `attacker.example:${h.port}`;
    expect(await refusal(h.url, { headers: { host }, origin: `http://${host}` })).toBe(403);
    expect(await refusal(h.url, { headers: { host } })).toBe(403);
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'upgrade refused: host not allowed',
        obj: expect.objectContaining({ host }),
      }),
    );
    expect(h.bridge.writes).toHaveLength(0);
    // The same request by IP or by localhost gets in.
    const byIp = await TestClient.connect(h.url, { origin: `http://127.0.0.1:${h.port}` });
    byIp.ws.close();
    const byName = await TestClient.connect(`ws://localhost:${h.port}/live`, { origin: `http://localhost:${h.port}` });
    byName.ws.close();
  });

  it('allows a name in allowedHosts or allowedOrigins, and then matches the Origin against it', async () => {
    const h = await startServer({ allowedHosts: ['.example.com'], allowedOrigins: ['https://app.example.net'] });
    const ok = await TestClient.connect(h.url, {
      headers: { host: `panel.example.com:${h.port}` },
      origin: `http://panel.example.com:${h.port}`,
    });
    ok.ws.close();
    const listed = await TestClient.connect(h.url, {
      headers: { host: 'app.example.net' },
      origin: 'https://app.example.net',
    });
    listed.ws.close();
    // An allowed Host does not make a foreign Origin acceptable.
    expect(
      await refusal(h.url, { headers: { host: `panel.example.com:${h.port}` }, origin: 'http://attacker.example' }),
    ).toBe(403);
  });

  it('with trustProxy, X-Forwarded-Host is the host checked; without it, it is ignored', async () => {
    const forwarded = { host: `127.0.0.1`, 'x-forwarded-host': 'attacker.example', 'x-forwarded-proto': 'https' };
    const plain = await startServer();
    (await TestClient.connect(plain.url, { headers: forwarded, origin: `http://127.0.0.1` })).ws.close();
    const proxied = await startServer({ trustProxy: true, allowedHosts: ['panel.example.com'] });
    expect(await refusal(proxied.url, { headers: forwarded, origin: 'https://attacker.example' })).toBe(403);
    const good = { ...forwarded, 'x-forwarded-host': 'panel.example.com' };
    (await TestClient.connect(proxied.url, { headers: good, origin: 'https://panel.example.com' })).ws.close();
    // The forwarded scheme is https: an http: page of the same name is not the server's own.
    expect(await refusal(proxied.url, { headers: good, origin: 'http://panel.example.com' })).toBe(403);
  });

  it('logs refusals rate-limited (logThrottleMs): 2 lines, then one summary with the count', async () => {
    const h = await startServer({ logThrottleMs: 60_000 });
    for (let i = 0; i < 5; i++) expect(await refusal(h.url, { headers: { host: 'attacker.example' } })).toBe(403);
    const lines = () => h.log.entries.filter((e) => e.msg.startsWith('upgrade refused: host not allowed'));
    expect(lines()).toHaveLength(2);
    await h.live.close();
    expect(lines().at(-1)?.obj).toMatchObject({ suppressed: 3, host: 'attacker.example' });
  });
});

describe('connection caps', () => {
  it('per address: the 51st socket from 127.0.0.2 is refused 429, a page from 127.0.0.1 still gets in', async () => {
    const h = await startServer({ connectionLimits: { perAddress: 50 } });
    const target = { host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL };
    const held = await openPausedClients(target, 50, HELLO, ['127.0.0.2'], 10);
    expect(await rawFrom(h, '127.0.0.2', HELLO)).toBe('upgrade refused: HTTP/1.1 429 Too Many Requests');
    await pageStillServed(h);
    // A socket counts until it closes: one closed, one more gets in.
    held[0]!.destroy();
    await until(() => h.live.sessionCount === 49);
    const again = await rawFrom(h, '127.0.0.2', HELLO);
    expect(again).toBeInstanceOf(RawWsClient);
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        msg: 'upgrade refused: connection limit perAddress',
        obj: expect.objectContaining({ remote: '127.0.0.2', limit: 50 }),
      }),
    );
    for (const c of held) c.destroy();
  });

  it('in total: once 50 sockets are open, the next from a new address is refused 503', async () => {
    const h = await startServer({ connectionLimits: { total: 50 } });
    const target = { host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL };
    const held = await openPausedClients(target, 50, HELLO, ['127.0.0.2', '127.0.0.3'], 10);
    expect(await rawFrom(h, '127.0.0.4', HELLO)).toBe('upgrade refused: HTTP/1.1 503 Service Unavailable');
    expect(await refusal(h.url)).toBe(503);
    for (const c of held) c.destroy();
    await until(() => h.live.sessionCount === 0);
    await pageStillServed(h);
  });

  it('before hello: sockets that never say hello are capped per address and in total; hello’d ones are not counted', async () => {
    const h = await startServer({ connectionLimits: { preHelloPerAddress: 20, preHello: 30 }, helloTimeoutMs: 60_000 });
    const target = { host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL };
    // 40 pages from 127.0.0.2 that said hello: more than either pre-hello cap, all let in.
    const greeted = await openPausedClients(target, 40, HELLO, ['127.0.0.2'], 10);
    await until(() => h.live.sessions().filter((s) => s.state === 'live').length === 40);
    // 20 silent sockets from the same address still fit; the 21st does not.
    const silent = await silentFrom(h, '127.0.0.2', 20);
    expect(await rawFrom(h, '127.0.0.2')).toBe('upgrade refused: HTTP/1.1 429 Too Many Requests');
    // 10 more from 127.0.0.3 fill the total of 30; a third address is refused 503.
    silent.push(...(await silentFrom(h, '127.0.0.3', 10)));
    expect(await rawFrom(h, '127.0.0.4')).toBe('upgrade refused: HTTP/1.1 503 Service Unavailable');
    // A silent socket that says hello leaves the pre-hello count: room for one more.
    silent[0]!.sendText(HELLO);
    await until(() => h.live.sessions().filter((s) => s.state === 'live').length === 41);
    const next = await rawFrom(h, '127.0.0.4');
    expect(next).toBeInstanceOf(RawWsClient);
    for (const c of [...greeted, ...silent]) c.destroy();
    (next as RawWsClient).destroy();
  });

  it('before hello: a silent socket closed by the hello timeout no longer counts', async () => {
    const h = await startServer({ connectionLimits: { preHelloPerAddress: 5 }, helloTimeoutMs: 200 });
    const silent = await silentFrom(h, '127.0.0.2', 5);
    expect(await rawFrom(h, '127.0.0.2')).toBe('upgrade refused: HTTP/1.1 429 Too Many Requests');
    await until(() => h.live.sessionCount === 0, 10_000);
    const later = await rawFrom(h, '127.0.0.2');
    expect(later).toBeInstanceOf(RawWsClient);
    (later as RawWsClient).destroy();
    for (const c of silent) c.destroy();
  });
});

describe('options of the gate', () => {
  const make = (o: Partial<LiveDeviceServerOptions>) =>
    createLiveDeviceServer({ devices: [makeBridge()], logger: silentLogger, heartbeatMs: 0, ...o });

  it('throws a TypeError naming allowedHosts or the connection cap at fault', () => {
    expect(() => make({ allowedHosts: ['https://panel.example.com'] })).toThrow(/"allowedHosts".*no scheme, no port/);
    expect(() => make({ allowedHosts: ['panel.example.com:8080'] })).toThrow(/"allowedHosts"/);
    expect(() => make({ allowedHosts: 'panel.example.com' as unknown as string[] })).toThrow(/"allowedHosts"/);
    expect(() => make({ connectionLimits: { perAddress: 0 } })).toThrow(/"connectionLimits.perAddress"/);
    expect(() => make({ connectionLimits: { total: 1.5 } })).toThrow(/"connectionLimits.total"/);
    expect(() => make({ connectionLimits: { preHello: -1 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });

  it('takes Infinity to turn a cap off, and names and .domains as hosts', async () => {
    const live = make({ allowedHosts: ['panel.example.com', '.example.net'], connectionLimits: { total: Infinity } });
    await live.close();
  });
});
