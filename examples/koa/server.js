// A Koa 3 backend with <live-device-form>: one page, the element's prebuilt bundle and the SDK's
// WebSocket on one port, bridged to the MQTT broker at $MQTT_URL (docs/server.md, "Koa").
//
//   MQTT_URL=mqtt://127.0.0.1:1883 PORT=3000 node server.js
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { createLiveDeviceServer, createMqttBridge, loadDeviceFile } from '@live-device-form/server';

const device = await loadDeviceFile(join(import.meta.dirname, 'device.json'));
const bridge = createMqttBridge(device, { url: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883' });
const live = createLiveDeviceServer({ devices: [bridge] });

// The element's bundle (Lit included), from the installed package, and the page.
const bundle = fileURLToPath(import.meta.resolve('@live-device-form/element/bundle.js'));
const files = new Map([
  ['/', { path: join(import.meta.dirname, 'index.html'), type: 'html' }],
  ['/assets/live-device-form.bundle.js', { path: bundle, type: 'js' }],
  // The bundle loads each language but English from beside itself, on first use.
  ['/assets/locales/de.js', { path: join(dirname(bundle), 'locales/de.js'), type: 'js' }],
]);

const app = new Koa();
app.use(async (ctx, next) => {
  const file = files.get(ctx.path);
  if (!file || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
  ctx.type = file.type;
  ctx.body = createReadStream(file.path);
});

const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(Number(process.env.PORT ?? 3000), host);
live.attach(server); // ws://…/live on the same port
await once(server, 'listening'); // throws if the port is taken
const report = await live.ready(); // every device's retained state is in, or 2 s passed
if (!report.ready) console.warn('devices not ready yet:', report.notReady.join(', '));
console.log(`listening on http://${host}:${server.address().port}`);

// The SDK first (every page gets 1001 and its socket ends), then the HTTP server, then the bridge.
async function shutdown() {
  await live.close();
  await new Promise((resolve) => server.close(resolve));
  await bridge.close();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
