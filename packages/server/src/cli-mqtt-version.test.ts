/**
 * `live-device-server --mqtt-version` (docs/cli.md, *Flags*): MQTT 5 to an external broker, so that
 * the CLI's writes carry the `ldf-origin` user property by which several server processes tell
 * their own writes on the action topics from others' (docs/protocol.md, *Several server
 * processes*). The bin as shipped against a real Mosquitto 2, with a plain mqtt.js client speaking
 * MQTT 5 as the witness of what reached the broker, properties included.
 *
 * Runs whenever Mosquitto is installed, and always in CI (where a missing Mosquitto fails it).
 */
import { connectAsync, type IPublishPacket } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResyncFrame, UpdateFrame } from '@live-device-form/protocol';
import { ORIGIN_PROPERTY } from './own-publishes.js';
import {
  TestClient,
  VIDEOPROC_FILE,
  VP,
  buildCli,
  listeningUrl,
  runCli,
  runMosquittoTests,
  startMosquitto,
  stopCliProcesses,
  until,
  type Mosquitto,
} from '@live-device-form/testkit';

beforeAll(buildCli, 120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A Mosquitto with the device's retained state, and an MQTT 5 witness of the freeze action topic. */
async function mosquittoWithWitness(): Promise<{
  mosquitto: Mosquitto;
  seen: IPublishPacket[];
  publish: (payload: string, origin?: string) => Promise<void>;
}> {
  const mosquitto = await startMosquitto();
  cleanups.push(() => mosquitto.close());
  const witness = await connectAsync(mosquitto.url, { protocolVersion: 5, reconnectPeriod: 0 });
  cleanups.push(() => witness.endAsync(true));
  await witness.publishAsync(VP.freezeStatus, '0', { qos: 1, retain: true });
  await witness.publishAsync(VP.online, '1', { qos: 1, retain: true });
  const seen: IPublishPacket[] = [];
  witness.on('message', (_topic, _payload, packet) => seen.push(packet));
  // No Local: the witness's own writes (a write from elsewhere below) are not recorded as seen.
  await witness.subscribeAsync(VP.freezeSet, { qos: 1, nl: true });
  return {
    mosquitto,
    seen,
    async publish(payload, origin) {
      await witness.publishAsync(VP.freezeSet, payload, {
        qos: 1,
        ...(origin === undefined ? {} : { properties: { userProperties: { [ORIGIN_PROPERTY]: origin } } }),
      });
    },
  };
}

async function onlinePage(url: string): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await TestClient.connect(url);
  cleanups.push(() => client.ws.terminate());
  client.hello(0, 'videoproc');
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 10_000);
  return { client, resync };
}

describe.runIf(runMosquittoTests)('live-device-server --mqtt-version on a real Mosquitto', () => {
  it('5: every write carries ldf-origin, the same for the process; its own write is no write from elsewhere, a foreign one is', async () => {
    const { mosquitto, seen, publish } = await mosquittoWithWitness();
    const cli = runCli(['--device', VIDEOPROC_FILE, '--mqtt', mosquitto.url, '--mqtt-version', '5', '--port', '0']);
    const { client, resync } = await onlinePage(await listeningUrl(cli));
    const rev = resync.fields.freeze?.rev ?? 0;
    client.set(1, 'freeze', true, rev);
    expect(await client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    await until(() => seen.length === 1, 5000);
    const origin = seen[0]?.properties?.userProperties?.[ORIGIN_PROPERTY];
    expect(origin).toMatch(/^[0-9a-f]{16}$/);

    // A second write from the page's revision: its own first write did not bump the field (no
    // device here echoes it, so the revision is still the resync's), and it carries the same id.
    client.set(2, 'freeze', false, rev);
    expect(await client.ack(2, 5000)).toMatchObject({ status: 'accepted' });
    await until(() => seen.length === 2, 5000);
    expect(seen[1]?.properties?.userProperties?.[ORIGIN_PROPERTY]).toBe(origin);
    expect(client.frames.filter((f) => f.type === 'update')).toEqual([]);

    // Another process's write, the same payload but another id: a write from elsewhere, so the page
    // gets the field's next revision and a set from the old one is stale.
    await publish('freeze 0', 'another-process');
    const bumped = await client.next<UpdateFrame>((f) => f.type === 'update' && f.field === 'freeze', 5000);
    expect(bumped.rev).toBeGreaterThan(rev);
    client.set(3, 'freeze', true, rev);
    expect(await client.ack(3, 5000)).toMatchObject({ status: 'rejected', reason: 'stale' });
  });

  it('3.1.1 by default: the writes carry no user property', async () => {
    const { mosquitto, seen } = await mosquittoWithWitness();
    const cli = runCli(['--device', VIDEOPROC_FILE, '--mqtt', mosquitto.url, '--port', '0']);
    const { client, resync } = await onlinePage(await listeningUrl(cli));
    client.set(1, 'freeze', true, resync.fields.freeze?.rev ?? 0);
    expect(await client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    await until(() => seen.length === 1, 5000);
    expect(seen[0]?.properties?.userProperties).toBeUndefined();
  });
});

describe('live-device-server --mqtt-version: bad values', () => {
  it('refuses a version other than 3.1.1 or 5, and 5 with the embedded broker', async () => {
    const four = runCli(['--device', VIDEOPROC_FILE, '--mqtt', 'mqtt://127.0.0.1:1', '--mqtt-version', '4']);
    expect(await four.exited).toBe(1);
    expect(four.stderr()).toContain(
      "option '--mqtt-version <version>' argument '4' is invalid. Allowed choices are 3.1.1, 5.",
    );
    const embedded = runCli(['--device', VIDEOPROC_FILE, '--mqtt-version', '5']);
    expect(await embedded.exited).toBe(1);
    expect(embedded.stderr()).toContain(
      '--mqtt-version 5 needs --mqtt: the embedded broker (aedes) speaks MQTT 3.1.1 only',
    );
  });
});
