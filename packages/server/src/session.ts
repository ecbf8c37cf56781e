/**
 * One session per socket: hello, authorization, the reconnect guard, resync, updates, acks, bad
 * input, rate limits, heartbeat and slow readers — DESIGN §3 rules 1–10 for one client.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import {
  type ErrorCode,
  type HelloFrame,
  type RejectReason,
  type RejectedAck,
  type ServerFrame,
  type SetFrame,
  ERROR_CLOSE_CODES,
  MAX_SERVER_FRAME_BYTES,
  checkValue,
  encodeFrame,
  parseClientFrame,
} from '@live-device-form/protocol';
import { type FreshestValue, WriteOutcome } from './bridge.js';
import type { DeviceHub, HubMember } from './hub.js';
import type { AuthorizeGrant, AuthorizeResult, ResolvedOptions } from './options.js';
import { FLOOD_FACTOR } from './options.js';
import { TokenBucket } from './rate-limit.js';

/** Where a session is in its life. Every handler checks it first. */
export const SessionState = {
  /** Connected; waiting for `hello` (within `helloTimeoutMs`). */
  AwaitingHello: 'awaiting-hello',
  /** `hello` received; token, device and `authorize` being checked. Sets are refused `guard`. */
  Authorizing: 'authorizing',
  /** A reconnect (`mounts > 0`) inside its guard: sets are refused `guard`, no frames are sent. */
  Guarded: 'guarded',
  /** Resync sent (or waiting for a slow reader's buffer to drain); updates flow, sets are judged. */
  Live: 'live',
  /** Closed or closing; nothing more is sent. */
  Closed: 'closed',
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** A session as the server reports it. */
export interface SessionInfo {
  id: string;
  state: SessionState;
  /** The device id, once `hello` named a known one. */
  device: string | undefined;
  /** The user `authorize` named. */
  user: string | undefined;
  /** `hello.mounts`. */
  mounts: number | undefined;
  remoteAddress: string | undefined;
  /** Bytes waiting in the socket's send buffer. */
  bufferedAmount: number;
  /** Field updates held back for a slow reader (at most one per field). */
  queuedUpdates: number;
}

/** Counters across every session of a server: the "every set gets exactly one ack" invariant. */
export interface ServerStats {
  /** Sessions open now. */
  sessions: number;
  /** `set` frames received with a readable `id`. */
  sets: number;
  /** Acks issued for them (sent, or due to a socket that had closed). Equals `sets` once no write is in flight. */
  acks: number;
  /** Of `acks`, those that could not be sent because the socket had closed. */
  undeliveredAcks: number;
  /** Writes handed to a bridge and not yet ended. */
  writesInFlight: number;
}

/** What a session needs from its server. @internal */
export interface SessionHost {
  readonly options: ResolvedOptions;
  /** Read at every use: `setProtection` changes it at run time. */
  readonly protection: { readonly guardMs: number; readonly checkRevisions: boolean };
  readonly counters: ServerStats;
  device(id: string): DeviceHub | undefined;
  sessionClosed(session: Session, code: number): void;
}

/** `ws.send` options of every frame: the bytes are always UTF-8 JSON text. */
const TEXT = Object.freeze({ binary: false });

/** Longest `message` in a rejection ack or error frame (clients accept 1024). */
const MAX_MESSAGE = 512;

const OUTCOMES: ReadonlySet<unknown> = new Set(Object.values(WriteOutcome));

/** Compares secrets in constant time: hashing first makes the lengths equal too. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function toGrant(result: AuthorizeResult | undefined): AuthorizeGrant | undefined {
  if (result === true) return {};
  if (typeof result !== 'object' || result === null) return undefined;
  const grant: AuthorizeGrant = {};
  if (typeof result.user === 'string') grant.user = result.user;
  if (typeof result.canWrite === 'function') grant.canWrite = result.canWrite;
  return grant;
}

function rawText(data: RawData, isBinary: boolean): string | undefined {
  if (isBinary) return undefined;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** @internal */
export class Session implements HubMember {
  readonly id: string;
  private state: SessionState = SessionState.AwaitingHello;
  private request: IncomingMessage | undefined;
  private hub: DeviceHub | undefined;
  private grant: AuthorizeGrant | undefined;
  private mounts: number | undefined;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private guardTimer: ReturnType<typeof setTimeout> | undefined;
  /** Cleared at every heartbeat, set by every pong. */
  private alive = true;
  private readonly rate: TokenBucket;
  private readonly flood: TokenBucket;
  /** Slow reader: the latest `update` of each field held back, in the order they were last changed. */
  private readonly queue = new Map<string, Buffer>();
  /** A resync is due but the send buffer is full; it replaces every queued update when it goes. */
  private resyncPending = false;
  private readonly remoteAddress: string | undefined;
  private readonly closedPromise: Promise<void>;
  private readonly o: ResolvedOptions;

  constructor(
    id: string,
    private readonly ws: WebSocket,
    request: IncomingMessage,
    private readonly host: SessionHost,
  ) {
    this.id = id;
    this.o = host.options;
    this.request = request;
    this.remoteAddress = request.socket.remoteAddress;
    this.rate = new TokenBucket(this.o.rateLimit.burst, this.o.rateLimit.perSecond);
    this.flood = new TokenBucket(this.o.rateLimit.burst * FLOOD_FACTOR, this.o.rateLimit.perSecond * FLOOD_FACTOR);
    this.closedPromise = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.guarded('message', () => this.onMessage(data, isBinary)));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => this.o.logger.warn({ session: this.id, err }, 'socket error'));
    ws.on('close', (code) => this.guarded('close', () => this.onClose(code)));
    this.helloTimer = setTimeout(() => this.guarded('hello timer', () => this.onHelloTimeout()), this.o.helloTimeoutMs);
  }

  /** A snapshot for `LiveDeviceServer.sessions()`. */
  info(): SessionInfo {
    return {
      id: this.id,
      state: this.state,
      device: this.hub?.store.id,
      user: this.grant?.user,
      mounts: this.mounts,
      remoteAddress: this.remoteAddress,
      bufferedAmount: this.ws.bufferedAmount,
      queuedUpdates: this.queue.size,
    };
  }

  /** Called by the server's heartbeat interval: terminate if no pong came since the last ping. */
  heartbeat(): void {
    if (this.state === SessionState.Closed) return;
    if (!this.alive) {
      this.o.logger.info({ session: this.id }, 'no pong since the last ping: socket terminated');
      this.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch (err) {
      this.o.logger.debug({ session: this.id, err }, 'ping failed');
    }
  }

  /** Ends the session with 1001; resolves when the socket closed (terminated after `graceMs`). */
  shutdown(graceMs: number): Promise<void> {
    if (this.state !== SessionState.Closed) {
      this.finish();
      this.ws.close(ERROR_CLOSE_CODES['shutting-down'], 'server shutting down');
    }
    const timer = setTimeout(() => this.ws.terminate(), graceMs);
    return this.closedPromise.finally(() => clearTimeout(timer));
  }

  // ---------------------------------------------------------------- hub events

  onChange(field: string, data: Buffer): void {
    // Before the resync nothing is sent (it carries the values); while offline the resync that
    // follows the return carries them too.
    if (this.state !== SessionState.Live || !this.hub?.store.online) return;
    if (this.resyncPending || this.queue.size > 0 || this.ws.bufferedAmount > this.o.sendBufferLimit) {
      this.queue.delete(field); // re-inserted at the end: the newest change goes last
      this.queue.set(field, data);
      this.flush();
      return;
    }
    this.send(data);
  }

  onAvailability(online: boolean): void {
    if (this.state !== SessionState.Live) return;
    if (online) {
      this.sendResync();
      return;
    }
    // A pending resync has not gone yet: it will say "offline" itself, and no `device` frame may
    // precede a socket's first resync.
    if (this.resyncPending) return;
    this.queue.clear();
    this.send(encodeFrame({ type: 'device', status: 'offline' }));
  }

  // ---------------------------------------------------------------- frames

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state === SessionState.Closed) {
      this.countLateSet(data, isBinary);
      return;
    }
    if (!this.flood.take()) {
      this.fail('flooding', `more than ${this.o.rateLimit.perSecond * FLOOD_FACTOR} frames a second`);
      return;
    }
    const result = parseClientFrame(rawText(data, isBinary));
    if (!result.ok) {
      if (result.code === 'too-large') this.fail('too-large', result.message);
      else if (result.id === undefined) this.fail('bad-frame', result.message);
      else if (this.state === SessionState.AwaitingHello) this.setBeforeHello(result.id);
      else {
        this.host.counters.sets++;
        this.reject(result.id, result.field, 'invalid', result.message);
      }
      return;
    }
    const frame = result.frame;
    switch (frame.type) {
      case 'hello':
        if (this.state !== SessionState.AwaitingHello) this.fail('bad-frame', 'second hello');
        else this.track('hello', this.onHello(frame));
        break;
      case 'ping':
        if (this.state === SessionState.AwaitingHello) this.fail('bad-frame', 'ping before hello');
        else this.send(encodeFrame({ type: 'pong', id: frame.id }));
        break;
      case 'set':
        if (this.state === SessionState.AwaitingHello) this.setBeforeHello(frame.id);
        else {
          this.host.counters.sets++;
          this.track('set', this.onSet(frame));
        }
        break;
      default: {
        const never: never = frame;
        this.fail('bad-frame', `unhandled frame ${String((never as { type?: unknown }).type)}`);
      }
    }
  }

  /** Rule 1 says close; rule 5 says every set gets one ack: both — `guard` (no resync yet), then 4400. */
  private setBeforeHello(id: number): void {
    this.host.counters.sets++;
    this.reject(id, undefined, 'guard', 'set before hello');
    this.fail('bad-frame', 'frame before hello');
  }

  /** A set that arrives after we closed still counts: its one ack is "due to a closed socket". */
  private countLateSet(data: RawData, isBinary: boolean): void {
    const result = parseClientFrame(rawText(data, isBinary));
    const isSet = result.ok ? result.frame.type === 'set' : result.id !== undefined;
    if (!isSet) return;
    this.host.counters.sets++;
    this.host.counters.acks++;
    this.host.counters.undeliveredAcks++;
  }

  // ---------------------------------------------------------------- hello

  private async onHello(hello: HelloFrame): Promise<void> {
    this.state = SessionState.Authorizing;
    const { token, authorize, logger } = this.o;
    // Token before device: without the secret, a peer learns nothing, not even which ids exist.
    if (token !== undefined && (hello.token === undefined || !safeEqual(hello.token, token))) {
      this.fail('unauthorized', hello.token === undefined ? 'missing token' : 'bad token');
      return;
    }
    const hub = this.host.device(hello.device);
    if (!hub) {
      this.fail('unknown-device', `unknown device "${hello.device}"`);
      return;
    }
    let grant: AuthorizeGrant | undefined = {};
    if (authorize) {
      let result: AuthorizeResult | undefined;
      try {
        result = await authorize(this.request as IncomingMessage, hello);
      } catch (err) {
        logger.error({ session: this.id, device: hello.device, err }, 'authorize threw; user refused');
        result = false;
      }
      // Closed, timed out or shut down while authorize ran.
      if (this.state !== SessionState.Authorizing) return;
      grant = toGrant(result);
      if (!grant) {
        this.fail('forbidden', 'not authorized for this device');
        return;
      }
    }
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.request = undefined; // not retained for the socket's lifetime
    this.hub = hub;
    this.grant = grant;
    this.mounts = hello.mounts;
    hub.join(this);
    const guardMs = this.host.protection.guardMs;
    logger.info({ session: this.id, device: hub.store.id, user: grant.user, mounts: hello.mounts }, 'session started');
    if (hello.mounts > 0 && guardMs > 0) {
      this.state = SessionState.Guarded;
      this.guardTimer = setTimeout(() => this.guarded('guard timer', () => this.endGuard()), guardMs);
    } else {
      this.goLive();
    }
  }

  private onHelloTimeout(): void {
    this.helloTimer = undefined;
    if (this.state !== SessionState.AwaitingHello && this.state !== SessionState.Authorizing) return;
    this.fail('hello-timeout', `no hello within ${this.o.helloTimeoutMs} ms`);
  }

  private endGuard(): void {
    this.guardTimer = undefined;
    if (this.state !== SessionState.Guarded) return;
    this.goLive();
  }

  private goLive(): void {
    this.state = SessionState.Live;
    this.sendResync();
  }

  // ---------------------------------------------------------------- writes

  /** The first reason, in protocol order, to refuse a set; `undefined` to accept it. */
  private judge(frame: SetFrame): { reason: RejectReason; message: string } | undefined {
    const hub = this.hub;
    // Authorizing: the user is not known yet, so neither the field's limits nor its value may be told.
    if (!hub || this.state === SessionState.Authorizing) return { reason: 'guard', message: 'not authorized yet' };
    const { store, bridge } = hub;
    const schema = store.field(frame.field);
    if (!schema) return { reason: 'invalid', message: `unknown field "${frame.field}"` };
    const check = checkValue(schema, frame.value);
    if (!check.ok) return { reason: 'invalid', message: `${frame.field}: ${check.message}` };
    const encodable = this.contained(
      'checkWrite',
      () => bridge.checkWrite?.(frame.field, frame.value),
      'value cannot be encoded',
    );
    if (encodable !== undefined) return { reason: 'invalid', message: `${frame.field}: ${encodable}` };
    if (!schema.writable) return { reason: 'forbidden', message: `${frame.field} is read-only` };
    const canWrite = this.grant?.canWrite;
    if (canWrite && this.contained('canWrite', () => canWrite(frame.field), false) !== true) {
      return { reason: 'forbidden', message: `not allowed to write ${frame.field}` };
    }
    if (store.state(frame.field)?.value === null)
      return { reason: 'forbidden', message: `${frame.field} is not known yet` };
    if (!this.rate.take())
      return { reason: 'rate', message: `more than ${this.o.rateLimit.perSecond} writes a second` };
    if (this.state !== SessionState.Live || this.resyncPending)
      return { reason: 'guard', message: 'reconnect guard: wait for resync' };
    if (!store.online) return { reason: 'offline', message: 'device offline' };
    if (this.host.protection.checkRevisions && store.isStale(this.id, frame.field, frame.rev)) {
      return { reason: 'stale', message: `${frame.field} changed since revision ${frame.rev}` };
    }
    return undefined;
  }

  private async onSet(frame: SetFrame): Promise<void> {
    const refusal = this.judge(frame);
    if (refusal) {
      this.reject(frame.id, frame.field, refusal.reason, refusal.message);
      return;
    }
    const { store, bridge } = this.hub as DeviceHub;
    const entry = store.registerWrite(this.id, frame.field, frame.value);
    const freshest: FreshestValue = (field) => store.freshest(field);
    let outcome: WriteOutcome;
    this.host.counters.writesInFlight++;
    try {
      outcome = await bridge.write(frame.field, frame.value, freshest);
      if (!OUTCOMES.has(outcome)) {
        this.o.logger.error(
          { session: this.id, outcome: String(outcome) },
          'bridge.write resolved an unknown outcome; reported unknown',
        );
        outcome = WriteOutcome.Unknown;
      }
    } catch (err) {
      // The bridge broke its contract; it may have published, so the honest answer is "unknown".
      this.o.logger.error(
        { session: this.id, device: store.id, field: frame.field, err },
        'bridge.write threw; reported unknown',
      );
      outcome = WriteOutcome.Unknown;
    } finally {
      this.host.counters.writesInFlight--;
    }
    store.endWrite(entry, outcome);
    if (outcome === WriteOutcome.Offline) {
      this.reject(frame.id, frame.field, 'offline', 'device went offline; not written');
      return;
    }
    this.o.logger.debug(
      { session: this.id, device: store.id, id: frame.id, field: frame.field, status: outcome },
      'write',
    );
    this.sendAck({ type: 'ack', id: frame.id, status: outcome });
  }

  private reject(id: number, field: string | undefined, reason: RejectReason, message: string): void {
    const ack: RejectedAck = { type: 'ack', id, status: 'rejected', reason, message: message.slice(0, MAX_MESSAGE) };
    // Only an authorized user may learn a field's value.
    const state = field !== undefined && this.grant ? this.hub?.store.state(field) : undefined;
    if (field !== undefined && state) {
      ack.field = field;
      ack.value = state.value;
      ack.rev = state.rev;
    }
    const level = reason === 'invalid' || reason === 'forbidden' || reason === 'rate' ? 'warn' : 'info';
    this.o.logger[level](
      { session: this.id, device: this.hub?.store.id, user: this.grant?.user, id, field, reason, message: ack.message },
      'write rejected',
    );
    this.sendAck(ack);
  }

  private sendAck(ack: ServerFrame): void {
    this.host.counters.acks++;
    if (!this.send(encodeFrame(ack))) this.host.counters.undeliveredAcks++;
  }

  // ---------------------------------------------------------------- sending

  private sendResync(): void {
    const hub = this.hub;
    if (!hub) return;
    // The resync carries every value: queued updates are superseded.
    this.queue.clear();
    if (this.ws.bufferedAmount > this.o.sendBufferLimit) {
      this.resyncPending = true;
      return;
    }
    this.resyncPending = false;
    const { store } = hub;
    this.send(
      encodeFrame({
        type: 'resync',
        epoch: this.o.epoch,
        device: store.online ? 'online' : 'offline',
        schema: [...store.schema],
        fields: store.snapshot(),
      }),
    );
  }

  /** Sends what the slow reader's buffer has room for: a pending resync first, else queued updates. */
  private flush(): void {
    while (
      this.state === SessionState.Live &&
      this.ws.readyState === this.ws.OPEN &&
      this.ws.bufferedAmount <= this.o.sendBufferLimit
    ) {
      if (this.resyncPending) {
        this.sendResync();
        continue;
      }
      const next = this.queue.entries().next();
      if (next.done) return;
      this.queue.delete(next.value[0]);
      this.send(next.value[1]);
    }
  }

  /** Every send's callback: when the last buffered byte is written out, the queue may go. */
  private readonly onSent = (err?: Error): void => {
    if (!err && (this.queue.size > 0 || this.resyncPending)) this.guarded('flush', () => this.flush());
  };

  /** Sends a frame if the socket is open. Returns whether it was handed to the socket. */
  private send(data: string | Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    try {
      this.ws.send(data, TEXT, this.onSent);
    } catch (err) {
      this.o.logger.warn({ session: this.id, err }, 'send failed');
      return false;
    }
    // Updates and resyncs wait when the buffer is full; only acks, pongs and errors still go.
    // A client that keeps writing but never reads would grow those without bound: cut it off.
    if (this.ws.bufferedAmount > this.o.sendBufferLimit + MAX_SERVER_FRAME_BYTES) {
      this.o.logger.warn(
        { session: this.id, bufferedAmount: this.ws.bufferedAmount },
        'client does not read: socket terminated',
      );
      this.terminate();
    }
    return true;
  }

  // ---------------------------------------------------------------- ending

  /** Sends `error` with a stable code and closes with the matching close code. */
  private fail(code: ErrorCode, message: string): void {
    if (this.state === SessionState.Closed) return;
    this.o.logger.warn(
      { session: this.id, device: this.hub?.store.id, code, message },
      'protocol error; socket closed',
    );
    this.send(encodeFrame({ type: 'error', code, message: message.slice(0, MAX_MESSAGE) }));
    this.finish();
    this.ws.close(ERROR_CLOSE_CODES[code], code);
  }

  private terminate(): void {
    this.finish();
    this.ws.terminate();
  }

  /** Leaves every state for Closed: timers, hub membership and queue go. Idempotent. */
  private finish(): void {
    this.state = SessionState.Closed;
    clearTimeout(this.helloTimer);
    clearTimeout(this.guardTimer);
    this.helloTimer = undefined;
    this.guardTimer = undefined;
    this.hub?.leave(this);
    this.queue.clear();
    this.resyncPending = false;
    this.request = undefined;
  }

  private onClose(code: number): void {
    this.finish();
    this.o.logger.debug({ session: this.id, code }, 'socket closed');
    this.host.sessionClosed(this, code);
  }

  /** Runs an event handler; nothing a peer does may throw into the event loop. */
  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.error({ session: this.id, err }, `${what} handler failed; socket terminated`);
      this.terminate();
    }
  }

  /** Watches an async handler: a rejection is a bug of ours, logged, and the socket terminated. */
  private track(what: string, promise: Promise<void>): void {
    promise.catch((err: unknown) => {
      this.o.logger.error({ session: this.id, err }, `${what} handler failed; socket terminated`);
      this.terminate();
    });
  }

  /** Calls a user or bridge hook; a throw is logged and yields `fallback`. */
  private contained<T>(what: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      this.o.logger.error({ session: this.id, err }, `${what} threw`);
      return fallback;
    }
  }
}
