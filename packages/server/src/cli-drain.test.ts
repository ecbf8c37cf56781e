/**
 * The CLI in a rolling restart (docs/cli.md, *Output* and *HTTP routes*): `GET /healthz` for the
 * balancer, and SIGTERM during writes under load drains — every set gets its one ack, nothing
 * reaches the broker without one, the pages get 1001 and the process exits 0. The bin as shipped
 * (`node dist/cli.js`) against an embedded aedes broker in the test process that delays or holds
 * the PUBACKs (holdPublishes), so writes are in flight when the signal comes.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AckFrame, ResyncFrame } from '@live-device-form/protocol';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import {
  type HeldPublishes,
  TestClient,
  VIDEOPROC_FILE,
  VP,
  buildCli,
  holdPublishes,
  listeningUrl,
  refusal,
  runCli,
  startWitness,
  stopCliProcesses,
  until,
  type Witness,
} from '@live-device-form/testkit';

beforeAll(buildCli, 120_000);

const H = 'genlock_phase_h';
let broker: EmbeddedBroker;
let witness: Witness;
let held: HeldPublishes;
/** The write publishes the broker received and the acks the pages received, in the order it happened. */
let order: string[];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['cy-vp4/#']);
  await witness.publish(VP.online, '1', { retain: true });
  await witness.publish(VP.genlockStatus, '-25 10', { retain: true });
  await witness.publish(VP.brightnessStatus, '50', { retain: true });
  await witness.publish(VP.delayStatus, '40', { retain: true });
  order = [];
  held = holdPublishes(
    broker,
    (topic) => WRITES.some((w) => w.topic === topic),
    (p) => {
      if (WRITES.some((w) => w.topic === p.topic)) order.push(`published ${p.payload}`);
    },
  );
  held.stop();
});

afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await broker.close();
});

/** The CLI on a free port against the test's broker; resolves with its WebSocket URL and port once it listens. */
async function startCli(extra: string[] = []) {
  const cli = runCli(['--device', VIDEOPROC_FILE, '--mqtt', broker.url, '--port', '0', ...extra]);
  const url = await listeningUrl(cli);
  return { cli, url, port: Number(new URL(url).port) };
}

async function get(port: number, path: string): Promise<{ status: number; cache: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: await res.text() };
}

/** A page past its resync with the device online. */
async function page(url: string, field = H): Promise<{ client: TestClient; rev: number }> {
  const client = await TestClient.connect(url);
  cleanups.push(() => client.ws.terminate());
  client.hello(0, 'videoproc');
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 10_000);
  return { client, rev: resync.fields[field]?.rev ?? 0 };
}

/**
 * What each page writes: the field, its action topic, the payload of a value, and the range of the
 * unique values it writes. A write from a revision while another session's write to that field
 * awaits its echo is stale (docs/protocol.md rule 3), so the first three pages write one field each
 * and always have a write in flight; the fourth writes H beside the first, is refused `stale` while
 * that one's write is on its way, and so keeps sending sets through the drain.
 */
const WRITES = [
  { field: H, topic: VP.genlockSet, payload: (v: number) => `genlock ${v} 10`, first: -512, step: 1, max: 255 },
  {
    field: 'brightness',
    topic: VP.brightnessSet,
    payload: (v: number) => `brightness ${v.toFixed(1)}`,
    first: 0,
    step: 0.5,
    max: 100,
  },
  { field: 'audio_delay', topic: VP.delaySet, payload: (v: number) => `delay ${v}`, first: 0, step: 1, max: 500 },
  { field: H, topic: VP.genlockSet, payload: (v: number) => `genlock ${v} 10`, first: 256, step: 1, max: 511 },
] as const;

describe('live-device-server: GET /healthz', () => {
  it('answers 200 ready when serving, no-store; --health-path moves it', async () => {
    const { port } = await startCli();
    expect(await get(port, '/healthz')).toEqual({ status: 200, cache: 'no-store', body: 'ready\n' });
    const moved = await startCli(['--health-path', '/lb/health']);
    expect(await get(moved.port, '/lb/health')).toEqual({ status: 200, cache: 'no-store', body: 'ready\n' });
    expect((await get(moved.port, '/healthz')).status).toBe(404);
  });

  it('refuses a --health-path that is the WebSocket path, or not a path', async () => {
    const same = runCli(['--device', VIDEOPROC_FILE, '--mqtt', broker.url, '--health-path', '/live']);
    expect(await same.exited).toBe(1);
    expect(same.stderr()).toContain('--health-path and --path are both /live: give them different paths');
    const bad = runCli(['--device', VIDEOPROC_FILE, '--mqtt', broker.url, '--health-path', 'healthz']);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain('expected a URL path starting with / (no query)');
  });
});

describe('live-device-server: SIGTERM drains', () => {
  it('during writes under load: health 503, upgrades 503, every set acked, nothing published without an ack, 1001, exit 0', async () => {
    const { cli, url, port } = await startCli();
    const pages = await Promise.all(WRITES.map((w) => page(url, w.field)));
    // A slow broker: every write's PUBACK comes 30 ms after its publish, so writes are always in flight.
    held.hold();
    held.delay(30);
    let writing = true;
    const nextValue: number[] = WRITES.map((w) => w.first);
    /** Per page: every set sent (id → its value) and every ack received. */
    const sent = pages.map(() => new Map<number, number>());
    const acks = pages.map(() => new Map<number, AckFrame[]>());
    let accepted = 0;
    let refusedOffline = 0;
    const writers = pages.map(async ({ client, rev }, i) => {
      client.ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as AckFrame;
        if (frame.type !== 'ack') return;
        order.push(`ack ${i}:${frame.id} ${frame.status}`);
        acks[i]?.set(frame.id, [...(acks[i]?.get(frame.id) ?? []), frame]);
        if (frame.status === 'accepted') accepted++;
        if (frame.status === 'rejected' && frame.reason === 'offline') refusedOffline++;
      });
      const closed = client.closed.then(() => undefined);
      for (let id = 1; writing; id++) {
        const w = WRITES[i]!;
        const value = nextValue[i]!;
        nextValue[i] = value + w.step;
        sent[i]?.set(id, value);
        client.set(id, w.field, value, rev);
        const ack = await Promise.race([client.ack(id, 20_000), closed]);
        if (ack === undefined) return;
        // Pacing, not synchronisation: a refused page does not hammer the server.
        if (ack.status === 'rejected') await new Promise((r) => setTimeout(r, 20));
      }
    });

    // Under load; then the broker holds new writes altogether, so the drain has writes to wait for.
    await until(() => accepted >= 40, 15_000);
    held.delay(0);
    await held.whenHeld(3);
    cli.child.kill('SIGTERM');
    await cli.line(/info: draining/, 'stderr');
    expect(await get(port, '/healthz')).toEqual({ status: 503, cache: 'no-store', body: 'draining\n' });
    expect(await refusal(url)).toBe(503);
    // Sets that arrive now are refused, never published.
    await until(() => refusedOffline > 0, 15_000);
    writing = false;
    held.release();
    held.stop();
    await Promise.all(writers);

    expect(await cli.exited).toBe(0);
    for (const { client } of pages) expect((await client.closed).code).toBe(1001);
    /** What reached the broker, as published payloads. */
    const received = new Set(held.received.map((p) => p.payload));
    let refusedDuringDrain = 0;
    for (const [i, ids] of sent.entries()) {
      for (const [id, value] of ids) {
        const got = acks[i]?.get(id) ?? [];
        // Exactly one ack per set, whatever the moment it was sent.
        expect(got, `page ${i} set ${id}`).toHaveLength(1);
        const ack = got[0] as AckFrame;
        expect(ack.status, `page ${i} set ${id}`).not.toBe('unknown');
        if (ack.status === 'accepted') {
          // Reached the broker before its ack reached the page.
          const published = order.indexOf(`published ${WRITES[i]!.payload(value)}`);
          expect(published, `page ${i} set ${id}`).toBeGreaterThanOrEqual(0);
          expect(published).toBeLessThan(order.indexOf(`ack ${i}:${id} accepted`));
        } else {
          expect(received.has(WRITES[i]!.payload(value)), `refused page ${i} set ${id} reached the broker`).toBe(false);
          if (ack.status === 'rejected' && ack.reason === 'offline') refusedDuringDrain++;
        }
      }
    }
    expect(refusedDuringDrain).toBeGreaterThan(0);
    // Nothing published without an accepted ack.
    const acceptedPayloads = new Set<string>();
    for (const [i, ids] of sent.entries()) {
      for (const [id, value] of ids)
        if (acks[i]?.get(id)?.[0]?.status === 'accepted') acceptedPayloads.add(WRITES[i]!.payload(value));
    }
    expect([...received].filter((p) => !acceptedPayloads.has(p))).toEqual([]);
    // Every value written was unique and in its field's range.
    for (const [i, w] of WRITES.entries()) expect(nextValue[i]).toBeLessThanOrEqual(w.max + w.step);
    expect(cli.stderr()).toMatch(/info: drained: closing every session \(1001\) \{"writesInFlight":[1-9]/);
  }, 60_000);

  it('a second signal cuts the drain short: writes in flight answered unknown, 1001, exit 1', async () => {
    // Without the second signal this drain would wait ten minutes for a PUBACK the broker never sends.
    const { cli, url } = await startCli(['--drain-timeout-ms', '600000']);
    const { client, rev } = await page(url);
    held.hold();
    client.set(1, H, 5, rev);
    await held.whenHeld(1);
    cli.child.kill('SIGTERM');
    await cli.line(/info: draining/, 'stderr');
    cli.child.kill('SIGINT');
    expect(await client.ack(1, 10_000)).toEqual({ type: 'ack', id: 1, status: 'unknown' });
    expect((await client.closed).code).toBe(1001);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('second signal: drain cut short, writes still in flight answered unknown');
  }, 30_000);
});
