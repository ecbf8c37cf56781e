/**
 * A @web/test-runner plugin that runs the project's REAL server SDK on loopback, in the test
 * runner's Node process, and lets browser tests drive it with `executeServerCommand`:
 *
 * - `ldf:env`        a fresh device (a `MemoryBridge`), SDK instance, HTTP server and fault proxy;
 *                    returns `{ env, src, device }` (`src` goes through the proxy)
 * - `ldf:status`     the device reports values (`bridge.setStatus`)
 * - `ldf:online`     the device goes offline / comes back (`bridge.setOnline`)
 * - `ldf:catalog`    an env made with `catalog: true` serves its device through a `MemoryCatalog`:
 *                    `remove` it (pages see `device gone`) or `add` it back
 * - `ldf:behaviour`  how the device ends the next writes: `accepted`, `unknown`, `offline`, `hang`
 * - `ldf:release`    ends hanging writes
 * - `ldf:writes`     what reached the device (`bridge.writes`)
 * - `ldf:sent`       what the element sent, decoded by the proxy: `[{ conn, frame } | { conn, close }]`
 * - `ldf:net`        network faults: `cut`, `refuse`, `blackHole`, `pass`
 * - `ldf:wait`       waits (event-driven, in Node) for `{ open }` connections or `{ frames }` sent frames
 * - `ldf:info`       open connections, server sessions and stats
 * - `ldf:shutdown`   the SDK closes every session (1001, "server shutting down") and restarts
 * - `ldf:allow`      restarts the SDK allowing only `origin` (a server whose allowed origins change)
 * - `ldf:closed-port` a loopback port nothing listens on
 * - `ldf:bundle`     the element's bundle (Lit external) and its German module, as scripts/size.mjs makes them
 * - `ldf:dispose`    tears an env down
 *
 * Each test makes its own env, so tests never share a device, a server or a proxy.
 *
 * The proxy is the testkit's fault proxy; its WebSocket tap is the independent witness of what the
 * element sent (client frames as the server received them). The test runner runs under tsx
 * (`package.json`), so this file can import the testkit's TypeScript.
 */
import http from 'node:http';
import { createLiveDeviceServer } from '@live-device-form/server';
import { MemoryBridge, MemoryCatalog } from '@live-device-form/server/testing';
import { freePort, startFaultProxy, wsFrameTap } from '@live-device-form/testkit';

/** The device every env gets unless the test passes its own schema. */
export const DEFAULT_SCHEMA = [
  {
    name: 'genlock_phase_h',
    label: 'Phase horizontal',
    type: 'integer',
    min: -512,
    max: 511,
    unit: 'px',
    writable: true,
  },
  {
    name: 'genlock_phase_v',
    label: 'Phase vertical',
    type: 'integer',
    min: -512,
    max: 511,
    unit: 'px',
    writable: true,
  },
  { name: 'gain', label: 'Gain', type: 'number', min: -12, max: 12, step: 0.5, unit: 'dB', writable: true },
  { name: 'enabled', label: 'Output enabled', type: 'boolean', writable: true },
  {
    name: 'standard',
    label: 'Video standard',
    type: 'enum',
    options: [
      { value: 'ntsc', label: 'NTSC' },
      { value: 'pal', label: 'PAL' },
    ],
    writable: true,
  },
  { name: 'name', label: 'Name', type: 'text', maxLength: 32, writable: true },
  { name: 'temperature', label: 'Temperature', type: 'number', unit: '°C', writable: false },
];

export const DEFAULT_VALUES = {
  genlock_phase_h: -25,
  genlock_phase_v: 10,
  gain: 0,
  enabled: true,
  standard: 'pal',
  name: 'Studio A',
  temperature: 41.5,
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** @type {Map<string, Awaited<ReturnType<typeof makeEnv>>>} */
const envs = new Map();
let nextEnv = 0;

export async function makeEnv(p) {
  const id = `dev${++nextEnv}`;
  const bridge = new MemoryBridge({
    id,
    schema: p.schema ?? DEFAULT_SCHEMA,
    values: p.values ?? DEFAULT_VALUES,
    online: p.online ?? true,
    echo: p.echo ?? true,
    echoDelayMs: p.echoDelayMs ?? 0,
  });
  // A catalog device instead of a fixed one: it can be removed and added back at run time.
  const catalog = p.catalog ? new MemoryCatalog({ devices: [bridge] }) : undefined;
  const options = {
    devices: catalog ? [] : [bridge],
    ...(catalog ? { catalogs: [catalog] } : {}),
    path: '/live',
    guardMs: p.guardMs ?? 100,
    allowedOrigins: p.origin ? [p.origin] : [],
    logger: silent,
    heartbeatMs: 0,
  };
  if (p.token) options.token = p.token;
  if (p.deny) options.authorize = () => false;
  const env = {
    id,
    bridge,
    catalog,
    options,
    live: createLiveDeviceServer(options),
    http: http.createServer((_, res) => res.end()),
  };
  env.live.attach(env.http);
  await new Promise((resolve) => env.http.listen(0, '127.0.0.1', resolve));
  env.sent = [];
  env.proxy = await startFaultProxy({
    target: { port: env.http.address().port },
    tap: (link) =>
      wsFrameTap({
        onMessage(direction, m) {
          if (direction !== 'c2s') return;
          if (m.kind === 'text') env.sent.push({ conn: link.index, frame: parseJson(m.text) });
          else if (m.kind === 'close') env.sent.push({ conn: link.index, close: m.code ?? 1005 });
        },
      }),
  });
  envs.set(id, env);
  return env;
}

export async function dispose(env) {
  envs.delete(env.id);
  await env.proxy.close();
  await env.live.close();
  await env.bridge.close();
  env.http.closeAllConnections?.();
  await new Promise((resolve) => env.http.close(resolve));
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
}

/** Network faults the tests ask for, by name. */
const NET = {
  cut: (proxy) => proxy.cut(),
  refuse: (proxy) => proxy.refuse(),
  blackHole: (proxy) => proxy.blackHole(),
  pass: (proxy) => proxy.pass(),
};

function envOf(payload) {
  const env = envs.get(payload?.env);
  if (!env) throw new Error(`no test env "${payload?.env}"`);
  return env;
}

/** @returns {import('@web/test-runner').TestRunnerPlugin} */
export function ldfServerPlugin() {
  return {
    name: 'ldf-server',
    async serverStop() {
      await Promise.all([...envs.values()].map(dispose));
    },
    async executeCommand({ command, payload }) {
      if (!command.startsWith('ldf:')) return undefined;
      switch (command) {
        case 'ldf:env': {
          const env = await makeEnv(payload ?? {});
          return { env: env.id, device: env.id, src: `ws://127.0.0.1:${env.proxy.port}/live` };
        }
        case 'ldf:status':
          envOf(payload).bridge.setStatus(payload.values);
          return true;
        case 'ldf:online':
          envOf(payload).bridge.setOnline(payload.online, { reset: payload.reset ?? false });
          return true;
        case 'ldf:catalog': {
          const { catalog, bridge } = envOf(payload);
          if (!catalog) throw new Error('this env has no catalog: make it with { catalog: true }');
          if (payload.action === 'remove') catalog.remove(bridge.id);
          else if (payload.action === 'add') catalog.add(bridge);
          else throw new TypeError(`unknown catalog action "${payload.action}"`);
          return true;
        }
        case 'ldf:behaviour':
          envOf(payload).bridge.writeBehaviour = payload.behaviour;
          return true;
        case 'ldf:release':
          return envOf(payload).bridge.release(payload.outcome ?? 'accepted');
        case 'ldf:writes':
          return envOf(payload).bridge.writes;
        case 'ldf:sent':
          return envOf(payload).sent;
        case 'ldf:net':
          if (!(payload.action in NET)) throw new TypeError(`unknown network action "${payload.action}"`);
          NET[payload.action](envOf(payload).proxy);
          return true;
        case 'ldf:wait': {
          const { proxy, sent } = envOf(payload);
          const timeout = payload.timeoutMs ?? 5000;
          if (payload.open !== undefined) {
            await proxy.until(
              () => proxy.openLinks.length === payload.open,
              `${payload.open} open connections`,
              timeout,
            );
          }
          if (payload.frames !== undefined) {
            const want = payload.frames;
            await proxy.until(
              () =>
                sent.filter((s) => s.frame && Object.entries(want.match ?? {}).every(([k, v]) => s.frame[k] === v))
                  .length >= want.count,
              `${want.count} sent frames like ${JSON.stringify(want.match)}`,
              timeout,
            );
          }
          return true;
        }
        case 'ldf:info': {
          const env = envOf(payload);
          return {
            open: env.proxy.openLinks.length,
            connections: env.proxy.links.length,
            sessions: env.live.sessions(),
            stats: env.live.stats(),
          };
        }
        case 'ldf:shutdown': {
          // A server restart: every session ends with 1001, a fresh SDK instance takes over the port.
          const env = envOf(payload);
          env.live.close();
          env.live = createLiveDeviceServer(env.options);
          env.http.removeAllListeners('upgrade');
          env.live.attach(env.http);
          return true;
        }
        case 'ldf:allow': {
          const env = envOf(payload);
          env.options.allowedOrigins = [payload.origin];
          env.live.close();
          env.live = createLiveDeviceServer(env.options);
          env.http.removeAllListeners('upgrade');
          env.live.attach(env.http);
          return true;
        }
        case 'ldf:closed-port':
          return freePort();
        case 'ldf:bundle': {
          const { bundle, bundleLocale } = await import('../../scripts/bundle.mjs');
          return { base: await bundle({ withLit: false }), de: await bundleLocale('de') };
        }
        case 'ldf:dispose':
          await dispose(envOf(payload));
          return true;
        default:
          throw new Error(`unknown command ${command}`);
      }
    },
  };
}
