/**
 * An MQTT broker inside this process (aedes over TCP): the default broker of the CLI and the demo,
 * and the broker of the unit tests. For production, point the bridge at an external broker.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { isLoopbackHost } from './loopback.js';
import { checkNumber, invalidOption, withDefaults } from './option-checks.js';

/** Options of {@link startEmbeddedBroker}. */
export interface EmbeddedBrokerOptions {
  /** TCP port; `0` picks a free one. Defaults to `0`. */
  port?: number;
  /**
   * Interface to listen on. Defaults to `'127.0.0.1'` (loopback only). Any client that reaches the
   * broker can publish to the devices' action topics, past the server's guard, revisions, Origin
   * check and token: on any other interface `username` and `password` are required.
   */
  host?: string;
  /**
   * The user name every client must log in with; give it with `password`. Defaults to none: any
   * client may connect without credentials.
   */
  username?: string;
  /** The password every client must log in with (compared in constant time); give it with `username`. Defaults to none. */
  password?: string;
}

/** The defaults of {@link EmbeddedBrokerOptions}, each documented on its option. */
export const EMBEDDED_BROKER_DEFAULTS = Object.freeze({ port: 0, host: '127.0.0.1' });

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://HOST:PORT`, ready for `createMqttBridge(device, { url })`. */
  readonly url: string;
  /** The interface it listens on. */
  readonly host: string;
  /** The port it listens on (the one picked when `port` was `0`). */
  readonly port: number;
  /** The aedes instance, for hooks such as `authenticate`. */
  readonly broker: Aedes;
  /** Disconnects every client and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Whether `given` equals `expected`, in a time that does not depend on where they differ (both are
 * hashed first, so their lengths do not show either).
 */
function sameSecret(given: string | Buffer, expected: string): boolean {
  const digest = (v: string | Buffer): Buffer => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Starts an aedes broker on `host:port`; with `username` and `password`, clients must log in with
 * them (others are refused with CONNACK code 4). Rejects if the port cannot be bound, or with a
 * `TypeError` (code `ERR_INVALID_OPTION`) for an invalid port, only one of `username`/`password`, or
 * a `host` other than loopback without them.
 *
 * @example
 * const broker = await startEmbeddedBroker();
 * const bridge = createMqttBridge(device, { url: broker.url });
 * // …
 * await bridge.close();
 * await broker.close();
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const { host, port: wanted, username, password } = withDefaults(EMBEDDED_BROKER_DEFAULTS, options);
  checkNumber('port', wanted, 0, 65535, { integer: true });
  if ((username === undefined) !== (password === undefined)) {
    throw invalidOption('The "username" and "password" options go together: give both or neither');
  }
  if (username === '' || password === '')
    throw invalidOption('The "username" and "password" options must not be empty');
  if (username === undefined && !isLoopbackHost(host)) {
    throw invalidOption(
      `The embedded broker on "${host}" would be reachable from other machines without credentials: ` +
        'set "username" and "password", or keep "host" on loopback (docs/security.md, The embedded broker)',
    );
  }
  const broker = await Aedes.createBroker();
  if (username !== undefined && password !== undefined) {
    broker.authenticate = (_client, givenUser, givenPassword, done) => {
      const ok = sameSecret(givenUser ?? '', username) && sameSecret(givenPassword ?? Buffer.alloc(0), password);
      // MQTT 3.1.1 CONNACK return code 4: bad user name or password.
      done(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 as const }), ok);
    };
  }
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(wanted, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : wanted;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost}:${port}`,
    host,
    port,
    broker,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        await new Promise<void>((resolve) => broker.close(() => resolve()));
      })();
      return closing;
    },
  };
}
