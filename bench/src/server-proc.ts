/**
 * The server under test, in its own process (run with `--expose-gc`), for the fan-out, memory and
 * slow-consumer figures. `argv[2]` picks what it runs on one loopback port, path `/live`:
 *
 * - `ldf`: the SDK (`createLiveDeviceServer`) with a `MemoryBridge` device `bench`, so the figures
 *   measure sessions, store and hub, not a broker;
 * - `bare`: a bare `ws` server (same `ws` options as the SDK) that keeps its sockets in a Set,
 *   answers the first frame with the same resync bytes, and broadcasts the same update bytes, each
 *   update to every socket as it comes;
 * - `bare-batched` (A/B only): the same, but the updates emitted in one turn of the event loop go
 *   out together, socket by socket, as the SDK's fan-out rounds hand them out — the SDK's own cost
 *   per frame, without the advantage of its batching.
 *
 * `argv[4]`, for the SDK, is its `lagLimitMs` (default: the SDK's). The fan-out figures raise it: on a
 * loaded machine a round that falls a second behind would resync the pages instead of sending them
 * each update, and the figure measures fan-out, not the lagging protocol (status floods have their own).
 *
 * `argv[3]` is the number of counter fields `n0`, `n1`, … (default 1). Update `k` of a fan-out run
 * changes field `n{k mod fields}` to `k`: with as many fields as the fan-out's window, no two
 * updates waiting at once change the same field, so the SDK's ingress coalescing (the latest value
 * per field, docs/protocol.md rule 11) has nothing to merge and every update reaches every socket
 * as a frame of its own, as with bare `ws`.
 *
 * Both produce `update` frames of the same bytes and length,
 * `{"type":"update","field":"n3","value":K,"rev":R}`, with `R` counted from `Date.now() × 1000`
 * as the SDK's revisions are.
 * @module
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { type FieldSchema, type FieldState, SUBPROTOCOL, encodeFrame } from '@live-device-form/protocol';
import * as sdk from '@live-device-form/server';
import type { LiveDeviceServer } from '@live-device-form/server';
import * as sdkTesting from '@live-device-form/server/testing';
import type { MemoryBridge } from '@live-device-form/server/testing';
import { type MemoryReading, memoryNow, settledMemory } from './memory.js';
import { sendEvent, serveCalls } from './proc.js';
import { profileClock } from './profile-summary.js';
import { readPacing } from './util.js';

export const Impl = { Ldf: 'ldf', Bare: 'bare', BareBatched: 'bare-batched' } as const;
export type Impl = (typeof Impl)[keyof typeof Impl];

/** Text fields `t0`…`t15` of the bench device, for the slow-consumer flood. */
export const TEXT_FIELDS = 16;

const impl = process.argv[2] as Impl;
if (!(Object.values(Impl) as string[]).includes(impl))
  throw new Error(`usage: server-proc.ts ldf|bare|bare-batched [counter fields] [lagLimitMs] (got ${String(impl)})`);
const lagLimitMs = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const counters = Number(process.argv[3] ?? 1);
if (!Number.isInteger(counters) || counters < 1)
  throw new Error(`counter fields: a positive integer (got ${counters})`);

/** Fields of the bench device: counters `n0`… for fan-out, `t0`…`t15` (text) for the slow-consumer flood. */
const schema: FieldSchema[] = [
  ...Array.from({ length: counters }, (_, i): FieldSchema => ({
    name: `n${i}`,
    label: `Counter ${i}`,
    type: 'integer',
    min: 0,
    max: 1e12,
    writable: false,
  })),
  ...Array.from({ length: TEXT_FIELDS }, (_, i): FieldSchema => ({
    name: `t${i}`,
    label: `Text ${i}`,
    type: 'text',
    writable: false,
  })),
];

/** One point of a memory series. */
export interface MemorySample extends MemoryReading {
  /** Milliseconds since the flood started. */
  t: number;
  /** Bytes waiting in userland send buffers, summed over every socket. */
  buffered: number;
  /** Updates held back by coalescing (SDK only), summed over every socket. */
  queued: number;
  /** Updates emitted so far. */
  emitted: number;
}

export interface EmitArgs {
  count: number;
  window: number;
  /**
   * `burst` (default): every update the window allows is emitted at once, in one turn of the event
   * loop, as statuses that arrive together from the broker are. `spaced`: one update per turn.
   */
  pacing?: 'burst' | 'spaced';
}
export interface FloodArgs {
  /** Updates per second. */
  rate: number;
  durationMs: number;
  sampleEveryMs: number;
  /** Length of each text value. */
  valueLength: number;
}

const httpServer = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
httpServer.keepAliveTimeout = 1000;

let live: LiveDeviceServer | undefined;
const sessionWaiters = new Set<{ n: number; resolve: () => void }>();

function sessionCount(): number {
  return live ? live.sessionCount : bare.size;
}

function checkWaiters(): void {
  const count = sessionCount();
  for (const w of sessionWaiters) {
    if (count !== w.n) continue;
    sessionWaiters.delete(w);
    w.resolve();
  }
}
let bridge: MemoryBridge | undefined;
const bare = new Set<WebSocket>();
/** Revisions of the bare server, counted from where the SDK's start (its default `firstRevision`). */
let bareRev = Date.now() * 1000;

if (impl === Impl.Ldf) {
  // BENCH_SDK=<path to a build's dist/index.js> measures another build of the SDK (a candidate fix,
  // or a build from before a change) against the same baseline, same clients. Builds from before
  // `./testing` existed export MemoryBridge from the root.
  const entry = process.env.BENCH_SDK;
  const { createLiveDeviceServer, silentLogger } = (entry ? await import(entry) : sdk) as typeof sdk;
  const { MemoryBridge } = (
    entry ? await import(new URL('testing.js', pathToFileURL(entry)).href).catch(() => import(entry)) : sdkTesting
  ) as typeof sdkTesting;
  bridge = new MemoryBridge({
    id: 'bench',
    schema,
    values: Object.fromEntries(schema.map((f) => [f.name, f.type === 'text' ? '' : 0])),
  });
  // Every bench client connects from 127.0.0.1: the connection caps (which protect a deployment
  // from one address's flood) are lifted for this fleet. Their checks still run on every upgrade.
  const NO_CAPS = { total: Infinity, perAddress: Infinity, preHello: Infinity, preHelloPerAddress: Infinity };
  // BENCH_LOG=1 prints the SDK's warnings and errors (a lagging fan-out, a client cut off).
  const logger = process.env.BENCH_LOG
    ? {
        ...silentLogger,
        warn: (...a: unknown[]) => console.warn('sdk warn', ...a),
        error: (...a: unknown[]) => console.error('sdk error', ...a),
      }
    : silentLogger;
  live = createLiveDeviceServer({
    devices: [bridge],
    logger,
    connectionLimits: NO_CAPS,
    ...(lagLimitMs === undefined ? {} : { lagLimitMs }),
  });
  live.attach(httpServer);
  live.on('session-open', () => checkWaiters());
  live.on('session-close', () => checkWaiters());
} else {
  const fields: Record<string, FieldState> = {};
  for (const f of schema) fields[f.name] = { value: f.type === 'text' ? '' : 0, rev: bareRev };
  const resync = Buffer.from(encodeFrame({ type: 'resync', epoch: 'bare', device: 'online', schema, fields }));
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: 16 * 1024,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  httpServer.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      bare.add(ws);
      checkWaiters();
      ws.once('message', () => ws.send(resync, { binary: false }));
      ws.on('error', () => {});
      ws.on('close', () => {
        bare.delete(ws);
        checkWaiters();
      });
    });
  });
}

/** Emits update number `k` of field `field` to every session. */
function emitOne(field: string, value: number | string): void {
  if (bridge) {
    bridge.setStatus({ [field]: value });
    return;
  }
  const data = Buffer.from(encodeFrame({ type: 'update', field, value, rev: ++bareRev }));
  if (impl === Impl.BareBatched) {
    if (batch.length === 0) setImmediate(sendBatch);
    batch.push(data);
    return;
  }
  for (const ws of bare) ws.send(data, { binary: false });
}

/** `bare-batched`: the updates of this turn, sent socket by socket at the next. */
const batch: Buffer[] = [];
function sendBatch(): void {
  for (const ws of bare) for (const data of batch) ws.send(data, { binary: false });
  batch.length = 0;
}

// ---------------------------------------------------------------- fan-out with a window

let emitted = 0;
let completed = 0;
let target = 0;
let window = 1;

/** Update `k` of a run carries the value `k`: the clients tell how far they are by the value (rounds alternate 1…M, M ≠ 1). */
let spaced = false;
let pumpScheduled = false;
const pumpLater = (): void => {
  pumpScheduled = false;
  pump();
};

function pump(): void {
  while (emitted < target && emitted - completed < window) {
    if (spaced && pumpScheduled) return;
    emitted++;
    emitOne(`n${emitted % counters}`, emitted);
    if (spaced) {
      pumpScheduled = true;
      setImmediate(pumpLater);
      return;
    }
  }
}

function onCompleted(n: number): void {
  if (n <= completed) return;
  completed = n;
  pump();
  if (completed >= target) sendEvent('emit-done', { n: completed });
}

// The pacing link: the clients' process writes, as 4-byte big-endian integers, the highest update
// every reader has received. A direct loopback socket, so pacing is not slowed by two IPC hops.
const control = createTcpServer((socket) => {
  readPacing(socket, onCompleted);
});

// ---------------------------------------------------------------- slow consumers

function bufferedNow(): { buffered: number; queued: number } {
  let buffered = 0;
  let queued = 0;
  if (live) {
    for (const s of live.sessions()) {
      buffered += s.bufferedAmount;
      queued += s.queuedUpdates;
    }
  } else {
    for (const ws of bare) buffered += ws.bufferedAmount;
  }
  return { buffered, queued };
}

async function flood(args: FloodArgs): Promise<MemorySample[]> {
  const samples: MemorySample[] = [];
  const start = performance.now();
  let sent = 0;
  const filler = 'x'.repeat(Math.max(0, args.valueLength - 12));
  const gc = (globalThis as { gc?: () => void }).gc;
  // A full GC before each reading: the series shows what is held, not garbage not yet collected.
  const sample = (): void => {
    gc?.();
    samples.push({ t: Math.round(performance.now() - start), ...memoryNow(), ...bufferedNow(), emitted: sent });
  };
  sample();
  await new Promise<void>((resolve) => {
    const tickMs = 10;
    const ticker = setInterval(() => {
      const elapsed = performance.now() - start;
      if (elapsed >= args.durationMs) {
        clearInterval(ticker);
        clearInterval(sampler);
        sample();
        resolve();
        return;
      }
      // Catch up to the rate from the clock, so a slow tick does not lower it, but never more than
      // four ticks' worth at once: a server that cannot keep up emits less, and says so in `emitted`.
      const due = Math.min(Math.floor((elapsed / 1000) * args.rate), sent + Math.ceil((args.rate * tickMs * 4) / 1000));
      while (sent < due) {
        const k = sent++;
        emitOne(`t${k % TEXT_FIELDS}`, `${String(k).padStart(12, '0')}${filler}`);
      }
    }, tickMs);
    const sampler = setInterval(sample, args.sampleEveryMs);
  });
  return samples;
}

serveCalls(
  {
    async listen(): Promise<{ port: number; controlPort: number }> {
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
      return { port: (httpServer.address() as AddressInfo).port, controlPort: (control.address() as AddressInfo).port };
    },
    mem: (): Promise<MemoryReading> => settledMemory(),
    sessions: (): number => sessionCount(),
    /** Resolves when exactly `n` sessions are open. */
    waitSessions(args: { n: number }): Promise<void> | void {
      if (sessionCount() === args.n) return;
      return new Promise<void>((resolve) => sessionWaiters.add({ n: args.n, resolve }));
    },
    cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
    /** This process's profile clock (see profile-summary.ts), to mark the measured part of its profile. */
    clock: (): number => profileClock(),
    emit(args: EmitArgs): void {
      emitted = 0;
      completed = 0;
      target = args.count;
      window = args.window;
      spaced = args.pacing === 'spaced';
      pump();
    },

    flood: (args: FloodArgs): Promise<MemorySample[]> => flood(args),
  },
  async () => {
    await live?.close();
    for (const ws of bare) ws.terminate();
    httpServer.closeAllConnections();
    httpServer.close();
    control.close();
  },
);
