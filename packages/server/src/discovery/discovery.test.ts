/**
 * The discovery runner on a real (embedded aedes) broker, with a minimal source whose configs are
 * device descriptions as JSON on `disc/<id>/config`: what each source shares — the first view of
 * retained configs, run-time additions, changes and removals, the limits, a failing source — and
 * the bridges it runs (a write reaches the broker, checked by a witness).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWitness, type Witness } from '@live-device-form/testkit';
import type { CatalogEvent } from '../catalog.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../embedded-broker.js';
import { recordingLogger, type RecordingLogger } from '../logger.js';
import { createDiscovery, type Discovery, type DiscoveryOptions } from './discovery.js';
import type { DeviceSourceFactory } from './source.js';

/** A source whose config payload is the device description itself; empty = removed. */
const jsonSource =
  (topicPrefixes?: string[]): DeviceSourceFactory =>
  () => ({
    name: 'test',
    filters: ['disc/+/config'],
    ...(topicPrefixes ? { topicPrefixes } : {}),
    receive(topic, payload) {
      const id = topic.split('/')[1]!;
      if (payload.length === 0) return [{ type: 'remove', id }];
      if (payload.toString() === 'throw') throw new Error('source bug');
      return [{ type: 'upsert', description: JSON.parse(payload.toString()) as never }];
    },
  });

const lamp = (id: string, max = 100, topic = `lamp/${id}`) =>
  JSON.stringify({
    id,
    topics: [{ status: `${topic}/state`, pattern: '{level}', set: `${topic}/set`, template: '{level}' }],
    fields: { level: { type: 'integer', min: 0, max, writable: true } },
  });

let broker: EmbeddedBroker;
let witness: Witness;
let log: RecordingLogger;
const discoveries: Discovery[] = [];

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['lamp/#']);
  log = recordingLogger();
});

afterEach(async () => {
  await Promise.all(discoveries.splice(0).map((d) => d.close()));
  await witness.close();
  await broker.close();
});

function start(options: Partial<DiscoveryOptions> = {}): { discovery: Discovery; events: CatalogEvent[] } {
  const discovery = createDiscovery({
    url: broker.url,
    sources: [jsonSource()],
    logger: log,
    ...options,
  });
  discoveries.push(discovery);
  const events: CatalogEvent[] = [];
  discovery.subscribe((e) => events.push(e));
  return { discovery, events };
}

/** Resolves with the next catalog event that matches. */
function nextEvent(discovery: Discovery, match: (e: CatalogEvent) => boolean): Promise<CatalogEvent> {
  return new Promise((resolve) => {
    const off = discovery.subscribe((e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

const warnings = (msg: string) => log.entries.filter((e) => e.level === 'warn' && e.msg.includes(msg));

describe('createDiscovery', () => {
  it('has every retained device once its first view is ready, and runs a bridge for each that writes to the broker', async () => {
    await witness.publish('disc/a/config', lamp('a'), { retain: true });
    await witness.publish('disc/b/config', lamp('b'), { retain: true });
    await witness.publish('lamp/a/state', '42', { retain: true });
    const { discovery } = start();
    const found: string[] = [];
    discovery.on('device-discovered', ({ source, id, fields }) => found.push(`${source} ${id} ${fields}`));
    expect(await discovery.ready()).toBe(true);
    expect(
      discovery
        .devices()
        .map((b) => b.id)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(found.sort()).toEqual(['test a 1', 'test b 1']);
    const a = discovery.devices().find((b) => b.id === 'a')!;
    expect(await a.ready!()).toBe(true);
    expect(a.snapshot()).toEqual({ level: 42 });
    const mark = witness.mark();
    expect(await a.write('level', 7, () => null)).toBe('accepted');
    await witness.waitFor((m) => m.topic === 'lamp/a/set' && m.payload === '7', 'the write', { from: mark });
  });

  it('adds a device announced at run time, replaces one whose description changed, removes one whose config is cleared', async () => {
    const { discovery } = start();
    await discovery.ready();
    const added = nextEvent(discovery, (e) => e.type === 'added');
    await witness.publish('disc/a/config', lamp('a'), { retain: true });
    const first = await added;
    expect(first.type === 'added' && first.bridge.schema[0]).toMatchObject({ name: 'level', max: 100 });

    // The same config again changes nothing; a different max replaces the bridge.
    const replaced = nextEvent(discovery, (e) => e.type === 'added');
    await witness.publish('disc/a/config', lamp('a'), { retain: true });
    await witness.publish('disc/a/config', lamp('a', 50), { retain: true });
    const second = await replaced;
    expect(second.type === 'added' && second.bridge.schema[0]).toMatchObject({ name: 'level', max: 50 });
    expect(second.type === 'added' && first.type === 'added' && second.bridge !== first.bridge).toBe(true);

    const removed = nextEvent(discovery, (e) => e.type === 'removed');
    await witness.publish('disc/a/config', '', { retain: true });
    expect(await removed).toEqual({ type: 'removed', id: 'a' });
    expect(discovery.devices()).toEqual([]);
  });

  it('applies a device announced in several messages once, after they settle', async () => {
    const { discovery, events } = start({ settleMs: 100 });
    await discovery.ready();
    const added = nextEvent(discovery, (e) => e.type === 'added');
    for (const max of [10, 20, 30]) await witness.publish('disc/a/config', lamp('a', max));
    const e = await added;
    expect(e.type === 'added' && e.bridge.schema[0]?.max).toBe(30);
    expect(events.filter((x) => x.type === 'added')).toHaveLength(1);
  });

  it('refuses descriptions that are invalid (a wildcard topic, $SYS), logging each once, and keeps running', async () => {
    const { discovery } = start();
    await discovery.ready();
    const bad = lamp('bad', 100, 'lamp/+');
    await witness.publish('disc/bad/config', bad);
    await witness.publish('disc/sys/config', lamp('sys', 100, '$SYS/broker'));
    await witness.publish('disc/bad/config', bad);
    const ok = nextEvent(discovery, (e) => e.type === 'added');
    await witness.publish('disc/ok/config', lamp('ok'));
    await ok;
    expect(discovery.devices().map((b) => b.id)).toEqual(['ok']);
    const refused = warnings('discovered device refused: invalid description');
    expect(refused.map((e) => e.obj?.device).sort()).toEqual(['bad', 'sys']);
  });

  it('holds a source that derives its topics to its prefixes', async () => {
    const { discovery } = start({ sources: [jsonSource(['lamp/'])] });
    await discovery.ready();
    await witness.publish('disc/out/config', lamp('out', 100, 'elsewhere/x'));
    const ok = nextEvent(discovery, (e) => e.type === 'added');
    await witness.publish('disc/in/config', lamp('in'));
    await ok;
    expect(discovery.devices().map((b) => b.id)).toEqual(['in']);
    expect(warnings('a topic outside the allowed prefixes')[0]?.obj).toMatchObject({
      device: 'out',
      topics: ['elsewhere/x/state', 'elsewhere/x/set'],
    });
  });

  it('drops a message over maxConfigBytes unread, refuses devices beyond maxDevices, and survives a source that throws', async () => {
    const { discovery } = start({ maxConfigBytes: 400, maxDevices: 2 });
    await discovery.ready();
    await witness.publish('disc/huge/config', lamp('huge') + ' '.repeat(500));
    await witness.publish('disc/boom/config', 'throw');
    const two = new Promise<void>((resolve) => {
      let n = 0;
      discovery.subscribe((e) => {
        if (e.type === 'added' && ++n === 2) resolve();
      });
    });
    await witness.publish('disc/a/config', lamp('a'));
    await witness.publish('disc/b/config', lamp('b'));
    await two;
    await witness.publish('disc/c/config', lamp('c'));
    await expect.poll(() => warnings('maxDevices reached').length).toBe(1);
    expect(
      discovery
        .devices()
        .map((b) => b.id)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(warnings('larger than maxConfigBytes')[0]?.obj).toMatchObject({ topic: 'disc/huge/config' });
    expect(warnings('the source failed on it')[0]?.obj).toMatchObject({ topic: 'disc/boom/config' });
  });

  it('resolves ready() false when the broker does not answer within readyTimeoutMs', async () => {
    const discovery = createDiscovery({
      url: 'mqtt://127.0.0.1:1',
      sources: [jsonSource()],
      logger: log,
      readyTimeoutMs: 50,
      bridgeOptions: { reconnectPeriodMs: 60_000 },
    });
    discoveries.push(discovery);
    expect(await discovery.ready()).toBe(false);
  });

  it('checks its options', () => {
    expect(() => createDiscovery({ url: broker.url, sources: [] })).toThrow(/"sources"/);
    expect(() => createDiscovery({ sources: [jsonSource()] })).toThrow(/broker/);
    expect(() => createDiscovery({ url: 'http://127.0.0.1:1883', sources: [jsonSource()] })).toThrow(/mqtt:\/\//);
    expect(() => createDiscovery({ url: broker.url, sources: [jsonSource()], settleMs: -1 })).toThrow(/settleMs/);
  });
});
