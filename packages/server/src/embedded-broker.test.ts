/**
 * The embedded broker's login: real mqtt.js clients against a real aedes on a loopback port.
 */
import { connectAsync, type IClientOptions } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';

const brokers: EmbeddedBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});

async function broker(options: Parameters<typeof startEmbeddedBroker>[0]): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker(options);
  brokers.push(b);
  return b;
}

/** Connects once (no retries); resolves with the CONNACK outcome: `'connected'` or mqtt.js's error code. */
async function login(url: string, options: IClientOptions = {}): Promise<'connected' | number | string> {
  try {
    const client = await connectAsync(url, { ...options, reconnectPeriod: 0, connectTimeout: 5000 });
    await client.endAsync();
    return 'connected';
  } catch (err) {
    return (err as { code?: number | string }).code ?? (err as Error).message;
  }
}

describe('embedded broker credentials', () => {
  it('with a username and password, refuses clients without them or with wrong ones (CONNACK 4)', async () => {
    const b = await broker({ username: 'panel', password: 's3cret' });
    expect(await login(b.url)).toBe(4);
    expect(await login(b.url, { username: 'panel' })).toBe(4);
    expect(await login(b.url, { username: 'panel', password: 's3creT' })).toBe(4);
    expect(await login(b.url, { username: 'panel', password: 's3cret-and-more' })).toBe(4);
    expect(await login(b.url, { username: 'other', password: 's3cret' })).toBe(4);
    expect(await login(b.url, { username: 'panel', password: 's3cret' })).toBe('connected');
  });

  it('without them, lets any client in (the loopback default)', async () => {
    const b = await broker({});
    expect(b.host).toBe('127.0.0.1');
    expect(await login(b.url)).toBe('connected');
    expect(await login(b.url, { username: 'anyone', password: 'anything' })).toBe('connected');
  });

  it('throws a TypeError (ERR_INVALID_OPTION) for only one of username and password, or an empty one', async () => {
    await expect(startEmbeddedBroker({ username: 'panel' })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining('"username" and "password" options go together') as unknown,
    });
    await expect(startEmbeddedBroker({ password: 's3cret' })).rejects.toThrow(TypeError);
    await expect(startEmbeddedBroker({ username: 'panel', password: '' })).rejects.toThrow('must not be empty');
  });

  it('refuses a host other than loopback without credentials, before binding anything', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      await expect(startEmbeddedBroker({ host })).rejects.toMatchObject({
        name: 'TypeError',
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('reachable from other machines without credentials') as unknown,
      });
    }
    for (const host of ['127.0.0.2', 'localhost', '::1']) {
      const b = await broker({ host });
      expect(await login(b.url)).toBe('connected');
    }
  });
});
