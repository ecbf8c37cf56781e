/**
 * The clients, in a process of their own so they never share the server's event loop: up to
 * 10,000 raw WebSocket clients (see the testkit's `raw-ws.ts`) that say `hello` and count `update` frames.
 * During a fan-out run it reports to the server, over a direct loopback socket and batched per
 * turn of the event loop, the highest update number every reading client has received, which
 * paces the server's window. Update `k` of a run carries the value `k`: a client that has `k`
 * has everything before it too, whether it saw each update or (with the SDK's ingress coalescing,
 * docs/protocol.md rule 11) only the latest of several.
 * @module
 */
import { connect, type Socket } from 'node:net';
import { FrameKind, type RawHandlers, type RawTarget, RawWsClient } from '@live-device-form/testkit';
import { serveCalls } from './proc.js';

export interface ConnectArgs {
  target: RawTarget;
  n: number;
  /** The first frame each client sends (the hello). */
  hello: string;
  /** Upgrades in flight at once. */
  concurrency: number;
  /** Stop reading after the upgrade: a consumer that never reads. */
  pause?: boolean;
  /** What counts as "ready": the resync frame (default), or any first text frame (bare relays). */
  waitFor?: 'resync' | 'any';
}

const clients: RawWsClient[] = [];
let readers = 0;
let synced = 0;
const syncedIds = new Set<number>();
const readyOnAny = new Set<number>();
let syncWaiter: { want: number; resolve: () => void } | undefined;

// Completion of a fan-out run: reached[k] = how many reading clients have update k (or a later one).
let reached = new Int32Array(1);
/** The highest update number each client has received in this run. */
let highest = new Int32Array(0);
let expectCount = 0;
let completed = 0;
let reportScheduled = false;

let control: Socket | undefined;

function report(): void {
  reportScheduled = false;
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(completed, 0);
  control?.write(b);
}

const VALUE_KEY = Buffer.from('"value":');

/** The value of an `update` frame of the counter field (a non-negative integer), read without JSON.parse. */
function updateNumber(payload: Buffer): number {
  let at = payload.indexOf(VALUE_KEY);
  if (at < 0) return 0;
  at += VALUE_KEY.length;
  let n = 0;
  for (let c = payload[at]; c !== undefined && c >= 48 && c <= 57; c = payload[++at]) n = n * 10 + (c - 48);
  return n;
}

const handlers: RawHandlers = {
  onText(client, kind, payload) {
    if (kind === FrameKind.Update) {
      if (expectCount === 0) return;
      const value = updateNumber(payload);
      const from = highest[client.id] ?? 0;
      if (value <= from) return;
      const to = Math.min(value, expectCount);
      highest[client.id] = value;
      for (let k = from + 1; k <= to; k++) {
        if (++(reached[k] as number) === readers && k > completed) completed = k;
      }
      if (completed > 0 && !reportScheduled) {
        reportScheduled = true;
        setImmediate(report);
      }
      return;
    }
    if ((kind === FrameKind.Resync || readyOnAny.has(client.id)) && !syncedIds.has(client.id)) {
      syncedIds.add(client.id);
      synced++;
      if (syncWaiter && synced >= syncWaiter.want) {
        syncWaiter.resolve();
        syncWaiter = undefined;
      }
    }
  },
  onClose() {},
};

async function connectAll(args: ConnectArgs): Promise<{ ms: number }> {
  const start = performance.now();
  const first = clients.length;
  let next = 0;
  const want = synced + (args.pause ? 0 : args.n);
  const worker = async (): Promise<void> => {
    while (next < args.n) {
      const i = next++;
      const c = new RawWsClient(first + i, handlers);
      clients[first + i] = c;
      if (args.waitFor === 'any') readyOnAny.add(c.id);
      await c.open(args.target, args.hello, args.pause === true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.n) }, worker));
  if (!args.pause) {
    readers += args.n;
    if (synced < want) await new Promise<void>((resolve) => (syncWaiter = { want, resolve }));
  }
  return { ms: performance.now() - start };
}

serveCalls(
  {
    connect: (args: ConnectArgs) => connectAll(args),
    /** Opens the pacing link to the server's control port (see server-proc.ts). */
    control(args: { port: number }): Promise<void> {
      return new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: args.port }, () => {
          socket.setNoDelay(true);
          control = socket;
          resolve();
        });
        socket.once('error', reject);
      });
    },
    /** Starts counting a run of `count` updates from now. */
    expect(args: { count: number }): void {
      expectCount = args.count;
      completed = 0;
      reached = new Int32Array(args.count + 1);
      highest = new Int32Array(clients.length);
    },
    cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
    /** Updates received so far, over every client. */
    received: (): number => clients.reduce((sum, c) => sum + c.updates, 0),
    close(): void {
      for (const c of clients) c.destroy();
      clients.length = 0;
      readers = 0;
      synced = 0;
      syncedIds.clear();
      readyOnAny.clear();
    },
  },
  () => {
    for (const c of clients) c.destroy();
  },
);
