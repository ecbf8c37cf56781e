/**
 * The gate in front of the broker for the SDK's MQTT links: a loopback TCP proxy the run can cut,
 * black-hole (client → broker bytes dropped, the link stays open) or close to new connections —
 * and that reads the MQTT packets the SDK sends, recording every PUBLISH with the connection it
 * went out on. That is the checker's evidence for "never published after a broker reconnect for a
 * write made before it": a write that reached the server before a connection existed must never be
 * published over it.
 *
 * Only what the gate forwards is recorded (a black-holed PUBLISH never reached the broker).
 * MQTT 3.1.1 and 5 framing; PUBLISH topic and payload are read, everything else is passed through.
 * @module
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

/** One SDK connection through the gate. */
export interface GateConnection {
  readonly id: number;
  readonly openedAt: number;
  closedAt?: number;
  /** From CONNECT. */
  clientId?: string;
}

/** A PUBLISH the gate forwarded to the broker. */
export interface GatePublish {
  readonly t: number;
  readonly conn: number;
  readonly topic: string;
  readonly payload: string;
}

/** Reads MQTT packets from a byte stream (one direction of one connection). */
class MqttReader {
  private buffer: Buffer = Buffer.alloc(0);
  private protocolLevel = 4;
  private failed = false;

  constructor(private readonly onPacket: (type: number, flags: number, body: Buffer, level: number) => void) {}

  feed(chunk: Buffer): void {
    if (this.failed) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (;;) {
        if (i >= this.buffer.length) return;
        const byte = this.buffer[i] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        i++;
        if ((byte & 0x80) === 0) break;
        if (i > 4) {
          this.failed = true;
          return;
        }
      }
      if (this.buffer.length < i + length) return;
      const b0 = this.buffer[0] as number;
      const body = this.buffer.subarray(i, i + length);
      this.buffer = this.buffer.subarray(i + length);
      const type = b0 >> 4;
      if (type === 1 && body.length >= 7) {
        // CONNECT: protocol name (2-byte length + text), then the level.
        const nameLength = body.readUInt16BE(0);
        this.protocolLevel = body[2 + nameLength] ?? 4;
      }
      this.onPacket(type, b0 & 0x0f, body, this.protocolLevel);
    }
  }
}

function readVarint(b: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let multiplier = 1;
  let i = at;
  for (;;) {
    const byte = b[i++] ?? 0;
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0 || i - at >= 4) return { value, next: i };
  }
}

interface Pair {
  record: GateConnection;
  client: Socket;
  upstream: Socket;
  blackholed: boolean;
}

/** A running gate. */
export class MqttGate {
  readonly connections: GateConnection[] = [];
  readonly publishes: GatePublish[] = [];
  port = 0;
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  private nextId = 0;
  private waiters: (() => void)[] = [];
  private server: Server | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  /** `mqtt://127.0.0.1:PORT` */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target);
    const record: GateConnection = { id: ++this.nextId, openedAt: performance.now() };
    const pair: Pair = { record, client, upstream, blackholed: false };
    this.pairs.add(pair);
    this.connections.push(record);
    const reader = new MqttReader((type, flags, body, level) => {
      if (type === 1) {
        // CONNECT: the client id follows the variable header (10 bytes in 3.1.1; 5 adds properties).
        const nameLength = body.readUInt16BE(0);
        let at = 2 + nameLength + 4;
        if (level === 5) at = readVarint(body, at).next + readVarint(body, at).value;
        const idLength = body.readUInt16BE(at);
        record.clientId = body.subarray(at + 2, at + 2 + idLength).toString('utf8');
        return;
      }
      if (type !== 3) return;
      const topicLength = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLength).toString('utf8');
      let at = 2 + topicLength + (((flags >> 1) & 3) > 0 ? 2 : 0);
      if (level === 5) {
        const props = readVarint(body, at);
        at = props.next + props.value;
      }
      this.publishes.push({
        t: performance.now(),
        conn: record.id,
        topic,
        payload: body.subarray(at).toString('utf8'),
      });
    });
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      record.closedAt = performance.now();
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (pair.blackholed) return;
      upstream.write(d);
      reader.feed(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
    upstream.once('connect', () => {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    });
  }

  /** Drops every client → broker byte of the current connections from now on; they stay open. */
  blackhole(): void {
    for (const p of this.pairs) p.blackholed = true;
  }

  /** Destroys every current connection, both sides. */
  cut(): void {
    for (const p of [...this.pairs]) {
      this.pairs.delete(p);
      p.record.closedAt = performance.now();
      p.client.destroy();
      p.upstream.destroy();
    }
  }

  /** While on, new connections are closed at once (the broker looks down). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** Resolves at the next connection that reaches the broker. */
  nextConnection(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.cut();
    await closed;
  }
}

/** Starts a gate in front of `target` on a free loopback port. */
export async function startMqttGate(target: { host: string; port: number }): Promise<MqttGate> {
  const gate = new MqttGate(target);
  await gate.listen();
  return gate;
}
