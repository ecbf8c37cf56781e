import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { DEFAULTS, type LiveDeviceServerOptions } from './options.js';
import { createLiveDeviceServer } from './server.js';
import { silentLogger } from './logger.js';
import { RawWsClient, TestClient, makeBridge, refusal, startServer, stopAll } from '@live-device-form/testkit';

afterEach(stopAll);

describe('origin check at the handshake', () => {
  it('refuses a foreign Origin with HTTP 403, before any frame', async () => {
    const h = await startServer();
    expect(await refusal(h.url, { origin: 'https://evil.example' })).toBe(403);
    expect(await refusal(h.url, { origin: 'null' })).toBe(403);
    expect(h.live.stats().sessions).toBe(0);
    expect(h.log.entries.some((e) => e.msg === 'upgrade refused: origin not allowed')).toBe(true);
  });

  it("allows the request's own host, an allow-listed origin, and no Origin at all", async () => {
    const h = await startServer({ allowedOrigins: ['https://panel.example.com'] });
    await (await h.connect({ origin: `http://127.0.0.1:${h.port}` })).ws.close();
    await (await h.connect({ origin: 'https://panel.example.com' })).ws.close();
    await (await h.connect()).ws.close();
    expect(await refusal(h.url, { origin: 'https://panel.example.com:444' })).toBe(403);
    expect(await refusal(h.url, { origin: `http://127.0.0.1:${h.port + 1}` })).toBe(403);
  });

  it('requireOrigin refuses a request without Origin, still allows its own host', async () => {
    const h = await startServer({ requireOrigin: true });
    expect(await refusal(h.url)).toBe(403);
    await h.connect({ origin: `http://127.0.0.1:${h.port}` });
  });
});

describe('subprotocol', () => {
  it('negotiates ldf.v1, and refuses an upgrade that does not offer it with HTTP 400', async () => {
    const h = await startServer();
    const client = await h.connect({ protocols: ['other', 'ldf.v1'] });
    expect(client.ws.protocol).toBe('ldf.v1');
    expect(await refusal(h.url, { protocols: [] })).toBe(400);
    expect(await refusal(h.url, { protocols: ['ldf.v2'] })).toBe(400);
  });
});

describe('routing upgrades', () => {
  it('handleUpgrade leaves other paths alone, so another handler (e.g. Vite HMR) gets them', async () => {
    const other = new WebSocketServer({ noServer: true });
    const routed: string[] = [];
    const h = await startServer({
      onUpgrade: (live) => (req, socket, head) => {
        if (live.handleUpgrade(req, socket, head)) return routed.push(`live ${req.url}`);
        routed.push(`other ${req.url}`);
        other.handleUpgrade(req, socket, head, (ws) => ws.send('hmr'));
      },
    });
    const hmr = new WebSocket(`ws://127.0.0.1:${h.port}/__vite_hmr`, ['vite-hmr']);
    expect((await new Promise((r) => hmr.once('message', r)))!.toString()).toBe('hmr');
    hmr.close();
    await h.join();
    expect(routed).toEqual(['other /__vite_hmr', 'live /live']);
    expect(h.live.sessionCount).toBe(1);
    other.close();
  });

  it('matches the path without its query string', async () => {
    const h = await startServer();
    const client = await h.connect({ url: `${h.url}?v=1` });
    client.hello(0);
    await client.next((f) => f.type === 'resync');
  });

  it('attach answers 404 for other paths when nobody else listens', async () => {
    const h = await startServer({ path: '/devices/live' });
    expect(await refusal(`ws://127.0.0.1:${h.port}/live`)).toBe(404);
    await h.join();
  });

  it('detach removes the upgrade listener', async () => {
    const live = createLiveDeviceServer({ devices: [makeBridge()], logger: silentLogger });
    const server = http.createServer();
    const detach = live.attach(server);
    expect(server.listenerCount('upgrade')).toBe(1);
    detach();
    expect(server.listenerCount('upgrade')).toBe(0);
    await live.close();
  });
});

describe('close()', () => {
  it('ends every session with 1001, resolves when done, and is safe twice', async () => {
    const h = await startServer();
    const a = await h.join();
    const b = await h.connect(); // still awaiting hello
    const first = h.live.close();
    const second = h.live.close();
    expect(second).toBe(first);
    await first;
    expect((await a.client.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(h.live.sessionCount).toBe(0);
    await h.live.close();
  });

  it('refuses upgrades once closing (503) and no longer follows the bridge', async () => {
    const h = await startServer({
      onUpgrade: (live) => (req, socket, head) => {
        live.handleUpgrade(req, socket, head);
      },
    });
    await h.live.close();
    expect(await refusal(h.url)).toBe(503);
    h.bridge.setStatus({ gain: 5 }); // nothing listens, nothing throws
  });

  it('attached, answers upgrades 503 until it has closed, then detaches', async () => {
    // A page whose socket has closed reconnects at once, while close() still waits for the others:
    // that upgrade is refused (503, Connection: close), not handed to the application as a plain
    // request (a 404 on a keep-alive connection that can hold the HTTP server's close for 5 s).
    const h = await startServer();
    let onCloseFrame!: () => void;
    const closeFrame = new Promise<void>((resolve) => (onCloseFrame = resolve));
    // Ignores the closing handshake, so close() waits for it (CLOSE_GRACE_MS).
    const slow = new RawWsClient(
      0,
      { onText() {}, onClose() {}, onCloseFrame: () => onCloseFrame() },
      { answerClose: false },
    );
    await slow.open({ host: '127.0.0.1', port: h.port, path: '/live', protocol: 'ldf.v1' }, undefined);
    const closing = h.live.close();
    await closeFrame;
    expect(await refusal(h.url)).toBe(503);
    await closing;
    expect(h.http.listenerCount('upgrade')).toBe(0);
    slow.destroy();
  });
});

describe('session events and introspection', () => {
  it('reports session-open and session-close with the close code', async () => {
    const h = await startServer();
    const events: string[] = [];
    h.live.on('session-open', (s) => events.push(`open ${s.id} ${s.state}`));
    const off = h.live.on('session-close', (s) => events.push(`close ${s.id} ${s.code}`));
    const { client } = await h.join();
    expect(h.live.sessions()).toMatchObject([
      { device: 'videoproc', state: 'live', mounts: 0, remoteAddress: '127.0.0.1' },
    ]);
    const closed = new Promise((r) => h.live.on('session-close', r));
    client.ws.close(1000);
    await closed;
    off();
    expect(events).toEqual(['open 1 awaiting-hello', 'close 1 1000']);
  });
});

describe('options', () => {
  const devices = [makeBridge()];
  const make = (o: Partial<LiveDeviceServerOptions>) =>
    createLiveDeviceServer({ devices, logger: silentLogger, ...o } as LiveDeviceServerOptions);

  it('throws a TypeError naming the option at fault', () => {
    expect(() => make({ devices: [makeBridge(), makeBridge()] })).toThrow(/"devices".*unique/);
    // A bridge built in code whose resync no client would accept (six enums of 256 × 1,000 characters).
    const huge = Array.from({ length: 6 }, (_, i) => ({
      name: `e${i}`,
      label: `E${i}`,
      type: 'enum' as const,
      options: Array.from({ length: 256 }, (_, j) => ({ value: `${j}`.padEnd(1000, 'x'), label: `${j}` })),
      writable: true,
    }));
    expect(() => make({ devices: [makeBridge({ schema: huge, values: {}, composite: [] })] })).toThrow(
      /"videoproc" could need a resync of \d+ bytes .* over the 1048576-byte frame limit/,
    );
    expect(() => make({ path: 'live' })).toThrow(/"path"/);
    expect(() => make({ guardMs: -1 })).toThrow(/"guardMs"/);
    expect(() => make({ maxFrameBytes: 1 << 20 })).toThrow(/"maxFrameBytes"/);
    expect(() => make({ allowedOrigins: ['https://a.example/path'] })).toThrow(/"allowedOrigins"/);
    expect(() => make({ rateLimit: { burst: 0 } })).toThrow(/"rateLimit.burst"/);
    expect(() => make({ token: '' })).toThrow(/"token"/);
    expect(() => make({ heartbeatMs: 2 ** 31 })).toThrow(
      'The "heartbeatMs" option must be a number from 0 to 2147483647, got 2147483648',
    );
  });

  it('every error it throws carries a stable code', async () => {
    expect(() => make({ guardMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => make({ allowedOrigins: ['nope'] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    const live = make({ heartbeatMs: 0 });
    expect(() => live.setProtection({ guardMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => live.on('nope' as 'session-open', () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_EVENT', name: 'TypeError' }),
    );
    await live.close();
  });

  it('an option given as undefined keeps its default', async () => {
    const live = make({ guardMs: undefined, heartbeatMs: 0, path: undefined });
    expect(live.protection.guardMs).toBe(500);
    await live.close();
  });

  it('0 is a value, not "use the default" (?? not ||), and the caller’s object is not written', async () => {
    const options: LiveDeviceServerOptions = { devices, logger: silentLogger, guardMs: 0, heartbeatMs: 0 };
    const copy = { ...options };
    const live = createLiveDeviceServer(options);
    expect(live.protection).toEqual({ guardMs: 0, checkRevisions: true });
    expect(options).toEqual(copy);
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    await live.close();
  });

  it('gives each server instance its own epoch unless one is set', async () => {
    const a = createLiveDeviceServer({ devices, logger: silentLogger });
    const b = createLiveDeviceServer({ devices, logger: silentLogger });
    const c = createLiveDeviceServer({ devices, logger: silentLogger, epoch: 'e1' });
    expect(a.epoch).not.toBe(b.epoch);
    expect(c.epoch).toBe('e1');
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});

describe('the real server on a plain http server', () => {
  it('serves several clients of one device, each with its own session', async () => {
    const bridge = makeBridge();
    const live = createLiveDeviceServer({ devices: [bridge], logger: silentLogger });
    const server = http.createServer();
    live.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(url)));
    for (const c of clients) c.hello(0);
    await Promise.all(clients.map((c) => c.next((f) => f.type === 'resync')));
    bridge.setStatus({ gain: 2 });
    await Promise.all(clients.map((c) => c.next((f) => f.type === 'update')));
    expect(live.sessionCount).toBe(3);
    await live.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
