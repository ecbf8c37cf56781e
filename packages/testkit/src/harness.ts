/**
 * Test harness for the server SDK: a real HTTP server on 127.0.0.1 (free port), the SDK attached,
 * a MemoryBridge as the device, and real `ws` clients that record every frame and can await the
 * next one matching a predicate. Not part of the build.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import {
  type AckFrame,
  type FieldSchema,
  type ServerFrame,
  SUBPROTOCOL,
  parseServerFrame,
} from '@live-device-form/protocol';
import { type LiveDeviceServer, type LiveDeviceServerOptions, createLiveDeviceServer } from '@live-device-form/server';
import {
  MemoryBridge,
  type MemoryBridgeOptions,
  type RecordingLogger,
  recordingLogger,
} from '@live-device-form/server/testing';

export const SCHEMA: FieldSchema[] = [
  { name: 'genlock_phase_h', label: 'Phase Horizontal', type: 'integer', min: -512, max: 511, writable: true },
  { name: 'genlock_phase_v', label: 'Phase Vertical', type: 'integer', min: -512, max: 511, writable: true },
  { name: 'gain', label: 'Gain', type: 'number', min: -10, max: 10, step: 0.5, unit: 'dB', writable: true },
  { name: 'standard', label: 'Standard', type: 'enum', options: [{ value: 'ntsc' }, { value: 'pal' }], writable: true },
  { name: 'name', label: 'Name', type: 'text', maxLength: 1024, writable: true },
  { name: 'mute', label: 'Mute', type: 'boolean', writable: true },
  { name: 'temperature', label: 'Temperature', type: 'number', unit: '°C', writable: false },
];

export const VALUES = {
  genlock_phase_h: -25,
  genlock_phase_v: 10,
  gain: 0,
  standard: 'pal',
  name: 'cam 1',
  mute: false,
  temperature: 41.5,
};

export function makeBridge(options: Partial<MemoryBridgeOptions> = {}): MemoryBridge {
  return new MemoryBridge({
    id: 'videoproc',
    schema: SCHEMA,
    values: { ...VALUES },
    composite: [['genlock_phase_h', 'genlock_phase_v']],
    ...options,
  });
}

export interface Harness {
  live: LiveDeviceServer;
  http: http.Server;
  bridge: MemoryBridge;
  log: RecordingLogger;
  port: number;
  /** `ws://127.0.0.1:PORT/live` */
  url: string;
  /** Opens a client, resolved when open. */
  connect(options?: ConnectOptions): Promise<TestClient>;
  /** A client that has said hello and received its first resync. */
  join(mounts?: number): Promise<{ client: TestClient; resync: Extract<ServerFrame, { type: 'resync' }> }>;
  stop(): Promise<void>;
}

export interface HarnessOptions extends Partial<LiveDeviceServerOptions> {
  bridge?: MemoryBridge;
  /** Route upgrades by hand instead of `attach`. */
  onUpgrade?: (live: LiveDeviceServer) => (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
}

const running = new Set<Harness>();

/** Starts a server; {@link stopAll} in `afterEach` stops it. */
export async function startServer(options: HarnessOptions = {}): Promise<Harness> {
  const { bridge = makeBridge(), onUpgrade, ...rest } = options;
  const log = recordingLogger();
  // Revisions from 0, so tests can name them, and every log entry kept, so tests can count them;
  // the clock-based revisions and the log rate limit have tests of their own.
  const live = createLiveDeviceServer({
    devices: [bridge],
    logger: log,
    firstRevision: 0,
    logThrottleMs: 0,
    ...rest,
  });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  if (onUpgrade) server.on('upgrade', onUpgrade(live));
  else live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `ws://127.0.0.1:${port}${rest.path ?? '/live'}`;
  const clients = new Set<TestClient>();
  const harness: Harness = {
    live,
    http: server,
    bridge,
    log,
    port,
    url,
    async connect(connectOptions = {}) {
      const client = await TestClient.connect(connectOptions.url ?? url, connectOptions);
      clients.add(client);
      return client;
    },
    async join(mounts = 0) {
      const client = await harness.connect();
      client.hello(mounts);
      const resync = await client.next((f) => f.type === 'resync');
      return { client, resync: resync as Extract<ServerFrame, { type: 'resync' }> };
    },
    async stop() {
      running.delete(harness);
      for (const c of clients) c.ws.terminate();
      await live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bridge.close();
    },
  };
  running.add(harness);
  return harness;
}

/** Stops every server started by {@link startServer}. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((h) => h.stop()));
}

export interface ConnectOptions {
  url?: string;
  protocols?: string[];
  origin?: string;
  headers?: Record<string, string>;
  /** Answer WebSocket pings. Defaults to true. */
  autoPong?: boolean;
  /** Local address to connect from (any of 127.0.0.0/8 on Linux: a second client source). */
  localAddress?: string;
  /** CA certificate(s) to trust for `wss://`. Defaults to Node's. */
  ca?: string | Buffer;
}

interface Waiter {
  pred: (f: ServerFrame) => boolean;
  resolve: (f: ServerFrame) => void;
}

/** A real `ws` client that records frames; every frame must pass the protocol's own parser. */
export class TestClient {
  /** Every frame received, in order. */
  readonly frames: ServerFrame[] = [];
  /** The epoch of the latest `resync` received; {@link set} sends it. */
  epoch: string | undefined;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly unread: ServerFrame[] = [];
  private readonly waiters = new Set<Waiter>();

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => {
      const parsed = parseServerFrame(data.toString());
      if (!parsed.ok) throw new Error(`server sent a bad frame: ${parsed.message}: ${data.toString().slice(0, 200)}`);
      const frame = parsed.frame;
      this.frames.push(frame);
      if (frame.type === 'resync') this.epoch = frame.epoch;
      for (const w of this.waiters) {
        if (w.pred(frame)) {
          this.waiters.delete(w);
          w.resolve(frame);
          return;
        }
      }
      this.unread.push(frame);
    });
    ws.on('error', () => {});
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const headers: Record<string, string> = { ...options.headers };
    const ws = new WebSocket(url, options.protocols ?? [SUBPROTOCOL], {
      headers,
      autoPong: options.autoPong ?? true,
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
    return new Promise((resolve, reject) => {
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new HttpRefusal(res.statusCode ?? 0)));
      ws.once('error', reject);
    });
  }

  /** Resolves with the first unread frame matching `pred` (now or later), and marks it read. */
  next<T extends ServerFrame = ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 3000): Promise<T> {
    const i = this.unread.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.unread.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; received: ${JSON.stringify(this.frames.slice(-5))}`),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** The ack for a set id. */
  ack(id: number, timeoutMs?: number): Promise<AckFrame> {
    return this.next<AckFrame>((f) => f.type === 'ack' && f.id === id, timeoutMs);
  }

  /** Every ack received so far for a set id. */
  acksFor(id: number): AckFrame[] {
    return this.frames.filter((f): f is AckFrame => f.type === 'ack' && f.id === id);
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  hello(mounts = 0, device = 'videoproc', token?: string): void {
    this.send(token === undefined ? { type: 'hello', device, mounts } : { type: 'hello', device, mounts, token });
  }

  /** Sends a `set`; `epoch` defaults to the latest resync's (`"none"` before one). */
  set(id: number, field: string, value: unknown, rev: number, epoch = this.epoch ?? 'none'): void {
    this.send({ type: 'set', id, field, value, rev, epoch });
  }

  /** Sends a ping and awaits its pong: every frame the server sent before it has arrived. */
  async roundTrip(id = 999_999): Promise<void> {
    this.send({ type: 'ping', id });
    await this.next((f) => f.type === 'pong' && f.id === id);
  }
}

/** The HTTP status an upgrade was refused with. */
export class HttpRefusal extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

/** The HTTP status a refused upgrade got (fails if the upgrade succeeds). */
export async function refusal(url: string, options: ConnectOptions = {}): Promise<number> {
  try {
    const client = await TestClient.connect(url, options);
    client.ws.terminate();
  } catch (err) {
    if (err instanceof HttpRefusal) return err.status;
    throw err;
  }
  throw new Error('upgrade was accepted');
}

/** Resolves when `fn` returns true, polling each event-loop turn (for server-side state with no event). */
export async function until(fn: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
