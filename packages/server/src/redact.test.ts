/**
 * Credentials out of logged URLs: the helper itself, and the MQTT bridge's log over a real broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VIDEOPROC_FILE, VP, availability, recordEvents, startWitness } from '@live-device-form/testkit';
import { loadDeviceFile } from './device/index.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { recordingLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';
import { redactUrl } from './redact.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('redactUrl', () => {
  it.each([
    ['mqtt://panel:s3cret@broker:1883', 'mqtt://panel:***@broker:1883'],
    ['wss://panel:s3cret@broker/mqtt', 'wss://panel:***@broker/mqtt'],
    ['mqtt://:s3cret@broker', 'mqtt://:***@broker'],
    // MQTT.js decodes the user name and splits it at the ':'.
    ['mqtt://panel%3As3cret@broker', 'mqtt://***@broker'],
    ['mqtt://panel%3a@broker', 'mqtt://***@broker'],
    ['mqtt://bad%zz@broker', 'mqtt://***@broker'],
    // Not a URL the parser takes: redacted all the same.
    ['mqtt://panel:s3cret@[bad host', 'mqtt://panel:***@[bad host'],
    ['mqtt://a@b:s3cret@broker', 'mqtt://a@b:***@broker'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it.each(['mqtt://broker:1883', 'mqtt://panel@broker:1883', 'not a url', 'ws://broker/p?q=1'])(
    'leaves %s as it is',
    (url) => {
      expect(redactUrl(url)).toBe(url);
    },
  );
});

describe('the MQTT bridge logs its broker URL without the password', () => {
  it('logs "connected to the MQTT broker" with panel:***, never the password', async () => {
    const broker = await startEmbeddedBroker({ username: 'panel', password: 's3cret' });
    cleanups.push(() => broker.close());
    const withCredentials = broker.url.replace('mqtt://', 'mqtt://panel:s3cret@');
    const witness = await startWitness(withCredentials);
    cleanups.push(() => witness.close());
    await witness.publish(VP.online, '1', { retain: true });

    const log = recordingLogger();
    const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), { url: withCredentials, logger: log });
    cleanups.push(() => bridge.close());
    await recordEvents(bridge).next(availability(true), 'online: the password in the URL was used');

    expect(log.entries).toContainEqual(
      expect.objectContaining({
        msg: 'connected to the MQTT broker',
        obj: expect.objectContaining({ broker: broker.url.replace('mqtt://', 'mqtt://panel:***@') }) as unknown,
      }),
    );
    expect(JSON.stringify(log.entries)).not.toContain('s3cret');
  });

  it('keeps the password out of the TypeError for a URL of the wrong scheme', async () => {
    const device = await loadDeviceFile(VIDEOPROC_FILE);
    expect(() => createMqttBridge(device, { url: 'http://panel:s3cret@h' })).toThrow('got "http://panel:***@h"');
  });
});
