// A Fastify 5 backend with <live-device-form>: one page, the element's prebuilt bundle and the
// SDK's WebSocket on one port, bridged to the MQTT broker at $MQTT_URL (docs/server.md, "Fastify").
//
//   MQTT_URL=mqtt://127.0.0.1:1883 PORT=3000 node server.js
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createLiveDeviceServer, createMqttBridge, loadDeviceFile } from '@live-device-form/server';

const device = await loadDeviceFile(join(import.meta.dirname, 'device.json'));
const bridge = createMqttBridge(device, { url: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883' });
const live = createLiveDeviceServer({ devices: [bridge] });

// The element's bundle (Lit included), from the installed package.
const bundle = fileURLToPath(import.meta.resolve('@live-device-form/element/bundle.js'));

const fastify = Fastify();
fastify.get('/', (_req, reply) =>
  reply.type('text/html').send(createReadStream(join(import.meta.dirname, 'index.html'))),
);
fastify.get('/assets/live-device-form.bundle.js', (_req, reply) =>
  reply.type('text/javascript').send(createReadStream(bundle)),
);
// The bundle loads each language but English from beside itself, on first use.
fastify.get('/assets/locales/de.js', (_req, reply) =>
  reply.type('text/javascript').send(createReadStream(join(dirname(bundle), 'locales/de.js'))),
);

live.attach(fastify.server); // ws://…/live on the same port
// preClose, not onClose: Fastify runs onClose only once every connection has ended, and an open
// page's WebSocket ends only when the SDK closes it (1001).
fastify.addHook('preClose', () => live.close());
fastify.addHook('onClose', () => bridge.close());

const host = process.env.HOST ?? '127.0.0.1';
await fastify.listen({ port: Number(process.env.PORT ?? 3000), host });
const report = await live.ready(); // every device's retained state is in, or 2 s passed
if (!report.ready) console.warn('devices not ready yet:', report.notReady.join(', '));
console.log(`listening on http://${host}:${fastify.server.address().port}`);

process.once('SIGTERM', () => fastify.close());
process.once('SIGINT', () => fastify.close());
