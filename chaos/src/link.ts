/**
 * One protocol client socket (Node `ws`), as the chaos clients use it: it keeps what the server
 * showed it (each field's latest value and revision), and lets the client await a frame, an ack
 * or the resync without sleeping. It parses frames as plain JSON and trusts nothing.
 * @module
 */
import WebSocket from 'ws';
import { SUBPROTOCOL } from '@live-device-form/protocol';

/** A field's value and revision as the server showed them. */
export interface Shown {
  value: unknown;
  rev: number;
}

/** What an ack said. */
export interface SeenAck {
  status: string;
  reason?: string;
}

type Frame = Record<string, unknown>;

/** A client socket through the proxy. */
export class Link {
  readonly ws: WebSocket;
  /** Resolves `true` when open, `false` if it failed or closed first. */
  readonly opened: Promise<boolean>;
  /** Resolves when the socket closed (or was terminated). */
  readonly closed: Promise<void>;
  /** Each field's latest value and revision on this socket. */
  readonly fields = new Map<string, Shown>();
  /** The epoch of this socket's resync. */
  epoch: string | undefined;
  /** Resyncs received. */
  resyncs = 0;
  /** Whether the latest resync/device frame said the device is online. */
  online = false;
  /** Frames received, any kind. */
  received = 0;
  /** Acks received by set id. */
  readonly acks = new Map<number, SeenAck>();
  private nextId = 0;
  private isClosed = false;
  private waiters: { pred: (f: Frame) => boolean; resolve: (ok: boolean) => void }[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url, [SUBPROTOCOL], { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
      this.ws.once('error', () => resolve(false));
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w.resolve(false);
        resolve();
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => this.onMessage(String(data)));
  }

  get isOpen(): boolean {
    return !this.isClosed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Whether the socket has a resync and the device is online: writes may be judged. */
  get live(): boolean {
    return this.isOpen && this.resyncs > 0 && this.online;
  }

  private onMessage(text: string): void {
    let frame: Frame;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) return;
      frame = parsed as Frame;
    } catch {
      return;
    }
    this.received++;
    switch (frame.type) {
      case 'resync': {
        this.resyncs++;
        this.epoch = typeof frame.epoch === 'string' ? frame.epoch : undefined;
        this.online = frame.device === 'online';
        const fields = frame.fields as Record<string, Shown> | undefined;
        this.fields.clear();
        for (const [name, state] of Object.entries(fields ?? {}))
          this.fields.set(name, { value: state.value, rev: state.rev });
        break;
      }
      case 'update':
        this.fields.set(String(frame.field), { value: frame.value, rev: Number(frame.rev) });
        break;
      case 'device':
        this.online = false;
        break;
      case 'ack': {
        const ack: SeenAck = { status: String(frame.status) };
        if (typeof frame.reason === 'string') ack.reason = frame.reason;
        this.acks.set(Number(frame.id), ack);
        // A rejection shows the field's current state too.
        if (typeof frame.field === 'string' && typeof frame.rev === 'number') {
          const current = this.fields.get(frame.field);
          if (!current || current.rev <= frame.rev)
            this.fields.set(frame.field, { value: frame.value, rev: frame.rev });
        }
        break;
      }
      default:
        break;
    }
    if (this.waiters.length > 0) {
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(true);
        return false;
      });
    }
  }

  /** Sends a frame if the socket is open (a half-dead socket takes it and loses it). Returns whether it was handed over. */
  send(frame: object): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  hello(device: string, mounts: number): boolean {
    return this.send({ type: 'hello', device, mounts });
  }

  /**
   * Sends a `set` based on revision `rev` of epoch `epoch` (by default this socket's resync's);
   * returns its id, or `undefined` if the socket was not open.
   */
  set(field: string, value: unknown, rev: number, epoch = this.epoch ?? 'none'): number | undefined {
    const id = ++this.nextId;
    return this.send({ type: 'set', id, field, value, rev, epoch }) ? id : undefined;
  }

  /** Resolves `true` when a frame matching `pred` arrives, `false` on close or after `timeoutMs`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter = {
        pred,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves `true` once the socket is live (resync received and the device online). */
  waitLive(timeoutMs: number): Promise<boolean> {
    if (this.live) return Promise.resolve(true);
    return this.waitFor(() => this.live, timeoutMs);
  }

  /** Resolves `true` when every id has its ack, `false` on close or timeout. */
  waitAcks(ids: readonly number[], timeoutMs: number): Promise<boolean> {
    const done = (): boolean => ids.every((id) => this.acks.has(id));
    if (done()) return Promise.resolve(true);
    return this.waitFor(done, timeoutMs);
  }

  /** Closes with a normal closing handshake. */
  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  /** Drops the socket at once (what a browser does with a link it has given up on). */
  terminate(): void {
    this.ws.terminate();
  }
}
