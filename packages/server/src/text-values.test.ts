/**
 * Text values a line-based device could misread (docs/protocol.md, the limits table), end to end:
 * a real WebSocket server on loopback, the MQTT bridge, an embedded aedes broker, and a witness
 * subscriber that sees what really reached the broker. A refused write is answered
 * `rejected/invalid` with a message naming the character, and is never published.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import { defineDevice } from './device/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { silentLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';
import { createLiveDeviceServer } from './server.js';
import { TestClient, startWitness, type Witness, whenOnline } from '@live-device-form/testkit';

const P = `ldf-text-${process.pid}`;

/** A device that reads one command per line: `label <text>`, `level <n>`. */
const panel = defineDevice({
  id: 'panel',
  availability: { topic: `${P}/online`, online: '1', offline: '0' },
  topics: [
    { status: `${P}/status/label`, pattern: '{label}', set: `${P}/set/label`, template: 'label {label}' },
    { status: `${P}/status/level`, pattern: '{level}', set: `${P}/set/level`, template: 'level {level}' },
  ],
  fields: {
    label: { label: 'Label', type: 'text', writable: true },
    level: { label: 'Level', type: 'integer', min: 0, max: 100, writable: true },
  },
});

let broker: EmbeddedBroker;
let witness: Witness;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, [`${P}/#`]);
  await witness.publish(`${P}/online`, '1', { retain: true });
  await witness.publish(`${P}/status/label`, 'cam', { retain: true });
  await witness.publish(`${P}/status/level`, '5', { retain: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await broker.close();
});

async function page(): Promise<{ client: TestClient; rev: number }> {
  const bridge = createMqttBridge(panel, { url: broker.url, logger: silentLogger });
  cleanups.push(() => bridge.close());
  const live = createLiveDeviceServer({ devices: [bridge], logger: silentLogger });
  cleanups.push(() => live.close());
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  await whenOnline(bridge);
  const client = await TestClient.connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/live`);
  cleanups.push(() => client.ws.terminate());
  client.hello(0, 'panel');
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 5000);
  expect(resync.fields.label?.value).toBe('cam');
  return { client, rev: resync.fields.label?.rev as number };
}

/** A fresh write that reaches the broker: everything refused before it would have arrived first. */
async function barrier(client: TestClient, id: number, rev: number): Promise<void> {
  client.set(id, 'label', 'studio', rev);
  expect(await client.ack(id, 5000)).toMatchObject({ status: 'accepted' });
  await witness.waitFor((m) => m.topic === `${P}/set/label` && m.payload === 'label studio', 'the fresh write');
}

const published = (mark: number): string[] => witness.since(mark).map((m) => `${m.topic} ${m.payload}`);

describe('text values end to end', () => {
  it('a NEL (U+0085) is refused invalid and never published: no second command', async () => {
    const { client, rev } = await page();
    const mark = witness.mark();
    client.set(1, 'label', 'a\u0085level 999999', rev);
    expect(await client.ack(1, 5000)).toMatchObject({
      status: 'rejected',
      reason: 'invalid',
      field: 'label',
      value: 'cam',
      message: 'label: contains a newline or control character (U+0085)',
    });
    await barrier(client, 2, rev);
    expect(published(mark)).toEqual([`${P}/set/label label studio`]);
  });

  it('a lone surrogate sent as a JSON escape is refused invalid, never published as U+FFFD', async () => {
    const { client, rev } = await page();
    const mark = witness.mark();
    // Raw JSON text: `\ud800` is an escape JSON.parse turns into a lone surrogate (ws would
    // replace a lone surrogate in a JS string before it left this process).
    client.send(`{"type":"set","id":1,"field":"label","value":"a\\ud800","rev":${rev},"epoch":"${client.epoch}"}`);
    expect(await client.ack(1, 5000)).toMatchObject({
      status: 'rejected',
      reason: 'invalid',
      field: 'label',
      message: 'label: contains a lone surrogate U+D800 (not well-formed Unicode)',
    });
    await barrier(client, 2, rev);
    expect(published(mark)).toEqual([`${P}/set/label label studio`]);
    expect(witness.messages.some((m) => m.payload.includes('\ufffd'))).toBe(false);
  });
});
