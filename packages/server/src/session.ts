/**
 * One session per socket: its lifecycle from `hello` through authorization and the reconnect guard
 * to live and closed, the frames it reads, and the acks it owes — docs/protocol.md rules 1–11 for
 * one client. What a set must pass is `admission.ts`'s; how frames reach a slow reader is
 * `outbox.ts`'s; the write itself is the store's (`DeviceStore.write`).
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
  encodeFrame,
  parseClientFrame,
} from '@live-device-form/protocol';
import { type Applicant, judge } from './admission.js';
import { WriteOutcome } from './bridge.js';
import { requestFacts } from './forwarded.js';
import type { DeviceHub } from './hub.js';
import type { AuthorizeGrant, AuthorizeResult, ResolvedOptions } from './options.js';
import { FLOOD_FACTOR } from './options.js';
import { Outbox } from './outbox.js';
import { TokenBucket } from './rate-limit.js';
import type { DeviceReadiness } from './readiness.js';
import type { DeviceBinding, DeviceMember } from './registry.js';
import type { TokenThrottle } from './token-throttle.js';
import type { WriteRates } from './write-rate.js';

/** Where a session is in its life. Every handler checks it first. */
export const SessionState = {
  /** Connected; waiting for `hello` (within `helloTimeoutMs`). */
  AwaitingHello: 'awaiting-hello',
  /** `hello` received; token, device and `authorize` being checked. Sets are refused `guard`. */
  Authorizing: 'authorizing',
  /**
   * `hello` named a device id the server does not know yet while it follows catalogs: waiting for
   * it to be added (at most `readyTimeoutMs` from the hello, and within `helloTimeoutMs` of the
   * connection), else 4404 (docs/protocol.md, *Devices that come and go*). Sets are refused `guard`.
   */
  AwaitingDeviceId: 'awaiting-device-id',
  /** A reconnect (`mounts > 0`) inside its guard: sets are refused `guard`, no frames are sent. */
  Guarded: 'guarded',
  /**
   * Authorized (and past any guard), the device's bridge not ready yet: its retained state is still
   * arriving (docs/protocol.md, Lifecycle: readiness). Sets are refused `guard`, no frames are sent.
   */
  AwaitingDevice: 'awaiting-device',
  /** Resync sent (or waiting for a slow reader's buffer to drain); updates flow, sets are judged. */
  Live: 'live',
  /**
   * The device was removed by its catalog: `device gone` sent, sets are refused `offline`, nothing
   * else is sent until it is added again (then a fresh resync). The socket stays open.
   */
  Gone: 'gone',
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
  /** The client's IP address (with `trustProxy`, the one its proxy forwarded). */
  remoteAddress: string;
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
  /**
   * Frames that arrived after the server had closed their socket (for an error or a shutdown),
   * dropped unread: a set among them gets no ack and is not counted in `sets`.
   */
  framesAfterClose: number;
}

/** What a session needs from its server. @internal */
export interface SessionHost {
  readonly options: ResolvedOptions;
  /** Read at every use: `setProtection` changes it at run time. */
  readonly protection: { readonly guardMs: number; readonly checkRevisions: boolean };
  readonly counters: ServerStats;
  /** The device and user write rate limits, shared by every session. */
  readonly writeRates: WriteRates;
  /** Token guessing per client address, shared by every session; `undefined` when turned off. */
  readonly tokenThrottle: TokenThrottle | undefined;
  /** Whether the server follows catalogs: a hello for an unknown id then waits for it. */
  readonly followsCatalogs: boolean;
  /** Whether a device id is known (served, or gone). */
  knowsDevice(id: string): boolean;
  /** Calls `fn` once when a device id becomes known. Returns the function that cancels it. */
  whenDeviceKnown(id: string, fn: () => void): () => void;
  /** Binds a session to a device id; `undefined` if the id is unknown. */
  joinDevice(id: string, member: DeviceMember): DeviceBinding | undefined;
  /** Unbinds a session from its device id. */
  leaveDevice(id: string, member: DeviceMember): void;
  /** Whether a device's first resyncs still wait for its bridge. */
  deviceReadiness(id: string): DeviceReadiness | undefined;
  /** Its hello was accepted (token and `authorize` passed): it leaves the pre-hello connection caps. */
  sessionStarted(session: Session): void;
  sessionClosed(session: Session, code: number): void;
  /** Whether the server is draining (docs/protocol.md, *Shutdown and drain*): every new set is refused. */
  readonly draining: boolean;
  /** A write handed to a bridge has ended (`counters.writesInFlight` counts it no longer). */
  writeEnded(): void;
}

/** A write of this session handed to the store, awaiting its outcome. */
interface WriteInFlight {
  readonly id: number;
  /** Answered `unknown` by a drain whose bound passed: its outcome, when it comes, is not sent. */
  answered: boolean;
}

/**
 * Milliseconds a peer has to answer the server's close frame (the closing handshake) before its
 * socket is destroyed. ws itself would wait 30 s, reading every frame meanwhile.
 */
export const CLOSE_DEADLINE_MS = 1000;

/** The `device gone` frame (docs/protocol.md, *Devices that come and go*). */
const GONE = encodeFrame({ type: 'device', status: 'gone' });

/** Longest `message` in a rejection ack or error frame (clients accept 1024). */
const MAX_MESSAGE = 512;

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
export class Session implements DeviceMember {
  readonly id: string;
  private state: SessionState = SessionState.AwaitingHello;
  private request: IncomingMessage | undefined;
  /** The device id this session is bound to (from its accepted hello on); it stays through replacements and removal. */
  private deviceId: string | undefined;
  /** The hub serving `deviceId` now; `undefined` before the hello is accepted and while the device is gone. */
  private hub: DeviceHub | undefined;
  private grant: AuthorizeGrant | undefined;
  private mounts: number | undefined;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private guardTimer: ReturnType<typeof setTimeout> | undefined;
  /** Destroys the socket if the peer has not answered our close frame in time ({@link CLOSE_DEADLINE_MS}). */
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Stops waiting for the device's readiness (AwaitingDevice). */
  private stopAwaitingDevice: (() => void) | undefined;
  /** Stops waiting for an unknown device id to be added (AwaitingDeviceId). */
  private stopAwaitingDeviceId: (() => void) | undefined;
  /** Cleared at every heartbeat, set by every pong. */
  private alive = true;
  /** The device's latest revision when this session's last resync was built: it carries every change up to it. */
  private resyncRev = 0;
  /** The socket's own write rate limit (the user's and the device's are the host's `writeRates`). */
  private readonly rate: TokenBucket;
  /** The user whose shared write rate limit this session counts in, while it is open. */
  private rateUser: string | undefined;
  private readonly flood: TokenBucket;
  /** Every frame to the client; holds updates back for a slow reader. */
  private readonly outbox: Outbox;
  /** This session's writes awaiting their outcome (a drain answers them `unknown` when its bound passes). */
  private readonly writes = new Set<WriteInFlight>();
  /** What admission asks about this session, answered at the moment it asks. */
  private readonly applicant: Applicant;
  private readonly remoteAddress: string;
  private readonly closedPromise: Promise<void>;
  private readonly options: ResolvedOptions;

  constructor(
    id: string,
    private readonly ws: WebSocket,
    request: IncomingMessage,
    private readonly host: SessionHost,
  ) {
    this.id = id;
    this.options = host.options;
    const { rateLimit, logger } = this.options;
    this.request = request;
    this.remoteAddress = requestFacts(request, this.options.trustProxy).address;
    this.rate = host.writeRates.socketBucket();
    this.flood = new TokenBucket(rateLimit.burst * FLOOD_FACTOR, rateLimit.perSecond * FLOOD_FACTOR);
    this.outbox = new Outbox(
      ws,
      this.options.sendBufferLimit,
      logger,
      {
        id,
        canFlush: () => this.state === SessionState.Live,
        resyncFrame: () => this.resyncFrame(),
        terminate: () => this.terminate(),
        terminateOnThrow: (what, fn) => this.terminateOnThrow(what, fn),
      },
      { limitMs: this.options.lagLimitMs, now: () => performance.now() },
    );
    this.applicant = {
      sessionId: id,
      hub: () => this.hub,
      authorizing: () => this.state === SessionState.Authorizing,
      awaitingDevice: () => this.state === SessionState.AwaitingDevice,
      canWrite: () => this.grant?.canWrite,
      takeRateToken: () => this.host.writeRates.take(this.rate, (this.hub as DeviceHub).store.id, this.rateUser),
      // A lagging device or client (docs/protocol.md rule 11) waits for its resync like a reconnect.
      synced: () => this.state === SessionState.Live && !this.outbox.resyncPending && this.hub?.lagging !== true,
      checkRevisions: () => this.host.protection.checkRevisions,
      epoch: this.options.epoch,
      contained: (what, fn, fallback) => this.contained(what, fn, fallback),
    };
    this.closedPromise = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.terminateOnThrow('message', () => this.onMessage(data, isBinary)));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => this.terminateOnThrow('error', () => this.onSocketError(err)));
    ws.on('close', (code) => this.terminateOnThrow('close', () => this.onClose(code)));
    this.helloTimer = setTimeout(
      () => this.terminateOnThrow('hello timer', () => this.onHelloTimeout()),
      this.options.helloTimeoutMs,
    );
  }

  /** A snapshot for `LiveDeviceServer.sessions()`. */
  info(): SessionInfo {
    return {
      id: this.id,
      state: this.state,
      device: this.deviceId,
      user: this.grant?.user,
      mounts: this.mounts,
      remoteAddress: this.remoteAddress,
      bufferedAmount: this.ws.bufferedAmount,
      queuedUpdates: this.outbox.queuedUpdates,
    };
  }

  /** Called by the server's heartbeat interval: terminate if no pong came since the last ping. */
  heartbeat(): void {
    if (this.state === SessionState.Closed) return;
    if (!this.alive) {
      this.options.logger.info({ session: this.id }, 'no pong since the last ping: socket terminated');
      this.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch (err) {
      this.options.logger.debug({ session: this.id, err }, 'ping failed');
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

  /**
   * A drain's bound has passed: every write of this session still awaiting its outcome is answered
   * `unknown` now (it was handed to the bridge, and may have been published), before the session
   * closes. When its outcome comes later, nothing more is sent: one ack per set. Returns how many.
   */
  answerWritesUnknown(): number {
    let answered = 0;
    for (const write of this.writes) {
      if (write.answered) continue;
      write.answered = true;
      answered++;
      this.sendAck({ type: 'ack', id: write.id, status: 'unknown' });
    }
    if (answered > 0) {
      this.options.logger.info(
        { session: this.id, device: this.hub?.store.id, writes: answered },
        'drain bound passed: writes still in flight answered unknown',
      );
    }
    return answered;
  }

  // ---------------------------------------------------------------- hub events

  onChange(field: string, data: string | Buffer, rev: number): void {
    // Before the resync nothing is sent (it carries the values); while offline the resync that
    // follows the return carries them too; a change the fan-out sends after a resync that carried it is old.
    if (this.state !== SessionState.Live || !this.hub?.store.online || rev <= this.resyncRev) return;
    this.outbox.update(field, data);
  }

  onLagging(): void {
    if (this.state !== SessionState.Live || !this.hub?.store.online) return;
    this.outbox.lagging();
  }

  onCaughtUp(): void {
    if (this.state !== SessionState.Live) return;
    this.sendResync();
  }

  onAvailability(online: boolean): void {
    if (this.state !== SessionState.Live) return;
    if (online) {
      this.sendResync();
      return;
    }
    this.outbox.offline(encodeFrame({ type: 'device', status: 'offline' }));
  }

  // ---------------------------------------------------------------- device changes (registry)

  onDeviceBound(hub: DeviceHub): void {
    this.hub = hub;
    switch (this.state) {
      case SessionState.Guarded:
        // The guard keeps running; the resync it ends with carries the new schema.
        return;
      case SessionState.AwaitingDevice:
        // The new bridge's readiness is what counts now.
        this.stopAwaitingDevice?.();
        this.stopAwaitingDevice = undefined;
        this.goLive();
        return;
      case SessionState.Live:
        // The fresh resync waits for the new bridge's retained state, as a first one does
        // (docs/protocol.md, Readiness): not a form of nulls followed by updates.
        this.options.logger.debug({ session: this.id, device: this.deviceId }, 'device replaced: fresh resync');
        this.goLive();
        return;
      case SessionState.Gone:
        this.options.logger.debug({ session: this.id, device: this.deviceId }, 'device back: fresh resync');
        this.goLive();
        return;
      default:
        // Not bound yet (the hello binds to whatever serves the id then), or closed.
        return;
    }
  }

  onDeviceGone(): void {
    this.hub = undefined;
    if (this.state === SessionState.Closed || this.deviceId === undefined) return;
    this.enterGone();
  }

  /** The device is gone: no timer or wait of the old hub is left, and the page is told. */
  private enterGone(): void {
    clearTimeout(this.guardTimer);
    this.guardTimer = undefined;
    this.stopAwaitingDevice?.();
    this.stopAwaitingDevice = undefined;
    this.state = SessionState.Gone;
    // Held updates and a resync still due were the old hub's; nothing of it may follow.
    this.outbox.clear();
    this.send(GONE);
  }

  // ---------------------------------------------------------------- frames

  private onMessage(data: RawData, isBinary: boolean): void {
    // ws goes on reading until the peer answers our close frame: whatever comes meanwhile is
    // dropped unread (a peer flooding past its 4429 must not cost a JSON parse a frame).
    if (this.state === SessionState.Closed) {
      this.host.counters.framesAfterClose++;
      return;
    }
    if (!this.flood.take()) {
      this.fail('flooding', `more than ${this.options.rateLimit.perSecond * FLOOD_FACTOR} frames a second`);
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

  // ---------------------------------------------------------------- hello

  private async onHello(hello: HelloFrame): Promise<void> {
    this.state = SessionState.Authorizing;
    const { token, authorize, logger } = this.options;
    // Token before device: without the secret, a peer learns nothing, not even which ids exist.
    if (token !== undefined && !this.checkToken(hello.token, token)) return;
    if (!this.host.knowsDevice(hello.device)) {
      const added = this.host.followsCatalogs && (await this.awaitDeviceId(hello.device));
      // Closed, timed out or shut down while it waited.
      if (this.state !== SessionState.Authorizing) return;
      if (!added) {
        const waited = this.host.followsCatalogs && this.options.readyTimeoutMs > 0;
        this.fail('unknown-device', `unknown device "${hello.device}"${waited ? ' (not added in time)' : ''}`);
        return;
      }
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
    // Bound to whatever serves the id now: `authorize` may have taken a while.
    const binding = this.host.joinDevice(hello.device, this);
    if (!binding) {
      // Forgotten meanwhile (a gone id beyond the tombstone limit).
      this.fail('unknown-device', `unknown device "${hello.device}"`);
      return;
    }
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.request = undefined; // not retained for the socket's lifetime
    this.deviceId = hello.device;
    this.grant = grant;
    this.mounts = hello.mounts;
    if (grant.user !== undefined) {
      this.rateUser = grant.user;
      this.host.writeRates.userJoined(grant.user);
    }
    const guardMs = this.host.protection.guardMs;
    logger.info(
      {
        session: this.id,
        device: hello.device,
        user: grant.user,
        mounts: hello.mounts,
        gone: binding.state === 'gone',
      },
      'session started',
    );
    this.host.sessionStarted(this);
    if (binding.state === 'gone') {
      // No resync (there is no device to sync with): `device gone` at once, a resync if it comes back.
      this.enterGone();
      return;
    }
    this.hub = binding.hub;
    if (hello.mounts > 0 && guardMs > 0) {
      this.state = SessionState.Guarded;
      this.guardTimer = setTimeout(() => this.terminateOnThrow('guard timer', () => this.endGuard()), guardMs);
    } else {
      this.goLive();
    }
  }

  /**
   * Whether `hello.token` is the secret. An address locked out for guessing is refused without a
   * comparison; failures are counted and logged by the throttle (a summary, not a line each).
   */
  private checkToken(given: string | undefined, token: string): boolean {
    const throttle = this.host.tokenThrottle;
    const lockedMs = throttle?.lockout(this.remoteAddress) ?? 0;
    if (lockedMs > 0) {
      const message = `too many failed tokens from this address: try again in ${Math.ceil(lockedMs / 1000)} s`;
      this.fail('flooding', message, { log: false });
      return false;
    }
    if (given === undefined || !safeEqual(given, token)) {
      const message = given === undefined ? 'missing token' : 'bad token';
      if (throttle) throttle.failed(this.remoteAddress, { session: this.id });
      this.fail('unauthorized', message, { log: throttle === undefined });
      return false;
    }
    throttle?.succeeded(this.remoteAddress);
    return true;
  }

  /**
   * Waits for a device id a catalog has not reported (yet): resolves `true` once it is known,
   * `false` when `readyTimeoutMs` from now passed first or the session ended. The hello deadline
   * (`helloTimeoutMs` from the connection) bounds it too, as everything before a hello is accepted.
   */
  private awaitDeviceId(id: string): Promise<boolean> {
    const { readyTimeoutMs, logger } = this.options;
    if (readyTimeoutMs === 0) return Promise.resolve(false);
    this.state = SessionState.AwaitingDeviceId;
    logger.debug({ session: this.id, device: id, readyTimeoutMs }, 'hello waits for an unknown device id');
    return new Promise<boolean>((resolve) => {
      const done = (known: boolean): void => {
        clearTimeout(timer);
        cancel();
        this.stopAwaitingDeviceId = undefined;
        if (this.state === SessionState.AwaitingDeviceId) this.state = SessionState.Authorizing;
        resolve(known);
      };
      const timer = setTimeout(() => done(false), readyTimeoutMs);
      const cancel = this.host.whenDeviceKnown(id, () => done(true));
      this.stopAwaitingDeviceId = () => done(false);
    });
  }

  private onHelloTimeout(): void {
    this.helloTimer = undefined;
    if (this.state === SessionState.AwaitingDeviceId) {
      // The wait for the id ends with the hello deadline: the id is as unknown as at any other bound.
      this.stopAwaitingDeviceId?.();
      return;
    }
    if (this.state !== SessionState.AwaitingHello && this.state !== SessionState.Authorizing) return;
    this.fail('hello-timeout', `no hello within ${this.options.helloTimeoutMs} ms`);
  }

  private endGuard(): void {
    this.guardTimer = undefined;
    if (this.state !== SessionState.Guarded) return;
    this.goLive();
  }

  /** The resync goes out once the guard (if any) has ended and the device is ready (or its bound passed). */
  private goLive(): void {
    const readiness = this.hub && this.host.deviceReadiness(this.hub.store.id);
    if (readiness?.waiting) {
      this.state = SessionState.AwaitingDevice;
      this.stopAwaitingDevice = readiness.whenSettled(() =>
        this.terminateOnThrow('readiness', () => this.deviceReady()),
      );
      return;
    }
    this.state = SessionState.Live;
    this.sendResync();
  }

  private deviceReady(): void {
    this.stopAwaitingDevice = undefined;
    if (this.state !== SessionState.AwaitingDevice) return;
    this.goLive();
  }

  // ---------------------------------------------------------------- writes

  /**
   * Judges a set (admission), has the store write it, and sends its one ack. While the server
   * drains, every set is refused `offline` before any other check: it never reaches the device
   * (docs/protocol.md, *Shutdown and drain*).
   */
  private async onSet(frame: SetFrame): Promise<void> {
    if (this.host.draining) {
      this.reject(frame.id, frame.field, 'offline', 'server shutting down: not written; reconnect to write');
      return;
    }
    if (this.state === SessionState.Gone) {
      this.reject(frame.id, frame.field, 'offline', 'device gone: not written');
      return;
    }
    const refusal = judge(frame, this.applicant);
    if (refusal) {
      this.reject(frame.id, frame.field, refusal.reason, refusal.message);
      return;
    }
    const { store } = this.hub as DeviceHub;
    let outcome: WriteOutcome;
    const write: WriteInFlight = { id: frame.id, answered: false };
    this.writes.add(write);
    this.host.counters.writesInFlight++;
    try {
      outcome = await store.write(this.id, frame.field, frame.value);
    } finally {
      this.writes.delete(write);
      this.host.counters.writesInFlight--;
      this.host.writeEnded();
    }
    // A drain whose bound passed has answered it `unknown` already.
    if (write.answered) return;
    if (outcome === WriteOutcome.Offline) {
      this.reject(frame.id, frame.field, 'offline', 'device went offline; not written');
      return;
    }
    this.options.logger.debug(
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
    this.options.logger[level](
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

  /** Sends a resync now, or as soon as a slow reader's buffer drains. */
  private sendResync(): void {
    if (!this.hub) return;
    this.outbox.resync();
  }

  /** The resync frame, with the values of this moment. */
  private resyncFrame(): string {
    const hub = this.hub as DeviceHub;
    const { store } = hub;
    this.resyncRev = store.revision;
    return encodeFrame({
      type: 'resync',
      epoch: this.options.epoch,
      device: !store.online ? 'offline' : hub.lagging ? 'lagging' : 'online',
      schema: [...store.schema],
      fields: store.snapshot(),
    });
  }

  /** Sends a frame at once if the socket is open. Returns whether it was handed to the socket. */
  private send(data: string | Buffer): boolean {
    return this.outbox.send(data);
  }

  // ---------------------------------------------------------------- ending

  /**
   * Sends `error` with a stable code and closes with the matching close code. `log: false` when
   * the caller logs it another way (the token throttle's summaries).
   */
  private fail(code: ErrorCode, message: string, { log = true }: { log?: boolean } = {}): void {
    if (this.state === SessionState.Closed) return;
    if (log) {
      this.options.logger.warn(
        { session: this.id, device: this.hub?.store.id, code, message },
        'protocol error; socket closed',
      );
    }
    this.send(encodeFrame({ type: 'error', code, message: message.slice(0, MAX_MESSAGE) }));
    this.finish();
    this.ws.close(ERROR_CLOSE_CODES[code], code);
    this.startCloseDeadline();
  }

  /**
   * ws reports a frame it refused to read (over `maxFrameBytes`: 1009; bad UTF-8, an unmasked
   * frame: 1007/1002). It has already sent its close frame and stopped reading.
   */
  private onSocketError(err: Error): void {
    this.options.logger.warn({ session: this.id, device: this.hub?.store.id, err }, 'socket error');
    if (this.ws.readyState !== this.ws.CLOSING) return;
    this.finish();
    this.startCloseDeadline();
  }

  /** After our close frame: a peer that does not complete the handshake in time is cut off. */
  private startCloseDeadline(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(() => {
      this.closeTimer = undefined;
      this.options.logger.debug({ session: this.id }, 'closing handshake not answered in time: socket terminated');
      this.ws.terminate();
    }, CLOSE_DEADLINE_MS);
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
    this.stopAwaitingDevice?.();
    this.stopAwaitingDevice = undefined;
    this.stopAwaitingDeviceId?.();
    if (this.deviceId !== undefined) this.host.leaveDevice(this.deviceId, this);
    if (this.rateUser !== undefined) this.host.writeRates.userLeft(this.rateUser);
    this.rateUser = undefined;
    this.outbox.clear();
    this.request = undefined;
  }

  private onClose(code: number): void {
    clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.finish();
    this.options.logger.debug({ session: this.id, code }, 'socket closed');
    this.host.sessionClosed(this, code);
  }

  /**
   * Runs an event handler: nothing a peer does may throw into the event loop. A throw is a bug of
   * ours: logged, and the socket terminated.
   */
  private terminateOnThrow(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.logger.error({ session: this.id, err }, `${what} handler failed; socket terminated`);
      this.terminate();
    }
  }

  /** Watches an async handler: a rejection is a bug of ours, logged, and the socket terminated. */
  private track(what: string, promise: Promise<void>): void {
    promise.catch((err: unknown) => {
      this.options.logger.error({ session: this.id, err }, `${what} handler failed; socket terminated`);
      this.terminate();
    });
  }

  /** Calls a user or bridge hook; a throw is logged and yields `fallback`. */
  private contained<T>(what: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      this.options.logger.error({ session: this.id, err }, `${what} threw`);
      return fallback;
    }
  }
}
