/**
 * A deliberately NAIVE protocol-v1 client, the way LiveView's form recovery and socket.io's send
 * buffer behave (packages/demo/README.md, "The protection switch and the naive client"). It exists to show the bug the element cannot produce:
 *
 * - its inputs stay editable while the socket is down, and edits made then are queued;
 * - right after reconnecting (before the server's resync) it sends the queued edits, then
 *   re-submits EVERY input of its form, each with the last revision it knew.
 *
 * With the server's protection on, every one of those writes is refused (`guard` during the
 * reconnect guard, `stale` once the revision check sees the device moved on). With protection
 * off, they reach the broker and reset the hardware to the page's old values.
 *
 * Do not copy this client. Use `<live-device-form>`.
 * @module
 */
import {
  type FieldSchema,
  type FieldValue,
  type ServerFrame,
  type WritableValue,
  SUBPROTOCOL,
  encodeFrame,
  parseServerFrame,
} from '@live-device-form/protocol';

/** Where the naive client is. */
export const NaiveState = {
  Connecting: 'connecting',
  Open: 'open',
  Down: 'down',
} as const;
export type NaiveState = (typeof NaiveState)[keyof typeof NaiveState];

/** One line of the client's own activity list. */
export interface NaiveEvent {
  time: number;
  text: string;
  kind: 'sent' | 'replayed' | 'accepted' | 'rejected' | 'info';
}

/** Milliseconds between reconnect attempts: fixed, no backoff (naive). */
const RETRY_MS = 1000;

/** Events kept for the panel. */
const EVENT_LIMIT = 40;

export class NaiveClient {
  state: NaiveState = NaiveState.Connecting;
  schema: FieldSchema[] = [];
  /** What the form's inputs hold: the last value seen from the server, or the user's edit. */
  readonly inputs = new Map<string, WritableValue>();
  /** The last revision seen per field. */
  readonly revs = new Map<string, number>();
  /**
   * The epoch of the last resync seen. Replays after a reconnect carry it, as they carry the old
   * revisions: the server refuses them `stale` when it restarted meanwhile (docs/protocol.md rule 3).
   */
  epoch = '';
  /** Edits made while the socket was down, to be sent on reconnect. */
  queue: { field: string; value: WritableValue; rev: number }[] = [];
  readonly events: NaiveEvent[] = [];
  /** Writes the server refused, and accepted, since the page loaded. */
  readonly counts = { sent: 0, accepted: 0, rejected: 0 };

  #ws: WebSocket | null = null;
  #mounts = 0;
  #synced = false;
  #nextId = 0;
  readonly #pending = new Map<number, { field: string; value: WritableValue }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    private readonly url: string,
    private readonly device: string,
    private readonly changed: () => void,
  ) {}

  /** Opens the first socket. */
  start(): void {
    if (!this.#stopped && this.#ws === null && this.#timer === undefined) this.#connect();
  }

  /** The user edited an input: sent now if connected, queued otherwise. */
  edit(field: string, value: WritableValue): void {
    this.inputs.set(field, value);
    const rev = this.revs.get(field) ?? 0;
    if (this.state === NaiveState.Open && this.#synced) this.#send(field, value, rev, 'sent');
    else {
      this.queue.push({ field, value, rev });
      this.#log('info', `queued ${field} = ${String(value)} (offline)`);
    }
    this.changed();
  }

  #connect(): void {
    this.#timer = undefined;
    this.state = NaiveState.Connecting;
    this.changed();
    const ws = new WebSocket(this.url, SUBPROTOCOL);
    this.#ws = ws;
    this.#synced = false;
    ws.onopen = () => {
      this.state = NaiveState.Open;
      ws.send(encodeFrame({ type: 'hello', device: this.device, mounts: this.#mounts }));
      if (this.#mounts > 0) this.#recover();
      this.changed();
    };
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onclose = () => {
      if (this.#ws !== ws || this.#stopped) return;
      this.#ws = null;
      const wasOpen = this.state === NaiveState.Open;
      this.state = NaiveState.Down;
      this.#pending.clear();
      if (wasOpen) this.#log('info', 'connection lost; inputs stay editable, edits are queued');
      this.#timer = setTimeout(() => this.#connect(), RETRY_MS);
      this.changed();
    };
  }

  /** Form recovery: the queued edits, then every input, right away, with the revisions known before the outage. */
  #recover(): void {
    const queued = this.queue;
    this.queue = [];
    const done = new Set<string>();
    for (const q of queued) {
      this.#send(q.field, q.value, q.rev, 'replayed');
      done.add(q.field);
    }
    for (const s of this.schema) {
      const value = this.inputs.get(s.name);
      if (!s.writable || value === undefined || done.has(s.name)) continue;
      this.#send(s.name, value, this.revs.get(s.name) ?? 0, 'replayed');
    }
  }

  #send(field: string, value: WritableValue, rev: number, kind: 'sent' | 'replayed'): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const id = ++this.#nextId;
    this.#pending.set(id, { field, value });
    ws.send(encodeFrame({ type: 'set', id, field, value, rev, epoch: this.epoch }));
    this.counts.sent++;
    this.#log(kind, `${kind === 'replayed' ? 'replayed' : 'sent'} ${field} = ${String(value)} (rev ${rev})`);
  }

  #receive(data: unknown): void {
    const r = parseServerFrame(data);
    if (!r.ok) {
      this.#log('info', `unreadable frame ignored: ${r.message}`);
      this.changed();
      return;
    }
    const f: ServerFrame = r.frame;
    switch (f.type) {
      case 'resync':
        if (!this.#synced) this.#mounts++;
        this.#synced = true;
        this.epoch = f.epoch;
        this.schema = f.schema;
        for (const [name, st] of Object.entries(f.fields)) this.#take(name, st.value, st.rev);
        this.#log('info', `resync (device ${f.device})`);
        break;
      case 'update':
        this.#take(f.field, f.value, f.rev);
        break;
      case 'ack': {
        const w = this.#pending.get(f.id);
        this.#pending.delete(f.id);
        const what = w ? `${w.field} = ${String(w.value)}` : `#${f.id}`;
        if (f.status === 'rejected') {
          this.counts.rejected++;
          this.#log('rejected', `${what}: rejected (${f.reason})`);
        } else {
          this.counts.accepted++;
          this.#log('accepted', `${what}: ${f.status}`);
        }
        break;
      }
      case 'device':
        this.#log('info', 'device offline');
        break;
      case 'pong':
      case 'error':
        break;
    }
    this.changed();
  }

  #take(field: string, value: FieldValue, rev: number): void {
    this.revs.set(field, rev);
    if (value !== null) this.inputs.set(field, value);
  }

  #log(kind: NaiveEvent['kind'], text: string): void {
    this.events.push({ time: Date.now(), text, kind });
    if (this.events.length > EVENT_LIMIT) this.events.shift();
  }

  /** Stops for good. */
  close(): void {
    clearTimeout(this.#timer);
    this.#stopped = true;
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
  }
}
