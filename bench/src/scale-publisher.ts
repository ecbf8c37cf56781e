/**
 * The hardware of the scale-out figure (11), in the driver's process: an mqtt.js client that
 * publishes the counters' statuses to the run's broker (QoS 1), paced by the clients. It listens on
 * a loopback control port where each clients' process (clients-proc.ts, `control`) writes, as
 * 4-byte big-endian integers, the highest update every one of its readers has received — the same
 * pacing link as server-proc.ts's, moved in front of the broker: at most `window` updates are
 * published and not yet received by every client.
 *
 * Update `k` of a run is the status `k` on field `n{k mod fields}` (scale-device.ts), so the
 * clients tell how far they are by the value. Only one run is in flight at a time.
 * @module
 */
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { counterTopic } from './scale-device.js';
import { readPacing } from './util.js';

interface Run {
  prefix: string;
  fields: number;
  count: number;
  window: number;
  emitted: number;
  completed: number;
  resolve: () => void;
}

/** A paced publisher; {@link ScalePublisher.start} connects it. */
export class ScalePublisher {
  private run: Run | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly client: MqttClient,
    private readonly control: Server,
  ) {
    control.on('connection', (socket) => this.onControl(socket));
  }

  /** Connects to `brokerUrl` and opens the control port on 127.0.0.1. */
  static async start(brokerUrl: string): Promise<ScalePublisher> {
    const client = mqttConnect(brokerUrl, { clientId: 'bench-scale-hardware', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const control = createServer();
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    return new ScalePublisher(client, control);
  }

  /** Where the clients' processes report their progress. */
  get controlPort(): number {
    return (this.control.address() as AddressInfo).port;
  }

  /** Publishes a retained message (QoS 1) and resolves on its PUBACK. */
  async retain(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  /**
   * Publishes updates 1 … `count` on the counters under `prefix`, at most `window` ahead of what
   * every client has; resolves when the clients report `count`.
   */
  emit(prefix: string, fields: number, count: number, window: number): Promise<void> {
    if (this.run) throw new Error('scale publisher: a run is already in flight');
    return new Promise<void>((resolve) => {
      this.run = { prefix, fields, count, window, emitted: 0, completed: 0, resolve };
      this.pump();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.control.close(() => resolve()));
    await this.client.endAsync(true);
  }

  private pump(): void {
    const run = this.run;
    if (!run) return;
    while (run.emitted < run.count && run.emitted - run.completed < run.window) {
      const k = ++run.emitted;
      this.client.publish(counterTopic(run.prefix, k % run.fields), String(k), { qos: 1 });
    }
  }

  private onCompleted(n: number): void {
    const run = this.run;
    if (!run || n <= run.completed) return;
    run.completed = Math.min(n, run.count);
    if (run.completed >= run.count) {
      this.run = undefined;
      run.resolve();
      return;
    }
    this.pump();
  }

  private onControl(socket: Socket): void {
    this.sockets.add(socket);
    readPacing(socket, (n) => this.onCompleted(n));
    socket.on('close', () => this.sockets.delete(socket));
  }
}
