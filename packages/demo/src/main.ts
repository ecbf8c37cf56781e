/**
 * The demo's one command: `npx -y pnpm@10.34.9 run demo` from the repository root.
 *
 * Environment: `PORT` (default 5173), `HOST` (default 127.0.0.1), `MQTT_URL` (an external broker
 * instead of the embedded one).
 * @module
 */
import { startDemo } from './demo-server.js';

const port = process.env.PORT === undefined ? 5173 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer from 0 to 65535, got "${process.env.PORT}"`);
  process.exit(2);
}

const demo = await startDemo({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
}).catch((err: NodeJS.ErrnoException) => {
  console.error(
    err.code === 'EADDRINUSE' ? `Port ${port} is in use: set PORT to another port (PORT=0 picks a free one).` : err,
  );
  process.exit(1);
});

console.log(`
  live-device-form demo

  Open   ${demo.url}             the demo (form, naive client, hardware panel, MQTT log)
         ${demo.url}vendor.html  the element dropped into a plain vendor page
  MQTT   ${demo.brokerUrl}${process.env.MQTT_URL ? '' : ' (embedded aedes)'}   device topics: cy-vp4/#
         discovery: homeassistant/# (the cy-vp4 again), zigbee2mqtt/# (a lamp)

  Ctrl+C to stop.
`);

// The CLI's lines (docs/cli.md, --discover); the page lists later ones live.
for (const d of demo.discovered.list())
  console.log(`  discovered ${d.source} device "${d.id}" with ${d.fields} fields`);

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) {
    process.exit(1); // a second Ctrl+C: do not wait any longer
  }
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  demo.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
