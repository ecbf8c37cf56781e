/**
 * A small real stack in this process, for the targeted tests: an embedded broker, the simulated
 * chaos devices on it, the checker's own subscription to `#`, and the SDK (one MQTT bridge per
 * device) on a plain `node:http` server on 127.0.0.1.
 * @module
 */
import { whenOnline } from '@live-device-form/testkit';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type DeviceDescription,
  type EmbeddedBroker,
  type LiveDeviceServer,
  type LiveDeviceServerOptions,
  type MqttBridge,
  createLiveDeviceServer,
  createMqttBridge,
  silentLogger,
  startEmbeddedBroker,
} from '@live-device-form/server';
import { chaosDevice } from './chaos-device.js';
import { type DeviceSimulator, startDeviceSimulator } from './device-sim.js';
import { type BrokerObserver, startObserver } from './observer.js';
import { Rng } from './prng.js';

/** A PUBLISH the broker received from a client (aedes' own record, not a subscription). */
export interface ClientPublish {
  clientId: string;
  topic: string;
  payload: string;
}

export interface Stack {
  broker: EmbeddedBroker;
  /** Every PUBLISH a client sent the broker, whatever its topic (even ones no one subscribes to). */
  publishes: ClientPublish[];
  /** Resolves with the first recorded PUBLISH matching `pred` (now or later), `undefined` after `timeoutMs`. */
  publishWhere(pred: (p: ClientPublish) => boolean, timeoutMs?: number): Promise<ClientPublish | undefined>;
  devices: DeviceSimulator;
  observer: BrokerObserver;
  bridges: MqttBridge[];
  live: LiveDeviceServer;
  http: http.Server;
  /** `ws://127.0.0.1:PORT/live` */
  url: string;
  close(): Promise<void>;
}

/** Starts the stack and resolves when every bridge is online. */
export async function startStack(
  options: {
    devices?: string[];
    /** More devices, described in full; their state must be published by the test (retained). */
    extra?: DeviceDescription[];
    server?: Partial<LiveDeviceServerOptions>;
    seed?: number;
    /** Runs before the bridges connect (e.g. publishing the extra devices' retained state). */
    before?: (brokerUrl: string) => Promise<void>;
  } = {},
): Promise<Stack> {
  const ids = options.devices ?? ['dev1'];
  const broker = await startEmbeddedBroker();
  const publishes: ClientPublish[] = [];
  const waiters = new Set<(p: ClientPublish) => void>();
  broker.broker.on('publish', (packet, client) => {
    if (!client) return;
    const p = { clientId: client.id, topic: packet.topic, payload: String(packet.payload) };
    publishes.push(p);
    for (const w of [...waiters]) w(p);
  });
  const publishWhere = (pred: (p: ClientPublish) => boolean, timeoutMs = 5000): Promise<ClientPublish | undefined> => {
    const found = publishes.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const w = (p: ClientPublish): void => {
        if (!pred(p)) return;
        waiters.delete(w);
        clearTimeout(timer);
        resolve(p);
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        resolve(undefined);
      }, timeoutMs);
      waiters.add(w);
    });
  };
  const observer = await startObserver(broker.url);
  const devices = await startDeviceSimulator({
    url: broker.url,
    devices: ids,
    rng: new Rng(options.seed ?? 1),
    echoDelayMaxMs: 0,
    clampChance: 0,
  });
  await options.before?.(broker.url);
  const bridges = [...ids.map(chaosDevice), ...(options.extra ?? [])].map((d) =>
    createMqttBridge(d, { url: broker.url, logger: silentLogger, reconnectPeriodMs: 100, clientId: `ldf-sdk-${d.id}` }),
  );
  const live = createLiveDeviceServer({ devices: bridges, logger: silentLogger, ...options.server });
  const server = http.createServer((_q, s) => s.writeHead(404).end());
  live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await Promise.all(bridges.map((b) => whenOnline(b, 60_000)));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${options.server?.path ?? '/live'}`;
  let closing: Promise<void> | undefined;
  return {
    broker,
    publishes,
    publishWhere,
    devices,
    observer,
    bridges,
    live,
    http: server,
    url,
    close() {
      closing ??= (async () => {
        await live.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all(bridges.map((b) => b.close()));
        await devices.close();
        await observer.close();
        await broker.close();
      })();
      return closing;
    },
  };
}
