/**
 * One status flood, printed as JSON (the testkit's `runIngressFlood`, issue 11): Mosquitto, a
 * publisher process at `--rate` messages a second on one topic, `--idle` pages that never read and
 * one that reads (and, on the SDK, pings and writes). `--relay bare` floods the bare mqtt.js → `ws`
 * relay instead of the SDK. For a look at one rate; figure 10 (`figures/status-flood.ts`, `--only
 * flood`) steps the rate up for both and is the formal figure.
 *
 * `tsx src/ingress-flood.ts [--rate 2000] [--idle 1000] [--seconds 10] [--relay sdk|bare]`
 * @module
 */
import { parseArgs } from 'node:util';
import { FloodRelay, runIngressFlood, startMosquitto } from '@live-device-form/testkit';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    idle: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    relay: { type: 'string', default: FloodRelay.Sdk },
  },
});
const relay = values.relay;
if (relay !== FloodRelay.Sdk && relay !== FloodRelay.Bare)
  throw new TypeError(`--relay takes sdk or bare; got "${relay}"`);
const broker = await startMosquitto();
try {
  const report = await runIngressFlood({
    brokerUrl: broker.url,
    brokerPid: broker.pid,
    relay,
    rate: Number(values.rate),
    idle: Number(values.idle),
    durationMs: Number(values.seconds) * 1000,
  });
  console.log(JSON.stringify(report, null, 2));
} finally {
  await broker.close();
}
