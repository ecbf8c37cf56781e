/**
 * The write rate limits of a server (docs/protocol.md, `rate`): a set needs a token from its
 * socket's bucket, from its user's bucket (when `authorize` named a user: every socket of the user
 * draws on it) and from its device's bucket (every socket of the device draws on it). The socket's
 * limit alone lets 40 sockets push 40 times its rate at one device; the other two cap the sum.
 * @module
 */
import type { RateLimit } from './options.js';
import { TokenBucket } from './rate-limit.js';

/** Which limit refused a write. */
export const WriteLimit = {
  /** The socket's own `rateLimit`. */
  Socket: 'socket',
  /** `userRateLimit`: every socket of the user together. */
  User: 'user',
  /** `deviceRateLimit`: every socket of the device together. */
  Device: 'device',
} as const;
export type WriteLimit = (typeof WriteLimit)[keyof typeof WriteLimit];

/** Why a write found no token: the limit that had none left, and its sustained rate. */
export interface RateRefusal {
  limit: WriteLimit;
  perSecond: number;
}

/** The limits, as resolved from the server's options. */
export interface WriteRateLimits {
  readonly rateLimit: Readonly<RateLimit>;
  readonly deviceRateLimit: Readonly<RateLimit>;
  readonly userRateLimit: Readonly<RateLimit>;
}

/** A user's bucket and how many of the user's sessions are open (it is dropped with the last). */
interface UserEntry {
  readonly bucket: TokenBucket;
  sessions: number;
}

/** The device and user buckets of one server, shared by its sessions. @internal */
export class WriteRates {
  private readonly devices = new Map<string, TokenBucket>();
  private readonly users = new Map<string, UserEntry>();

  constructor(
    private readonly limits: WriteRateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A new bucket for one socket's own limit. */
  socketBucket(): TokenBucket {
    const { burst, perSecond } = this.limits.rateLimit;
    return new TokenBucket(burst, perSecond, this.now);
  }

  /** A session of `user` was authorized: the user's bucket is kept while any is open. */
  userJoined(user: string): void {
    const entry = this.users.get(user);
    if (entry) {
      entry.sessions++;
      return;
    }
    const { burst, perSecond } = this.limits.userRateLimit;
    this.users.set(user, { bucket: new TokenBucket(burst, perSecond, this.now), sessions: 1 });
  }

  /** A session of `user` ended; the user's bucket goes with their last session. */
  userLeft(user: string): void {
    const entry = this.users.get(user);
    if (!entry) return;
    entry.sessions--;
    if (entry.sessions <= 0) this.users.delete(user);
  }

  /** Users with a bucket now (for tests: buckets do not outlive their sessions). */
  get trackedUsers(): number {
    return this.users.size;
  }

  /**
   * Takes one token from each limit a write is under, or, when any of them has none left, takes
   * nothing and returns the first that refused (socket, user, device: the narrowest first).
   */
  take(socket: TokenBucket, device: string, user: string | undefined): RateRefusal | undefined {
    const userBucket = user === undefined ? undefined : this.users.get(user)?.bucket;
    const deviceBucket = this.deviceBucket(device);
    if (!socket.available()) return { limit: WriteLimit.Socket, perSecond: this.limits.rateLimit.perSecond };
    if (userBucket && !userBucket.available()) {
      return { limit: WriteLimit.User, perSecond: this.limits.userRateLimit.perSecond };
    }
    if (!deviceBucket.available())
      return { limit: WriteLimit.Device, perSecond: this.limits.deviceRateLimit.perSecond };
    socket.take();
    userBucket?.take();
    deviceBucket.take();
    return undefined;
  }

  private deviceBucket(device: string): TokenBucket {
    let bucket = this.devices.get(device);
    if (!bucket) {
      const { burst, perSecond } = this.limits.deviceRateLimit;
      bucket = new TokenBucket(burst, perSecond, this.now);
      this.devices.set(device, bucket);
    }
    return bucket;
  }
}
