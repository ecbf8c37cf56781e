/**
 * The ingress flood scenario of issue 11 (docs/protocol.md rule 11): a device whose one status topic
 * gets `rate` messages a second from a publisher in its own process, a server with `idle` pages
 * that never read (paused right after `hello`, spread over several loopback addresses) and one page
 * that reads, pings and writes. It reports how far behind the broker the reading page's values
 * were, how long its pings and writes waited for their answers, and whether the broker link held.
 * The server's flood test asserts on it; the bench's `ingress-flood.ts` prints it, and its status
 * flood figure (10) steps the rate up on one set-up ({@link openIngressFlood}), for the project and
 * for a bare relay ({@link startBareRelay}) doing the same fan-out.
 * @module
 */
import { readFileSync } from 'node:fs';
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
import { type BareRelay, startBareRelay } from './bare-relay.js';
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
  /** Further server options (`relay: 'sdk'` only). */
  server?: Partial<LiveDeviceServerOptions>;
  /**
   * What brings the statuses to the pages: `'sdk'`, the project's MQTT bridge and server (pages speak
   * docs/protocol.md; the reading page also pings and writes), or `'bare'`, the baseline
   * {@link startBareRelay} (every message to every socket, no pings or writes). Defaults to `'sdk'`.
   */
  relay?: FloodRelay;
  /**
   * Ends a flood early once this process's RSS reaches this many bytes (the bare relay queues for
   * its non-reading pages without limit); the report says so. Defaults to `Infinity` (never).
   */
  rssLimitBytes?: number;
  /** The broker's process id, whose RSS is sampled too (Linux `/proc`). Defaults to none. */
  brokerPid?: number;
}

/** What relays the statuses: the project, or the bare baseline. */
export const FloodRelay = { Sdk: 'sdk', Bare: 'bare' } as const;
export type FloodRelay = (typeof FloodRelay)[keyof typeof FloodRelay];

/** What the reading page saw. Times in milliseconds. */
export interface IngressFloodReport {
  relay: FloodRelay;
  /** Messages a second offered. */
  rate: number;
  /** How long the flood lasted (shorter than asked when the RSS limit ended it). */
  durationMs: number;
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
  /** This process's RSS when the flood started, and its highest reading during it (every probe), in bytes. */
  rss: { startBytes: number; peakBytes: number };
  /** The broker's RSS at the start and at its highest, in bytes (with `brokerPid` only). */
  brokerRss?: { startBytes: number; peakBytes: number };
  /** Whether the RSS limit ended the flood early. */
  stoppedAtRssLimit: boolean;
}

/** One set-up (relay, pages, reading page) on which floods run one after another. */
export interface IngressFloodRig {
  /** Floods the status topic at `rate` messages a second for `durationMs`; resolves once what the reading page was owed came or timed out. */
  flood(rate: number, durationMs: number): Promise<IngressFloodReport>;
  /** Stops everything it started. Safe to call twice. */
  close(): Promise<void>;
}

let runs = 0;

/** Runs the scenario once; everything it started is stopped before it resolves. */
export async function runIngressFlood(options: IngressFloodOptions): Promise<IngressFloodReport> {
  const rig = await openIngressFlood(options);
  try {
    return await rig.flood(options.rate ?? 2000, options.durationMs ?? 8000);
  } finally {
    await rig.close();
  }
}

/** A process's resident set size from `/proc/PID/status`, in bytes; `NaN` when it cannot be read. */
function rssOf(pid: number): number {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? NaN : Number(kib) * 1024;
  } catch {
    return NaN;
  }
}

/** What one flood collects; the rig's handlers write into the current one. */
interface StepState {
  lags: number[];
  newest: number;
  deviceFrames: Record<string, number>;
  ackStatuses: Record<string, number>;
  pingsOut: Map<number, number>;
  setsOut: Map<number, number>;
  pongs: number[];
  acks: number[];
  resyncs: number;
  linkDrops: number;
  allAnswered: (() => void) | undefined;
}

function newStep(newest: number): StepState {
  return {
    lags: [],
    newest,
    deviceFrames: {},
    ackStatuses: {},
    pingsOut: new Map(),
    setsOut: new Map(),
    pongs: [],
    acks: [],
    resyncs: 0,
    linkDrops: 0,
    allAnswered: undefined,
  };
}

/**
 * Sets the scenario up without flooding yet: the relay (the project's server, or the bare relay),
 * the `idle` pages that never read and the reading page. Floods then run one after another on it
 * ({@link IngressFloodRig.flood}); the idle pages stay, their buffers as the last flood left them.
 */
export async function openIngressFlood(options: IngressFloodOptions): Promise<IngressFloodRig> {
  const relay = options.relay ?? FloodRelay.Sdk;
  const idle = options.idle ?? 1000;
  const localAddresses =
    options.localAddresses ??
    Array.from({ length: Math.max(4, Math.ceil(idle / 500)) }, (_, i) => `127.0.${(i + 2) >> 8}.${(i + 2) & 255}`);
  const probeEveryMs = options.probeEveryMs ?? 250;
  const answerTimeoutMs = options.answerTimeoutMs ?? 15_000;
  const rssLimitBytes = options.rssLimitBytes ?? Infinity;
  const prefix = `flood-${process.pid}-${++runs}`;
  const stampTopic = `${prefix}/status/stamp`;
  const cleanup: (() => Promise<unknown> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const step of cleanup.splice(0)) await step();
  };
  let step = newStep(-Infinity);
  try {
    let port: number;
    let path: string;
    let sessionCount: () => number;
    if (relay === FloodRelay.Sdk) {
      const device = defineDevice({
        id: 'flood',
        topics: [
          { status: stampTopic, pattern: '{stamp}' },
          { status: `${prefix}/status/gain`, pattern: '{gain}', set: `${prefix}/set/gain`, template: '{gain}' },
        ],
        fields: {
          stamp: { label: 'Published at', type: 'number', writable: false },
          gain: { label: 'Gain', type: 'integer', min: 0, max: 100, writable: true },
        },
      });
      // The written field needs a known value (a field still `null` refuses writes `forbidden`).
      const seed = await connectAsync(options.brokerUrl, { clean: true, reconnectPeriod: 0 });
      await seed.publishAsync(`${prefix}/status/gain`, '50', { qos: 1, retain: true });
      await seed.endAsync();
      const bridge: MqttBridge = createMqttBridge(device, { url: options.brokerUrl, logger: silentLogger });
      cleanup.unshift(() => bridge.close());
      await whenOnline(bridge);
      bridge.subscribe((e) => {
        if (e.type === 'availability' && !e.online) step.linkDrops++;
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
      port = (server.address() as AddressInfo).port;
      path = '/live';
      sessionCount = () => live.sessionCount;
    } else {
      const bare: BareRelay = await startBareRelay({ brokerUrl: options.brokerUrl, topic: stampTopic });
      cleanup.unshift(() => bare.close());
      port = bare.port;
      path = '/bare';
      sessionCount = () => bare.socketCount;
    }
    const hello = JSON.stringify({ type: 'hello', device: 'flood', mounts: 0 });
    const idleClients = await openPausedClients(
      { host: '127.0.0.1', port, path, protocol: SUBPROTOCOL },
      idle,
      hello,
      localAddresses,
    );
    cleanup.unshift(() => idleClients.forEach((c) => c.destroy()));

    // The reading page.
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, [SUBPROTOCOL], { perMessageDeflate: false });
    cleanup.unshift(() => ws.terminate());
    let gainRev = 0;
    let epoch = '';
    let synced!: () => void;
    const firstResync = new Promise<void>((resolve) => (synced = resolve));
    const onSdkFrame = (data: Buffer, now: number): void => {
      const parsed = parseServerFrame(data.toString('utf8'));
      if (!parsed.ok) throw new Error(`bad frame from the server: ${parsed.message}`);
      const f = parsed.frame;
      const s = step;
      switch (f.type) {
        case 'resync':
          s.resyncs++;
          gainRev = f.fields.gain?.rev ?? 0;
          epoch = f.epoch;
          if (typeof f.fields.stamp?.value === 'number') s.newest = Math.max(s.newest, f.fields.stamp.value);
          synced();
          break;
        case 'update':
          if (f.field === 'stamp' && typeof f.value === 'number') {
            s.lags.push(now - f.value);
            s.newest = Math.max(s.newest, f.value);
          } else if (f.field === 'gain') gainRev = f.rev;
          break;
        case 'pong': {
          const at = s.pingsOut.get(f.id);
          if (at !== undefined) s.pongs.push(performance.now() - at);
          s.pingsOut.delete(f.id);
          break;
        }
        case 'ack': {
          const at = s.setsOut.get(f.id);
          if (at !== undefined) s.acks.push(performance.now() - at);
          s.setsOut.delete(f.id);
          const key = f.status === 'rejected' ? `rejected/${f.reason}` : f.status;
          s.ackStatuses[key] = (s.ackStatuses[key] ?? 0) + 1;
          break;
        }
        case 'device':
          s.deviceFrames[f.status] = (s.deviceFrames[f.status] ?? 0) + 1;
          break;
        case 'error':
          throw new Error(`error frame: ${f.code} ${f.message}`);
      }
      if (s.pingsOut.size === 0 && s.setsOut.size === 0) s.allAnswered?.();
    };
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      if (relay === FloodRelay.Sdk) onSdkFrame(data, now);
      else {
        const stamp = Number(data.toString('utf8'));
        step.lags.push(now - stamp);
        step.newest = Math.max(step.newest, stamp);
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (relay === FloodRelay.Sdk) {
      ws.send(hello);
      await firstResync;
      // The first resync belongs to the set-up, not to a flood.
      step.resyncs = 0;
    }

    const flood = async (rate: number, durationMs: number): Promise<IngressFloodReport> => {
      const s = (step = newStep(step.newest));
      const publisher = await startFloodPublisher(options.brokerUrl, stampTopic, rate);
      cleanup.unshift(() => publisher.close());
      const staleness: number[] = [];
      const rssStart = process.memoryUsage.rss();
      let rssPeak = rssStart;
      const brokerStart = options.brokerPid === undefined ? NaN : rssOf(options.brokerPid);
      let brokerPeak = brokerStart;
      let stoppedAtRssLimit = false;
      let id = 0;
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const probe = setInterval(() => {
          if (Number.isFinite(s.newest)) staleness.push(Date.now() - s.newest);
          rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
          if (options.brokerPid !== undefined) brokerPeak = Math.max(brokerPeak, rssOf(options.brokerPid));
          if (relay === FloodRelay.Sdk) {
            s.pingsOut.set(++id, performance.now());
            ws.send(JSON.stringify({ type: 'ping', id }));
            if (id % 4 === 0) {
              s.setsOut.set(id, performance.now());
              ws.send(JSON.stringify({ type: 'set', id, field: 'gain', value: id % 100, rev: gainRev, epoch }));
            }
          }
          stoppedAtRssLimit = rssPeak >= rssLimitBytes;
          if (stoppedAtRssLimit || performance.now() - started >= durationMs) {
            clearInterval(probe);
            resolve();
          }
        }, probeEveryMs);
      });
      const floodMs = performance.now() - started;
      const published = await publisher.stop();
      await publisher.close();
      // Whatever is still owed must come within the timeout (counted lost otherwise).
      if (s.pingsOut.size > 0 || s.setsOut.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (s.allAnswered = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, answerTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
      return {
        relay,
        rate,
        durationMs: floodMs,
        published,
        updates: s.lags.length,
        lag: summarize(s.lags),
        staleness: summarize(staleness),
        pong: summarize(s.pongs),
        lostPings: s.pingsOut.size,
        ack: summarize(s.acks),
        lostAcks: s.setsOut.size,
        ackStatuses: s.ackStatuses,
        deviceFrames: s.deviceFrames,
        resyncs: s.resyncs,
        linkDrops: s.linkDrops,
        idleOpen: sessionCount() - 1,
        rss: { startBytes: rssStart, peakBytes: rssPeak },
        ...(options.brokerPid === undefined ? {} : { brokerRss: { startBytes: brokerStart, peakBytes: brokerPeak } }),
        stoppedAtRssLimit,
      };
    };
    return { flood, close };
  } catch (err) {
    await close();
    throw err;
  }
}
