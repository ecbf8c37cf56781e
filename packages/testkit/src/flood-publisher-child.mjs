/**
 * The publishing side of a status flood, in a process of its own so that it keeps its rate however
 * busy the server under test is (a publisher sharing the server's event loop would slow down with
 * it and hide the backlog). Plain JavaScript, so that `fork` runs it without a TypeScript loader.
 *
 * Connects to `URL`, then publishes to `TOPIC` at `RATE` messages a second (QoS 0, in slices every
 * `SLICE_MS`), each payload the wall-clock time in milliseconds (`Date.now()`), so a reader can
 * tell how far behind the broker it is. Tells its parent `{ type: 'ready' }` once connected and
 * `{ type: 'stopped', sent }` after a `{ type: 'stop' }`; exits on `close` or when the parent goes.
 *
 * `node flood-publisher-child.mjs URL TOPIC RATE`
 */
import { connect } from 'mqtt';

const [url = '', topic = '', rateText = '0'] = process.argv.slice(2);
const rate = Number(rateText);
const SLICE_MS = 5;
const client = connect(url, { clean: true, reconnectPeriod: 0 });
let timer;
let sent = 0;

client.once('connect', () => {
  const started = performance.now();
  timer = setInterval(() => {
    // Catch up on the schedule, so a late timer does not lower the rate.
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      client.publish(topic, String(Date.now()), { qos: 0 });
      sent++;
    }
  }, SLICE_MS);
  process.send?.({ type: 'ready' });
});
client.on('error', (err) => {
  console.error(err);
  process.exit(1);
});

process.on('message', (m) => {
  if (m?.type === 'stop') {
    clearInterval(timer);
    process.send?.({ type: 'stopped', sent });
  } else if (m?.type === 'close') client.end(true, {}, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
