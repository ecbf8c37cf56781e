/**
 * Health checks (docs/server.md, *Health checks*): `live.health()` follows the server's life —
 * starting until every device is ready (or `readyTimeoutMs` passed), ready, draining, closed — and
 * `healthHandler` answers it over real HTTP: 200 only when ready, `cache-control: no-store`, the
 * state alone in the body (no device ids). The device is a MemoryBridge held not ready; the drain
 * with writes in flight is drain.test.ts's.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthState, healthHandler, healthResponse } from './health.js';
import { makeBridge, startServer, stopAll } from '@live-device-form/testkit';

afterEach(stopAll);

/** A request to the harness's HTTP server, answered by `healthHandler(live)`. */
async function check(
  port: number,
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/healthz', method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The harness, with its HTTP server answering every plain request from `healthHandler`. */
async function serve(options: Parameters<typeof startServer>[0] = {}) {
  const h = await startServer(options);
  h.http.removeAllListeners('request');
  h.http.on('request', healthHandler(h.live));
  return h;
}

describe('healthResponse', () => {
  it('is 200 only when ready, never caches, and says the state alone', () => {
    expect(healthResponse({ state: HealthState.Ready })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: 'ready\n',
    });
    for (const state of [HealthState.Starting, HealthState.Draining, HealthState.Closed]) {
      expect(healthResponse({ state })).toMatchObject({ statusCode: 503, body: `${state}\n` });
    }
  });
});

describe('health across the server life', () => {
  it('starting (503) until the device is ready, then ready (200), draining (503) at once, closed (503)', async () => {
    const bridge = makeBridge({ ready: false });
    const h = await serve({ bridge, readyTimeoutMs: 60_000 });
    expect(h.live.health()).toEqual({ state: 'starting', notReady: ['videoproc'] });
    const starting = await check(h.port);
    expect(starting).toMatchObject({ status: 503, body: 'starting\n' });
    expect(starting.headers['cache-control']).toBe('no-store');

    bridge.setReady();
    await h.live.ready();
    expect(h.live.health()).toEqual({ state: 'ready', notReady: [] });
    const ready = await check(h.port);
    expect(ready).toMatchObject({ status: 200, body: 'ready\n' });
    expect(ready.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await check(h.port, 'HEAD')).toMatchObject({ status: 200, body: '' });

    const { client } = await h.join();
    const drained = h.live.drain();
    expect(h.live.health().state).toBe('draining');
    expect(await check(h.port)).toMatchObject({ status: 503, body: 'draining\n' });
    await drained;
    expect((await client.closed).code).toBe(1001);
    expect(h.live.health().state).toBe('closed');
    expect(await check(h.port)).toMatchObject({ status: 503, body: 'closed\n' });
  });

  it('a device not ready when readyTimeoutMs passes: ready (200, the server serves what is known), the device named to the application only', async () => {
    const bridge = makeBridge({ ready: false });
    const h = await serve({ bridge, readyTimeoutMs: 50 });
    expect(await h.live.ready()).toEqual({ ready: false, notReady: ['videoproc'] });
    expect(h.live.health()).toEqual({ state: 'ready', notReady: ['videoproc'] });
    const answer = await check(h.port);
    expect(answer).toMatchObject({ status: 200, body: 'ready\n' });
    expect(answer.body).not.toContain('videoproc');
  });
});
