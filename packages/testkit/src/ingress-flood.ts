/**
 * The ingress flood scenario of issue 11 (docs/protocol.md rule 11): a device whose one status topic
 * gets `rate` messages a second from a publisher in its own process, a server with `idle` pages
 * that never read (paused right after `hello`, spread over several loopback addresses) and one page
 * that reads, pings and writes. It reports how far behind the broker the reading page's values
 * were, how long its pings and writes waited for their answers, and whether the broker link held.
 * The server's flood test asserts on it; the bench's `ingress-flood.ts` prints it.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectAsync } from 'mqtt';
import WebSocket from 'ws';
import { SUBPROTOCOL, parseServerFrame } from '@live-device-form/protocol';
import {
  type LiveDeviceServerOptions,
  type MqttBridge,
  createLiveDeviceServer,
  createMqttBridge,
  defineDevice,
  silentLogger,
} from '@live-device-form/server';
import { whenOnline } from './bridge-events.js';
import { startFloodPublisher } from './flood-publisher.js';
import { openPausedClients } from './raw-ws.js';
import { type Summary, summarize } from './stats.js';

/** What to flood, and with how many pages watching. */
export interface IngressFloodOptions {
  /** The broker (`mqtt://…`), which must not share the server's event loop (Mosquitto). */
  brokerUrl: string;
  /** Messages a second on the status topic. Defaults to `2000`. */
  rate?: number;
  /** Milliseconds the flood lasts. Defaults to `8000`. */
  durationMs?: number;
  /** Pages that never read. Defaults to `1000`. */
  idle?: number;
  /**
   * Loopback addresses the idle pages connect from, in turn. Defaults to 127.0.0.2–127.0.0.5, and
   * more for over 2,000 idle pages (500 an address), so the server's default per-address
   * connection cap (1,000) stays in force and does not refuse them.
   */
  localAddresses?: readonly string[];
  /** Milliseconds between the reading page's pings (and writes: one every fourth ping). Defaults to `250`. */
  probeEveryMs?: number;
  /** Milliseconds a ping or write may go unanswered before it counts as lost. Defaults to `15000`. */
  answerTimeoutMs?: number;
  /** Further server options. */
  server?: Partial<LiveDeviceServerOptions>;
}

/** What the reading page saw. Times in milliseconds. */
export interface IngressFloodReport {
  /** Messages the publisher sent. */
  published: number;
  /** `update`s of the flooded field the reading page received. */
  updates: number;
  /** Age of each received value (receipt time − publication time). */
  lag: Summary;
  /** Age of the newest value the page had been sent, sampled at every probe during the flood. */
  staleness: Summary;
  /** Ping → pong times; `lostPings` never answered within `answerTimeoutMs`. */
  pong: Summary;
  lostPings: number;
  /** Set → ack times, and the acks' statuses (`rejected/guard` while lagging counts as an answer). */
  ack: Summary;
  lostAcks: number;
  ackStatuses: Record<string, number>;
  /** `device` frames the page received, by status. */
  deviceFrames: Record<string, number>;
  /** Resyncs after the first. */
  resyncs: number;
  /** Times the broker link went down during the run. */
  linkDrops: number;
  /** Idle pages still connected at the end (a page that never reads may be cut off; that is allowed). */
  idleOpen: number;
}

let runs = 0;

/** Runs the scenario once; everything it started is stopped before it resolves. */
export async function runIngressFlood(options: IngressFloodOptions): Promise<IngressFloodReport> {
  const rate = options.rate ?? 2000;
  const durationMs = options.durationMs ?? 8000;
  const idle = options.idle ?? 1000;
  const localAddresses =
    options.localAddresses ??
    Array.from({ length: Math.max(4, Math.ceil(idle / 500)) }, (_, i) => `127.0.${(i + 2) >> 8}.${(i + 2) & 255}`);
  const probeEveryMs = options.probeEveryMs ?? 250;
  const answerTimeoutMs = options.answerTimeoutMs ?? 15_000;
  const prefix = `flood-${process.pid}-${++runs}`;
  const device = defineDevice({
    id: 'flood',
    topics: [
      { status: `${prefix}/status/stamp`, pattern: '{stamp}' },
      { status: `${prefix}/status/gain`, pattern: '{gain}', set: `${prefix}/set/gain`, template: '{gain}' },
    ],
    fields: {
      stamp: { label: 'Published at', type: 'number', writable: false },
      gain: { label: 'Gain', type: 'integer', min: 0, max: 100, writable: true },
    },
  });
  const cleanup: (() => Promise<unknown> | void)[] = [];
  try {
    // The written field needs a known value (a field still `null` refuses writes `forbidden`).
    const seed = await connectAsync(options.brokerUrl, { clean: true, reconnectPeriod: 0 });
    await seed.publishAsync(`${prefix}/status/gain`, '50', { qos: 1, retain: true });
    await seed.endAsync();
    const bridge: MqttBridge = createMqttBridge(device, { url: options.brokerUrl, logger: silentLogger });
    cleanup.unshift(() => bridge.close());
    await whenOnline(bridge);
    let linkDrops = 0;
    bridge.subscribe((e) => {
      if (e.type === 'availability' && !e.online) linkDrops++;
    });
    const live = createLiveDeviceServer({ devices: [bridge], logger: silentLogger, ...options.server });
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    live.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.unshift(async () => {
      await live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const hello = JSON.stringify({ type: 'hello', device: 'flood', mounts: 0 });
    const idleClients = await openPausedClients(
      { host: '127.0.0.1', port, path: '/live', protocol: SUBPROTOCOL },
      idle,
      hello,
      localAddresses,
    );
    cleanup.unshift(() => idleClients.forEach((c) => c.destroy()));

    // The reading page.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, [SUBPROTOCOL], { perMessageDeflate: false });
    cleanup.unshift(() => ws.terminate());
    const lags: number[] = [];
    let newest = -Infinity;
    let gainRev = 0;
    let epoch = '';
    let resyncs = -1;
    const deviceFrames: Record<string, number> = {};
    const ackStatuses: Record<string, number> = {};
    const pingsOut = new Map<number, number>();
    const setsOut = new Map<number, number>();
    const pongs: number[] = [];
    const acks: number[] = [];
    let allAnswered: (() => void) | undefined;
    let synced!: () => void;
    const firstResync = new Promise<void>((resolve) => (synced = resolve));
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      const parsed = parseServerFrame(data.toString('utf8'));
      if (!parsed.ok) throw new Error(`bad frame from the server: ${parsed.message}`);
      const f = parsed.frame;
      switch (f.type) {
        case 'resync':
          resyncs++;
          gainRev = f.fields.gain?.rev ?? 0;
          epoch = f.epoch;
          if (typeof f.fields.stamp?.value === 'number') newest = Math.max(newest, f.fields.stamp.value);
          synced();
          break;
        case 'update':
          if (f.field === 'stamp' && typeof f.value === 'number') {
            lags.push(now - f.value);
            newest = Math.max(newest, f.value);
          } else if (f.field === 'gain') gainRev = f.rev;
          break;
        case 'pong': {
          const at = pingsOut.get(f.id);
          if (at !== undefined) pongs.push(performance.now() - at);
          pingsOut.delete(f.id);
          break;
        }
        case 'ack': {
          const at = setsOut.get(f.id);
          if (at !== undefined) acks.push(performance.now() - at);
          setsOut.delete(f.id);
          const key = f.status === 'rejected' ? `rejected/${f.reason}` : f.status;
          ackStatuses[key] = (ackStatuses[key] ?? 0) + 1;
          break;
        }
        case 'device':
          deviceFrames[f.status] = (deviceFrames[f.status] ?? 0) + 1;
          break;
        case 'error':
          throw new Error(`error frame: ${f.code} ${f.message}`);
      }
      if (pingsOut.size === 0 && setsOut.size === 0) allAnswered?.();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(hello);
    await firstResync;

    const publisher = await startFloodPublisher(options.brokerUrl, `${prefix}/status/stamp`, rate);
    cleanup.unshift(() => publisher.close());
    const staleness: number[] = [];
    let id = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const probe = setInterval(() => {
        if (Number.isFinite(newest)) staleness.push(Date.now() - newest);
        pingsOut.set(++id, performance.now());
        ws.send(JSON.stringify({ type: 'ping', id }));
        if (id % 4 === 0) {
          setsOut.set(id, performance.now());
          ws.send(JSON.stringify({ type: 'set', id, field: 'gain', value: id % 100, rev: gainRev, epoch }));
        }
        if (performance.now() - started >= durationMs) {
          clearInterval(probe);
          resolve();
        }
      }, probeEveryMs);
    });
    const published = await publisher.stop();
    // Whatever is still owed must come within the timeout (counted lost otherwise).
    if (pingsOut.size > 0 || setsOut.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (allAnswered = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, answerTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    const idleOpen = live.sessionCount - 1;
    return {
      published,
      updates: lags.length,
      lag: summarize(lags),
      staleness: summarize(staleness),
      pong: summarize(pongs),
      lostPings: pingsOut.size,
      ack: summarize(acks),
      lostAcks: setsOut.size,
      ackStatuses,
      deviceFrames,
      resyncs,
      linkDrops,
      idleOpen,
    };
  } finally {
    for (const step of cleanup) await step();
  }
}
