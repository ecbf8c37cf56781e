/**
 * A rough measure of the ingress under a status flood (issue 11): Mosquitto, a publisher process at
 * `--rate` messages a second on one topic, `--idle` pages that never read and one that reads, pings
 * and writes (the testkit's `runIngressFlood`). Prints the report as JSON. Not one of BENCHMARKS.md's
 * figures: the performance suite will own the formal bench.
 *
 * `tsx src/ingress-flood.ts [--rate 2000] [--idle 1000] [--seconds 10]`
 * @module
 */
import { parseArgs } from 'node:util';
import { runIngressFlood, startMosquitto } from '@live-device-form/testkit';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    idle: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
  },
});
const broker = await startMosquitto();
try {
  const report = await runIngressFlood({
    brokerUrl: broker.url,
    rate: Number(values.rate),
    idle: Number(values.idle),
    durationMs: Number(values.seconds) * 1000,
  });
  console.log(JSON.stringify(report, null, 2));
} finally {
  await broker.close();
}
