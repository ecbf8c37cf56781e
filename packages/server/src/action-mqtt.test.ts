/**
 * An action's press through the whole server side (docs/protocol.md rule 12): a real `ws` client,
 * the server, the MQTT bridge and the embedded aedes broker; what reaches the broker is checked with
 * the testkit's plain mqtt.js witness.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineDevice } from './device/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { recordingLogger, type RecordingLogger } from './logger.js';
import { createMqttBridge, type MqttBridge } from './mqtt-bridge.js';
import {
  availability,
  recordEvents,
  startServer,
  startWitness,
  stopAll,
  type Witness,
} from '@live-device-form/testkit';

const device = defineDevice({
  id: 'videoproc',
  availability: { topic: 'box/online', online: '1', offline: '0' },
  topics: [
    { status: 'box/level', pattern: '{level}', set: 'box/level/set', template: '{level}' },
    { set: 'box/reboot', template: '{reboot}' },
    { set: 'box/cmd', json: { identify: '/identify' } },
  ],
  fields: {
    level: { type: 'integer', min: 0, max: 10, writable: true },
    reboot: { type: 'action', label: 'Reboot', help: 'Restarts the box.' },
    identify: { type: 'action', token: 'blink' },
  },
});

let broker: EmbeddedBroker;
let witness: Witness;
let bridge: MqttBridge;
let log: RecordingLogger;

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['box/#']);
  await witness.publish('box/level', '3', { retain: true });
  await witness.publish('box/online', '1', { retain: true });
  log = recordingLogger();
  bridge = createMqttBridge(device, { url: broker.url, logger: log });
  await recordEvents(bridge).next(availability(true), 'online');
});

afterEach(async () => {
  await stopAll();
  await bridge.close();
  await witness.close();
  await broker.close();
});

/** Every message the next witness publish overtakes has arrived once it is back. */
async function settle(): Promise<void> {
  const marker = `box/marker/${witness.mark()}`;
  await witness.publish(marker, 'x');
  await witness.waitFor((m) => m.topic === marker, 'the marker');
}

describe('action press over MQTT', () => {
  it('publishes the token on the set topic exactly once, QoS 1, not retained; accepted on the PUBACK', async () => {
    const h = await startServer({ devices: [bridge] });
    const { client, resync } = await h.join();
    expect(resync.schema.find((f) => f.name === 'reboot')).toEqual({
      name: 'reboot',
      label: 'Reboot',
      type: 'action',
      help: 'Restarts the box.',
      writable: true,
    });
    expect(Object.keys(resync.fields)).toEqual(['level']);
    const from = witness.mark();
    client.set(1, 'reboot', null, 0);
    expect(await client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    client.set(2, 'identify', null, 0);
    expect(await client.ack(2)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
    await settle();
    const presses = witness.since(from).filter((m) => !m.topic.startsWith('box/marker/'));
    expect(presses.map(({ topic, payload, qos, retain }) => ({ topic, payload, qos, retain }))).toEqual([
      { topic: 'box/reboot', payload: 'PRESS', qos: 1, retain: false },
      { topic: 'box/cmd', payload: '{"identify":"blink"}', qos: 1, retain: false },
    ]);
    await client.roundTrip();
    expect(client.frames.filter((f) => f.type === 'update')).toEqual([]);
  });

  it('a press by another MQTT client changes nothing a page sees, and is not logged as unreadable', async () => {
    const h = await startServer({ devices: [bridge] });
    const { client } = await h.join();
    await witness.publish('box/reboot', 'PRESS');
    await settle();
    await client.roundTrip();
    expect(client.frames.filter((f) => f.type === 'update')).toEqual([]);
    expect(log.entries.filter((e) => e.level === 'warn')).toEqual([]);
    client.set(1, 'reboot', null, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'accepted' });
  });
});
