/**
 * Availability lists in the MQTT bridge (docs/devices.md, *Availability*): a Zigbee2MQTT-shaped
 * device whose availability is its own topic (JSON `{"state":"online"}` or plain `online`) and the
 * bridge's `bridge/state`, in each mode; retained availability before online; payloads read through
 * a JSON pointer or `decode`. Every test runs on the embedded aedes broker and on a real Mosquitto;
 * what reaches the broker is checked with a plain mqtt.js witness, never through the bridge.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineDevice, type DeviceDescription } from './device/index.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { recordingLogger, silentLogger } from './logger.js';
import { createMqttBridge, type MqttBridge, type MqttBridgeOptions } from './mqtt-bridge.js';
import type { AvailabilityDescription } from './device/types.js';
import {
  availability,
  freshestOf,
  recordEvents,
  runMosquittoTests,
  startFaultProxy,
  startMosquitto,
  startWitness,
  status,
  until,
  type Witness,
} from '@live-device-form/testkit';

/** A broker for one test: where it listens, and how to stop it. */
interface TestBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const BROKERS: { name: string; run: boolean; start: () => Promise<TestBroker> }[] = [
  { name: 'the embedded aedes broker', run: true, start: startEmbeddedBroker },
  { name: 'Mosquitto', run: runMosquittoTests, start: () => startMosquitto() },
];

const LAMP = 'z2m/lamp';
const LAMP_SET = 'z2m/lamp/set';
const LAMP_AVAILABILITY = 'z2m/lamp/availability';
const BRIDGE_STATE = 'z2m/bridge/state';

/** Zigbee2MQTT's two availability topics, both read at `/state` (or plain). */
const Z2M_TOPICS: readonly AvailabilityDescription[] = [
  { topic: LAMP_AVAILABILITY, json: '/state' },
  { topic: BRIDGE_STATE, json: '/state' },
];

/** A dimmable Zigbee2MQTT lamp: JSON state, JSON writes, availability from the lamp and the bridge. */
const lamp = (mode?: 'all' | 'any' | 'latest', topics = Z2M_TOPICS): DeviceDescription =>
  defineDevice({
    id: 'lamp',
    availability: { topics, ...(mode === undefined ? {} : { mode }) },
    topics: [{ status: LAMP, set: LAMP_SET, json: { state: '/state', brightness: '/brightness' } }],
    fields: {
      state: { type: 'boolean', true: 'ON', false: 'OFF', writable: true },
      brightness: { type: 'integer', min: 0, max: 254, writable: true },
    },
  });

for (const kind of BROKERS) {
  describe.runIf(kind.run)(`availability lists on ${kind.name}`, () => {
    let broker: TestBroker;
    let witness: Witness;
    const cleanups: (() => Promise<unknown> | unknown)[] = [];

    beforeEach(async () => {
      broker = await kind.start();
      witness = await startWitness(broker.url, ['z2m/#']);
    });

    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
      await witness.close();
      await broker.close();
    });

    function bridgeOn(d: DeviceDescription, options: Partial<MqttBridgeOptions> = {}, url = broker.url): MqttBridge {
      const bridge = createMqttBridge(d, {
        url,
        logger: silentLogger,
        reconnectPeriodMs: 20,
        maxReconnectPeriodMs: 200,
        ...options,
      });
      cleanups.push(() => bridge.close());
      return bridge;
    }

    /** The lamp's retained state and both availability topics, as Zigbee2MQTT leaves them. */
    async function z2mState(lampSays: string, bridgeSays: string): Promise<void> {
      await witness.publish(LAMP, '{"state":"ON","brightness":120,"linkquality":80}', { retain: true });
      await witness.publish(LAMP_AVAILABILITY, lampSays, { retain: true });
      await witness.publish(BRIDGE_STATE, bridgeSays, { retain: true });
    }

    /** A write through the bridge, seen arriving at the broker. */
    async function writeArrives(bridge: MqttBridge, brightness: number): Promise<void> {
      expect(await bridge.write('brightness', brightness, freshestOf(bridge))).toBe('accepted');
      await witness.waitFor((m) => m.topic === LAMP_SET && m.payload === `{"brightness":${brightness}}`, 'the write');
    }

    const writes = (): string[] => witness.messages.filter((m) => m.topic === LAMP_SET).map((m) => m.payload);

    it('all: the bridge offline makes the device offline although its own availability says online', async () => {
      // The lamp in Zigbee2MQTT's JSON form, the bridge in its legacy plain form.
      await z2mState('{"state":"online"}', 'online');
      const bridge = bridgeOn(lamp());
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online');
      expect(bridge.snapshot()).toEqual({ state: true, brightness: 120 });
      await writeArrives(bridge, 10);

      await witness.publish(BRIDGE_STATE, '{"state":"offline"}', { retain: true });
      await events.next(availability(false), 'offline with the bridge');
      expect(bridge.online).toBe(false);
      expect(await bridge.write('brightness', 11, freshestOf(bridge))).toBe('offline');

      await witness.publish(BRIDGE_STATE, '{"state":"online"}', { retain: true });
      await events.next(availability(true), 'online again');
      await writeArrives(bridge, 12);
      // The write refused while the bridge was offline never went out.
      expect(writes()).toEqual(['{"brightness":10}', '{"brightness":12}']);
    });

    it('any: online while one topic says online', async () => {
      await z2mState('offline', 'online');
      const bridge = bridgeOn(lamp('any'));
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online (the bridge says so)');
      await witness.publish(BRIDGE_STATE, 'offline', { retain: true });
      await events.next(availability(false), 'offline (neither says so)');
      await witness.publish(LAMP_AVAILABILITY, '{"state":"online"}', { retain: true });
      await events.next(availability(true), 'online (the lamp says so)');
      await writeArrives(bridge, 30);
    });

    it('latest: the last message on any topic decides', async () => {
      await z2mState('online', 'online');
      const bridge = bridgeOn(lamp('latest'));
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online');
      await witness.publish(BRIDGE_STATE, 'offline', { retain: true });
      await events.next(availability(false), 'offline (the bridge spoke last)');
      // In mode "all" the bridge's offline would still hold the device offline.
      await witness.publish(LAMP_AVAILABILITY, 'online', { retain: true });
      await events.next(availability(true), 'online (the lamp spoke last)');
      await writeArrives(bridge, 40);
    });

    it('retained availability on every topic is in before online: ready() with the device online', async () => {
      await z2mState('{"state":"online"}', '{"state":"online"}');
      // The broker's bytes arrive in 16-byte pieces, one per event-loop turn, so each retained
      // message completes in a turn of its own: a settle that ended before the bridge's state came
      // would show in `online` right after `ready()` (in one chunk both would be read at once).
      const proxy = await startFaultProxy({
        target: { host: broker.host, port: broker.port },
        shape: () => ({ split: { toServer: () => 65_536, toClient: () => 16 } }),
      });
      cleanups.push(() => proxy.close());
      // A settle longer than the test's timeout: only "every topic delivered" can end it.
      const bridge = bridgeOn(lamp(), { settleMs: 60_000, readyTimeoutMs: 60_000 }, proxy.url('mqtt'));
      const events = recordEvents(bridge);
      expect(await bridge.ready()).toBe(true);
      // What a session's first resync sees right after ready(): the state and the device online.
      expect(bridge.online).toBe(true);
      expect(bridge.snapshot()).toEqual({ state: true, brightness: 120 });
      const order = events.events.map((e) => e.type);
      expect(order).toEqual(['status', 'availability']);
      expect(events.events.at(-1)).toEqual({ type: 'availability', online: true });
    });

    it('a broker reconnect forgets every topic: a topic silent since then is unknown, so offline in mode all', async () => {
      await z2mState('online', 'online');
      const proxy = await startFaultProxy({ target: { host: broker.host, port: broker.port } });
      cleanups.push(() => proxy.close());
      const bridge = bridgeOn(lamp(), {}, proxy.url('mqtt'));
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online');

      proxy.refuse();
      await events.next(availability(false, true), 'offline with reset');
      // Meanwhile the bridge's retained state is gone (an empty retained payload clears it).
      await witness.publish(BRIDGE_STATE, '', { retain: true });
      const since = events.mark();
      proxy.pass();
      await events.next(status({ brightness: 120 }), 'the retained state again');
      await until(() => bridge.linkState === 'up', 10_000);
      // The lamp says online again; the bridge has said nothing on this connection.
      expect(bridge.online).toBe(false);
      expect(events.events.slice(since).filter((e) => e.type === 'availability')).toEqual([]);
      expect(await bridge.write('brightness', 50, freshestOf(bridge))).toBe('offline');

      await witness.publish(BRIDGE_STATE, 'online', { retain: true });
      await events.next(availability(true), 'online once the bridge speaks');
      await writeArrives(bridge, 51);
      expect(writes()).toEqual(['{"brightness":51}']);
    });

    it('an unexpected payload counts as offline for its topic only, logged with the topic', async () => {
      const log = recordingLogger();
      await z2mState('online', 'online');
      const bridge = bridgeOn(lamp('any'), { logger: log });
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online');
      // The lamp's topic still says online: in mode "any" the device stays online.
      await witness.publish(BRIDGE_STATE, '{"state":"restarting"}', { retain: true });
      await witness.waitFor((m) => m.payload === '{"state":"restarting"}', 'the bad payload at the broker');
      await until(() => log.entries.some((e) => e.msg === 'unexpected availability payload: counted as offline'));
      expect(bridge.online).toBe(true);
      expect(log.entries).toContainEqual({
        level: 'warn',
        msg: 'unexpected availability payload: counted as offline',
        obj: {
          device: 'lamp',
          topic: BRIDGE_STATE,
          payload: '{"state":"restarting"}',
          reason: '"restarting" is neither "online" nor "offline"',
        },
      });
      // Now the lamp goes offline too: the bridge's unexpected payload does not count as online.
      await witness.publish(LAMP_AVAILABILITY, '{"status":"online"}', { retain: true });
      await events.next(availability(false), 'offline');
      expect(log.entries).toContainEqual(
        expect.objectContaining({
          obj: expect.objectContaining({ topic: LAMP_AVAILABILITY, reason: 'no string at /state' }),
        }),
      );
    });

    it('an oversized payload on one availability topic counts as offline for that topic', async () => {
      const log = recordingLogger();
      await z2mState('online', 'online');
      const bridge = bridgeOn(lamp(), { logger: log, maxPayloadBytes: 64 });
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online');
      // An "online" that cannot be read: never parsed, the topic counts as offline.
      await witness.publish(BRIDGE_STATE, JSON.stringify({ state: 'online', padding: 'x'.repeat(100) }), {
        retain: true,
      });
      await events.next(availability(false), 'offline');
      expect(log.entries).toContainEqual(
        expect.objectContaining({
          msg: 'payload dropped: larger than maxPayloadBytes',
          obj: expect.objectContaining({ topic: BRIDGE_STATE }),
        }),
      );
      await witness.publish(BRIDGE_STATE, 'online', { retain: true });
      await events.next(availability(true), 'online again');
    });

    it('a json pointer on a plain-text payload compares the payload as it is (one topic)', async () => {
      await witness.publish(LAMP, '{"state":"OFF","brightness":3}', { retain: true });
      await witness.publish(LAMP_AVAILABILITY, 'online', { retain: true });
      const single = defineDevice({ ...lamp(), availability: { topic: LAMP_AVAILABILITY, json: '/state' } });
      const bridge = bridgeOn(single);
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online from plain "online"');
      await witness.publish(LAMP_AVAILABILITY, '{"state":"offline"}', { retain: true });
      await events.next(availability(false), 'offline from JSON');
      await witness.publish(LAMP_AVAILABILITY, '{"state":"online"}', { retain: true });
      await events.next(availability(true), 'online from JSON');
    });

    it('decode turns each payload into a token; a throw counts as offline and is logged', async () => {
      const log = recordingLogger();
      // A Home Assistant `value_template` such as "{{ 'up' if value_json.up else 'down' }}", compiled.
      const decode = (payload: Buffer): string =>
        (JSON.parse(payload.toString()) as { up: boolean }).up ? 'up' : 'down';
      const d = lamp('all', [
        { topic: LAMP_AVAILABILITY, online: 'up', offline: 'down', decode },
        { topic: BRIDGE_STATE, json: '/state' },
      ]);
      await z2mState('{"up":true}', '{"state":"online"}');
      const bridge = bridgeOn(d, { logger: log });
      const events = recordEvents(bridge);
      await events.next(availability(true), 'online');
      await witness.publish(LAMP_AVAILABILITY, '{"up":false}', { retain: true });
      await events.next(availability(false), 'offline (decoded "down")');
      await witness.publish(LAMP_AVAILABILITY, '{"up":true}', { retain: true });
      await events.next(availability(true), 'online (decoded "up")');
      await witness.publish(LAMP_AVAILABILITY, 'not json', { retain: true });
      await events.next(availability(false), 'offline (decode threw)');
      expect(log.entries).toContainEqual(
        expect.objectContaining({
          msg: 'unexpected availability payload: counted as offline',
          obj: expect.objectContaining({ topic: LAMP_AVAILABILITY, reason: expect.stringMatching(/^decode threw: /) }),
        }),
      );
    });
  });
}
