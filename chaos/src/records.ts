/**
 * What the chaos run records, and nothing else: frames as they crossed the proxy, messages as the
 * broker delivered them to the checker's own subscription, and the faults the run itself caused.
 * The checker (`checker.ts`) decides everything from these records; it never asks the SDK.
 *
 * Times are `performance.now()` of the orchestrating process, in milliseconds.
 * @module
 */

/** Which way a frame went. */
export type Direction = 'c2s' | 's2c';

/** One JSON text frame (parsed as plain JSON, not by the SDK's parsers), or a close frame. */
export interface FrameRecord {
  /** When it crossed the proxy on the server's side. */
  readonly t: number;
  readonly dir: Direction;
  /** The parsed JSON object; a `resync` is stored without its `schema`. `undefined` for non-JSON text. */
  readonly msg: Record<string, unknown> | undefined;
  /** Raw text (kept only when it was not a JSON object). */
  readonly raw?: string;
  /** Set for a close frame. */
  readonly closeCode?: number;
}

/** One TCP connection through the chaos proxy. */
export interface ConnectionRecord {
  /** Sequential, from 1. */
  readonly id: number;
  /** The logical client (from the request's `c=` query parameter), e.g. `p17` or `b2`. */
  client: string;
  /** The client's connection number (from `n=`, or counted by the proxy). */
  n: number;
  /** Which server process (1, 2, …) the proxy connected it to. */
  readonly serverGeneration: number;
  readonly openedAt: number;
  /** HTTP status of the upgrade response (101 when upgraded). */
  httpStatus?: number;
  /** Every frame both ways, in the order the proxy saw them. */
  readonly frames: FrameRecord[];
  /** When the proxy cut the client's side (the client saw its link die). */
  cutAt?: number;
  /** When the proxy started black-holing the connection (both ways silent, both sides open). */
  blackHoledAt?: number;
  /** When the proxy half-closed the server's side (FIN) after a cut's linger. */
  proxyEndedAt?: number;
  /** When the server's side ended: FIN or reset from the server, or the socket closed. */
  serverEndedAt?: number;
  /** Whether the server process was killed while this connection was open. */
  serverKilled?: boolean;
  /** When both sides were gone. */
  closedAt?: number;
  /** Whether the client is a real `<live-device-form>` in Chromium (held to the element's contract). */
  polite: boolean;
}

/** One message the checker's own MQTT subscription received. */
export interface BrokerMessage {
  readonly t: number;
  readonly topic: string;
  readonly payload: string;
  /** Delivered as a retained message at (re)subscription: state, not an event. */
  readonly retained: boolean;
}

/** A period during which the SDK's link to the broker was down. */
export interface LinkOutage {
  /** Why: a cut or a black hole at the gate in front of the broker, or the broker process killed. */
  readonly kind: 'link-cut' | 'link-black-hole' | 'broker-killed';
  readonly start: number;
  /** By when every bridge can have noticed (a black hole is noticed by MQTT keepalive), ms after `start`. */
  readonly noticeWithinMs: number;
  /** When the first new connection of the SDK reached the broker again. */
  back?: number;
}

/** A server process's life. */
export interface ServerLife {
  readonly generation: number;
  readonly startedAt: number;
  /** When it was killed with SIGKILL (undefined if it lived to the end). */
  killedAt?: number;
}

/** One MQTT connection of the SDK, as the gate in front of the broker saw it. */
export interface SdkConnection {
  readonly id: number;
  readonly openedAt: number;
  closedAt?: number;
  /** The client id of its CONNECT (the cross-process run names each process life in it, `server-child.ts`). */
  clientId?: string;
  /** When the broker's first SUBACK on it passed the gate: the broker had the subscriptions by then. */
  subscribedAt?: number;
}

/** The SDK's MQTT connections and the PUBLISHes it sent over each, as the gate in front of the broker saw them. */
export interface SdkLinkRecords {
  readonly connections: readonly SdkConnection[];
  readonly publishes: readonly {
    readonly t: number;
    readonly conn: number;
    readonly topic: string;
    readonly payload: string;
  }[];
}

/** Everything a run recorded. */
export interface RunRecords {
  /** The SDK's broker link (absent in hand-made records: the checker then judges late publishes by time). */
  readonly sdkLink?: SdkLinkRecords;
  readonly connections: ConnectionRecord[];
  readonly broker: BrokerMessage[];
  readonly outages: LinkOutage[];
  readonly servers: ServerLife[];
  /** When the clients stopped and the run began to drain. */
  endedAt: number;
}
