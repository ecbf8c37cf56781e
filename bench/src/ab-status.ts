/**
 * A/B tool for the SDK's share of figure 1 (status → DOM): the time from the MQTT client's
 * `message` event to `ws.send` for one status change on an idle session, of the SDK as built, of
 * other builds of the SDK, and of a bare mqtt.js → `ws` relay (the lab's, figure 1's baseline), all
 * in this one process on one embedded aedes, samples interleaved.
 *
 *   tsx src/ab-status.ts [samples=400] [name=path/to/dist/index.js …]
 *
 * Each variant serves its own copy of `packages/server/examples/videoproc.json` (its own topics and
 * MQTT bridge) to one Node WebSocket client in a second process (`ab-status-reader.ts`; as figure
 * 1's browser, it must not wait for this process to be done), which reads every frame. A sample
 * publishes a new `input_signal` text at QoS 0 and waits until that client has the `update`. Two
 * moments come from wrapping the libraries' own methods: mqtt.js `MqttClient#emit('message')` in
 * the bridge's (or the relay's) client, and `ws`'s `WebSocket#send` on the server's socket. Printed
 * per variant: the median and p90 of message → send, and of publish → the client's `message` event
 * (shared clock, `clock.ts`).
 *
 * `BENCH_SERVERS=2` gives each SDK build a second server on the same bridges (no sessions), as the
 * lab's `/live-g0` does.
 *
 * e.g. copy `packages/server/dist` to `bench/out/sdk-base/dist` before a change (with the
 * package's `package.json` and a `node_modules` link to `packages/server/node_modules`), rebuild, and
 * pass `base=out/sdk-base/dist/index.js`.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect as mqttConnect, MqttClient } from 'mqtt';
import { WebSocket, WebSocketServer } from 'ws';
import { SUBPROTOCOL } from '@live-device-form/protocol';
import * as built from '@live-device-form/server';
import { VIDEOPROC_FILE, median, quantile, round } from '@live-device-form/testkit';
import { now } from './clock.js';
import { Child } from './proc.js';
import { pause } from './util.js';

type Sdk = typeof built;

const samples = Number(process.argv[2] ?? 400);
const builds: [string, Sdk][] = [['sdk', built]];
for (const arg of process.argv.slice(3)) {
  const [name, path] = arg.split('=');
  if (!name || !path) throw new Error(`usage: ab-status.ts [samples] [name=dist/index.js …] (got ${arg})`);
  builds.push([name, (await import(pathToFileURL(resolve(path)).href)) as Sdk]);
}
const servers = Number(process.env.BENCH_SERVERS ?? 1);
/** Mean milliseconds between samples, jittered ±50 % (`BENCH_GAP_MS`). Defaults to 8, as figure 1. */
const gapMs = Number(process.env.BENCH_GAP_MS ?? 8);

// ---------------------------------------------------------------- probes

/** When each topic's latest `message` event fired in any mqtt.js client of this process. */
const messageAt = new Map<string, number>();
/** When a server-side socket last sent (`NaN` before each sample). */
let sentAt: number;
const emit = MqttClient.prototype.emit;
MqttClient.prototype.emit = function (this: MqttClient, event: string | symbol, ...args: unknown[]) {
  if (event === 'message') messageAt.set(args[0] as string, performance.now());
  return emit.call(this, event as 'message', ...(args as [string, Buffer, never]));
} as typeof emit;
/**
 * Stage marks of a probe build: a throwaway copy of `dist` with `globalThis.__abMark?.('stage')`
 * calls added at the stages of interest. Each stage's median time after the `message` event is
 * printed per variant.
 */
let marks: [string, number][] = [];
(globalThis as { __abMark?: (label: string) => void }).__abMark = (label) => marks.push([label, performance.now()]);
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket & { _isServer?: boolean }, ...args: unknown[]) {
  if (this._isServer) sentAt = performance.now();
  return (send as (...a: unknown[]) => void).apply(this, args);
} as typeof send;

// ---------------------------------------------------------------- the lab

const debug = process.env.BENCH_DEBUG ? (...a: unknown[]) => console.error(...a) : () => {};
const broker = await built.startEmbeddedBroker();
debug('broker');
const publisher = mqttConnect(broker.url, { clientId: 'ab-status-hardware', reconnectPeriod: 0 });
await new Promise<void>((ok, fail) => {
  publisher.once('connect', () => ok());
  publisher.once('error', fail);
});
const publish = (topic: string, payload: string, retain: boolean): Promise<void> =>
  new Promise((ok, fail) => publisher.publish(topic, payload, { qos: 1, retain }, (e) => (e ? fail(e) : ok())));

const server = http.createServer((_req, res) => res.writeHead(404).end());
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const port = (server.address() as AddressInfo).port;
const upgrades = new Map<string, (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void>();
server.on('upgrade', (req, socket, head) => {
  const handle = upgrades.get((req.url ?? '/').split('?')[0] ?? '/');
  if (handle) handle(req, socket, head);
  else socket.destroy();
});

interface Side {
  name: string;
  topic: string;
  close(): Promise<void>;
}

const reader = await Child.start('reader', './ab-status-reader.ts');
/** Opens the reader's client `name` on `path`; resolves once it got its first frame starting with `readyPrefix`. */
const connectClient = (name: string, path: string, protocol: string | undefined, first: string, readyPrefix: string) =>
  reader.call('connect', { name, url: `ws://127.0.0.1:${port}${path}`, protocol, first, readyPrefix });

const device = await built.loadDeviceFile(VIDEOPROC_FILE);
const sides: Side[] = [];
for (const [i, [name, sdk]] of builds.entries()) {
  const prefix = `ab${i}`;
  const copy = sdk.parseDeviceDescription(JSON.parse(JSON.stringify(device).replaceAll('cy-vp4/', `${prefix}/`)));
  if (!copy.ok) throw new Error(copy.issues.join('; '));
  for (const [topic, payload] of [
    [`${prefix}/videoproc/status/volatile/genlock_phase`, '-25 10'],
    [`${prefix}/videoproc/status/freeze`, '0'],
    [`${prefix}/videoproc/status/output_format`, '1'],
    [`${prefix}/videoproc/status/brightness`, '50'],
    [`${prefix}/audio/status/delay`, '40'],
    [`${prefix}/videoproc/status/input_signal`, 'init'],
    [`${prefix}/status/online`, '1'],
  ])
    await publish(topic as string, payload as string, true);
  const bridge = sdk.createMqttBridge(
    { ...copy.device, id: `vp-${name}` },
    { url: broker.url, logger: sdk.silentLogger },
  );
  await bridge.ready();
  debug('bridge', name, bridge.online);
  const lives = Array.from({ length: servers }, (_, k) => {
    const path = `/${name}${k ? `-${k}` : ''}`;
    const live = sdk.createLiveDeviceServer({ devices: [bridge], logger: sdk.silentLogger, path });
    upgrades.set(path, (req, socket, head) => live.handleUpgrade(req, socket, head));
    return live;
  });
  await connectClient(
    name,
    `/${name}`,
    SUBPROTOCOL,
    JSON.stringify({ type: 'hello', device: `vp-${name}`, mounts: 0 }),
    '{"type":"resync"',
  );
  sides.push({
    name,
    topic: `${prefix}/videoproc/status/input_signal`,
    async close() {
      await Promise.all(lives.map((l) => l.close()));
      await bridge.close();
    },
  });
}

debug('sdk sides');
// The baseline: the lab's bare relay (bench/src/lab.ts), one device.
{
  const relay = mqttConnect(broker.url, { clientId: 'ab-status-relay', reconnectPeriod: 0 });
  await new Promise<void>((ok, fail) => {
    relay.once('connect', () => ok());
    relay.once('error', fail);
  });
  const latest = new Map<string, string>();
  const sockets = new Set<WebSocket>();
  relay.on('message', (topic, payload) => {
    const levels = topic.split('/');
    const key = levels[levels.length - 1] ?? '';
    const frame = `${key} ${payload.toString('utf8')}`;
    latest.set(key, frame);
    for (const ws of sockets) ws.send(frame);
  });
  await publish('ab-bare/input_signal', 'init', true);
  await relay.subscribeAsync('ab-bare/#', { qos: 1 });
  while (!latest.size) await pause(5);
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
  upgrades.set('/bare', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('error', () => {});
      ws.on('close', () => sockets.delete(ws));
      for (const frame of latest.values()) ws.send(frame);
    }),
  );
  await connectClient('bare', '/bare', undefined, 'hi', '');
  sides.push({
    name: 'bare',
    topic: 'ab-bare/input_signal',
    async close() {
      await relay.endAsync(true);
    },
  });
}

// ---------------------------------------------------------------- samples

const toSend = new Map(sides.map((s) => [s.name, [] as number[]]));
const toClient = new Map(sides.map((s) => [s.name, [] as number[]]));
const stages = new Map(sides.map((s) => [s.name, new Map<string, number[]>()]));
for (let i = -20; i < samples; i++) {
  const order = i % 2 ? [...sides].reverse() : sides;
  for (const side of order) {
    const tag = `t${i}-${side.name}-${Math.random().toString(36).slice(2, 8)}`;
    await reader.call('arm', { name: side.name, tag });
    const got = new Promise<number>((done) => reader.once('got', (d) => done((d as { t: number }).t)));
    sentAt = NaN;
    marks = [];
    const t0 = now();
    publisher.publish(side.topic, tag, { qos: 0 });
    const t2 = await got;
    const m = messageAt.get(side.topic) ?? NaN;
    if (i >= 0) {
      toSend.get(side.name)?.push(sentAt - m);
      toClient.get(side.name)?.push(t2 - t0);
      const seen = new Set<string>();
      for (const [label, t] of marks) {
        if (seen.has(label)) continue;
        seen.add(label);
        const byLabel = stages.get(side.name) as Map<string, number[]>;
        if (!byLabel.has(label)) byLabel.set(label, []);
        byLabel.get(label)?.push(t - m);
      }
    }
    // Jittered gap, as figure 1's: the session is idle when the next status comes.
    if (gapMs > 0) await pause(gapMs * (0.5 + Math.random()));
  }
}

const load = (await import('node:os')).loadavg().map((l) => l.toFixed(2));
console.log(`ab-status: ${samples} samples per variant, load ${load.join(' ')}, servers per build ${servers}`);
console.log('variant   message→send p50 / p90 µs   publish→client p50 / p90 ms');
for (const s of sides) {
  const a = [...(toSend.get(s.name) ?? [])].sort((x, y) => x - y);
  const b = [...(toClient.get(s.name) ?? [])].sort((x, y) => x - y);
  const us = (v: number): string => String(round(v * 1000, 3));
  console.log(
    `${s.name.padEnd(9)} ${us(quantile(a, 0.5)).padStart(8)} / ${us(quantile(a, 0.9)).padEnd(8)}` +
      `          ${round(quantile(b, 0.5), 3)} / ${round(quantile(b, 0.9), 3)}`,
  );
}
for (const [name, byLabel] of stages) {
  if (byLabel.size === 0) continue;
  console.log(`${name}: stage marks, median µs after the message event`);
  const rows = [...byLabel].map(([label, ts]) => [label, median(ts) * 1000] as const).sort((a, b) => a[1] - b[1]);
  for (const [label, us] of rows) console.log(`  ${label.padEnd(28)} ${round(us, 3)}`);
}
await reader.stop();
for (const s of sides) await s.close();
server.closeAllConnections();
await new Promise<void>((ok) => server.close(() => ok()));
await publisher.endAsync(true);
await broker.close();
