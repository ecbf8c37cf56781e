/**
 * Opens many idle protocol sockets from a process of its own (its own 20,000 file descriptors):
 * each says `hello` and then does nothing but answer WebSocket pings. They connect from 20 loopback
 * addresses in turn (127.0.0.2–127.0.0.21, 500 each for 10,000), as many pages from many hosts
 * would: the server's default per-address cap (`connectionLimits.perAddress`, 1,000) stays in
 * force, and the test shows that the defaults hold 10,000 sessions. Talks to its parent over IPC:
 * `{ type: 'ready', open, ms }` once all are open and resynced; exits on `close`.
 *
 * `node --import tsx idle-sockets-child.ts URL COUNT DEVICE`
 * @module
 */
import WebSocket from 'ws';
import { SUBPROTOCOL } from '@live-device-form/protocol';

const [url = '', countText = '0', device = 'dev1'] = process.argv.slice(2);
const count = Number(countText);
const sockets: WebSocket[] = [];
const BATCH = 250;
const SOURCE_ADDRESSES = 20;

function openOne(): Promise<boolean> {
  return new Promise((resolve) => {
    const localAddress = `127.0.0.${2 + (sockets.length % SOURCE_ADDRESSES)}`;
    const ws = new WebSocket(url, [SUBPROTOCOL], { perMessageDeflate: false, localAddress });
    sockets.push(ws);
    ws.on('error', () => resolve(false));
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', device, mounts: 0 })));
    ws.once('message', () => resolve(true)); // the resync
    ws.once('close', () => resolve(false));
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  let open = 0;
  for (let i = 0; i < count; i += BATCH) {
    const results = await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, openOne));
    open += results.filter(Boolean).length;
  }
  process.send?.({ type: 'ready', open, ms: Math.round(performance.now() - started) });
}

process.on('message', (m: { type?: string }) => {
  if (m.type !== 'close') return;
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
