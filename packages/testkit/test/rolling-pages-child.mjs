/**
 * The protocol clients of the rolling restart test (rolling-restart.test.ts), in a process of
 * their own so that the test process (HAProxy's runtime API, Chromium, the broker witness) is not
 * their bottleneck, nor they its. Each client behaves like a page: `hello` (its `mounts` counting
 * the resyncs it had), one write at a time from the latest revision it saw, every `writeEveryMs`;
 * when its socket closes after a resync it reconnects at once, then with the element's backoff
 * (docs/protocol.md, *A minimal client*, step 6). Driven over IPC:
 *
 * - `{ type: 'start', url, origin, n, writeEveryMs }` → `{ type: 'synced' }` once every client had its first resync;
 * - `{ type: 'status' }` → `{ type: 'status', live, accepted }`: clients past a resync now, writes accepted so far;
 * - `{ type: 'await', live?, accepted?, pending?, epoch? }` → `{ type: 'awaited' }` once at least
 *   that many are (`pending`: writes awaiting their ack on sockets whose resync had `epoch`, i.e. on
 *   one server process);
 * - `{ type: 'stop' }` → writing stops, the writes still awaiting their ack get it (or their socket
 *   closes), then `{ type: 'report', … }` (see {@link report}).
 */
import { Backoff } from '@live-device-form/protocol';
import WebSocket from 'ws';

/** The fields the clients write, by client number, and the value of write `k` of a client. */
const FIELDS = [
  { field: 'genlock_phase_h', value: (k) => (k % 1024) - 512 },
  { field: 'audio_delay', value: (k) => k % 501 },
  { field: 'brightness', value: (k) => (k % 201) / 2 },
];

const now = () => performance.timeOrigin + performance.now();

let options;
let writing = true;
const clients = [];

class Client {
  constructor(n) {
    this.n = n;
    this.spec = FIELDS[n % FIELDS.length];
    this.mounts = 0;
    this.nextId = 1;
    this.writes = 0;
    /** The write awaiting its ack: `{ id, value }`. */
    this.pending = undefined;
    this.rev = 0;
    this.epoch = 'none';
    this.live = false;
    /** When the socket of a synced session closed, until the next resync. */
    this.closedAt = undefined;
    this.backoff = new Backoff();
    /** `{ closedAt, code, resyncAt, refusals }` per socket lost after a resync. */
    this.reconnects = [];
    this.refusals = 0;
    /** Every write: `{ field, value, status, reason }`; `status` `none` when the socket closed first. */
    this.sets = [];
    this.timer = undefined;
  }

  connect() {
    const ws = new WebSocket(options.url, 'ldf.v1', { origin: options.origin });
    this.ws = ws;
    let synced = false;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', device: 'videoproc', mounts: this.mounts })));
    ws.on('unexpected-response', (_req, res) => {
      this.refusals++;
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.type === 'resync') {
        synced = true;
        this.mounts++;
        this.live = true;
        this.epoch = f.epoch;
        this.rev = f.fields[this.spec.field]?.rev ?? 0;
        this.backoff.reset();
        if (this.closedAt !== undefined) {
          this.reconnects.push({
            closedAt: this.closedAt,
            code: this.closeCode,
            resyncAt: now(),
            refusals: this.refusals,
          });
          this.closedAt = undefined;
          this.refusals = 0;
        }
        onSynced();
        checkAwait();
        this.schedule();
      } else if (f.type === 'update' && f.field === this.spec.field) {
        this.rev = Math.max(this.rev, f.rev);
      } else if (f.type === 'ack' && this.pending?.id === f.id) {
        const { value } = this.pending;
        this.pending = undefined;
        this.sets.push({ field: this.spec.field, value, status: f.status, reason: f.reason });
        if (f.rev !== undefined) this.rev = Math.max(this.rev, f.rev);
        checkAwait();
        if (!writing) maybeDone();
      }
    });
    ws.on('close', (code) => {
      this.live = false;
      clearTimeout(this.timer);
      if (this.pending) {
        // Sent as the server's close was on its way: dropped unread, or answered… never, here.
        this.sets.push({ field: this.spec.field, value: this.pending.value, status: 'none' });
        this.pending = undefined;
      }
      if (!writing) {
        maybeDone();
        return;
      }
      if (synced) {
        this.closedAt = now();
        this.closeCode = code;
        // The first attempt after a synced socket has no delay (as the element's).
        this.connect();
      } else {
        setTimeout(() => this.connect(), this.backoff.next());
      }
    });
  }

  schedule() {
    clearTimeout(this.timer);
    // Jittered, so that 200 clients do not write in lockstep.
    this.timer = setTimeout(() => this.write(), options.writeEveryMs * (0.5 + Math.random()));
  }

  write() {
    if (!writing || !this.live) return;
    if (this.pending === undefined) {
      const value = this.spec.value(this.n * 7 + this.writes++);
      const id = this.nextId++;
      this.pending = { id, value };
      this.ws.send(
        JSON.stringify({ type: 'set', id, field: this.spec.field, value, rev: this.rev, epoch: this.epoch }),
      );
    }
    this.schedule();
  }
}

let syncWanted = true;
function onSynced() {
  if (syncWanted && clients.every((c) => c.mounts > 0)) {
    syncWanted = false;
    process.send({ type: 'synced' });
  }
}

const status = () => ({
  live: clients.filter((c) => c.live).length,
  accepted: clients.reduce((n, c) => n + c.sets.filter((s) => s.status === 'accepted').length, 0),
  reconnects: clients.reduce((n, c) => n + c.reconnects.length, 0),
});

/** The condition of an `await` message, until it holds. */
let awaited;
function checkAwait() {
  if (!awaited) return;
  const s = status();
  const pending = clients.filter((c) => c.pending !== undefined && c.epoch === awaited.epoch).length;
  if (s.live >= (awaited.live ?? 0) && s.accepted >= (awaited.accepted ?? 0) && pending >= (awaited.pending ?? 0)) {
    awaited = undefined;
    process.send({ type: 'awaited' });
  }
}

let stopping = false;
function maybeDone() {
  if (!stopping || clients.some((c) => c.pending !== undefined)) return;
  stopping = false;
  for (const c of clients) c.ws.terminate();
  process.send({ type: 'report', ...report() });
}

/**
 * What the parent asserts on: every write's field, value and outcome; every reconnect (close to
 * resync, in ms, and the 503s on the way); close codes.
 */
function report() {
  return {
    sets: clients.flatMap((c) => c.sets),
    reconnects: clients.flatMap((c) =>
      c.reconnects.map((r) => ({
        ms: r.resyncAt - r.closedAt,
        code: r.code,
        refusals: r.refusals,
        closedAt: r.closedAt,
      })),
    ),
    notLive: clients.filter((c) => !c.live).length,
  };
}

process.on('message', (m) => {
  switch (m.type) {
    case 'start':
      options = m;
      for (let i = 0; i < m.n; i++) clients.push(new Client(i));
      for (const c of clients) c.connect();
      break;
    case 'status':
      process.send({ type: 'status', ...status() });
      break;
    case 'await':
      awaited = m;
      checkAwait();
      break;
    case 'stop':
      writing = false;
      stopping = true;
      for (const c of clients) clearTimeout(c.timer);
      maybeDone();
      break;
    default:
      break;
  }
});
process.on('disconnect', () => process.exit(0));
