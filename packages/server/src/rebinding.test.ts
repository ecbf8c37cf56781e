/**
 * DNS rebinding, end to end in real Chromium: a page served from `attacker.example` (which
 * Chromium is told resolves to 127.0.0.1, as a rebound name would) opens a WebSocket to its own
 * name and tries to write. Its `Origin` and `Host` agree, so only the Host check stops it. The
 * same page served from `localhost` gets in. A witness on the broker sees what was published.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genlockDevice, launchChromium, startWitness, whenOnline, type Witness } from '@live-device-form/testkit';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { createMqttBridge, type MqttBridge } from './mqtt-bridge.js';
import { createLiveDeviceServer, type LiveDeviceServer } from './server.js';
import { recordingLogger, type RecordingLogger } from './logger.js';

/** The page: `attempt(value)` connects to its own host, says hello, writes `h`, reports what happened. */
const PAGE = `<!doctype html><title>panel</title><script>
window.attempt = (value) => new Promise((resolve) => {
  const seen = [];
  const ws = new WebSocket('ws://' + location.host + '/live', 'ldf.v1');
  ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', device: 'genlock', mounts: 0 }));
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    seen.push(f.type);
    if (f.type === 'resync') ws.send(JSON.stringify({ type: 'set', id: 1, field: 'h', value, rev: f.fields.h.rev, epoch: f.epoch }));
    if (f.type === 'ack') { resolve({ opened: true, seen, ack: f.status }); ws.close(); }
  };
  ws.onclose = (e) => resolve({ opened: seen.length > 0, seen, closeCode: e.code });
});
</script>`;

interface Attempt {
  opened: boolean;
  seen: string[];
  ack?: string;
  closeCode?: number;
}

type Browser = Awaited<ReturnType<typeof launchChromium>>;

let broker: EmbeddedBroker;
let bridge: MqttBridge;
let live: LiveDeviceServer;
let server: http.Server;
let port: number;
let witness: Witness;
let browser: Browser;
let log: RecordingLogger;
const prefix = `rebind-${process.pid}`;

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
  witness = await startWitness(broker.url, [`${prefix}/set/#`]);
  await witness.publish(`${prefix}/status/phase`, '1 2', { retain: true });
  await witness.publish(`${prefix}/status/name`, 'cam', { retain: true });
  await witness.publish(`${prefix}/online`, '1', { retain: true });
  log = recordingLogger();
  bridge = createMqttBridge(genlockDevice(prefix), { url: broker.url, logger: log });
  await whenOnline(bridge);
  // The CLI's defaults: no token, no allowed origins; only the server's own host may connect.
  live = createLiveDeviceServer({ devices: [bridge], logger: log });
  server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  browser = await launchChromium(['--host-resolver-rules=MAP attacker.example 127.0.0.1']);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await live?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await bridge?.close();
  await witness?.close();
  await broker?.close();
});

async function attemptFrom(origin: string, value: number): Promise<Attempt> {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    return (await page.evaluate(`window.attempt(${value})`)) as Attempt;
  } finally {
    await page.close();
  }
}

describe('DNS rebinding in Chromium', () => {
  it('a page from a name rebound to 127.0.0.1 is refused at the handshake; the same page from localhost writes', async () => {
    const attacker = await attemptFrom(`http://attacker.example:${port}`, 77);
    // The socket failed before any frame (a refused handshake closes with 1006 in the browser).
    expect(attacker).toEqual({ opened: false, seen: [], closeCode: 1006 });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'upgrade refused: host not allowed',
        obj: expect.objectContaining({ host: `attacker.example:${port}` }),
      }),
    );

    const own = await attemptFrom(`http://localhost:${port}`, 88);
    expect(own).toMatchObject({ opened: true, seen: ['resync', 'ack'], ack: 'accepted' });
    // The witness was subscribed all along: the only write that reached the broker is localhost's.
    await witness.waitFor((m) => m.payload === 'genlock 88 2', 'the localhost page’s write');
    expect(witness.messages.map((m) => m.payload)).toEqual(['genlock 88 2']);
  }, 60_000);
});
