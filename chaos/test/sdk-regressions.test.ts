/**
 * Two SDK bugs the chaos checker found (docs/reliability.md, "Findings"; fixed in the store),
 * reduced to deterministic cases on the real server with a MemoryBridge, kept as regression tests.
 * Both broke docs/protocol.md rule 4: a composite payload must carry the device's latest status or a write
 * still awaiting its echo — never restore a value the device has left, never re-send a write whose
 * outcome was `unknown`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AckFrame, ResyncFrame, UpdateFrame } from '@live-device-form/protocol';
import { type Harness, type TestClient, makeBridge, startServer, stopAll } from '@live-device-form/testkit';

const H = 'genlock_phase_h';
const V = 'genlock_phase_v';

afterEach(stopAll);

async function live(h: Harness): Promise<{ client: TestClient; rev: (field: string) => number }> {
  const { client, resync } = await h.join();
  const revs = new Map(Object.entries(resync.fields).map(([k, s]) => [k, s.rev]));
  client.ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as UpdateFrame | ResyncFrame | AckFrame;
    if (f.type === 'update') revs.set(f.field, f.rev);
    if (f.type === 'resync') for (const [k, s] of Object.entries(f.fields)) revs.set(k, s.rev);
  });
  return { client, rev: (field) => revs.get(field) ?? 0 };
}

describe('composite payloads after a write that changed nothing', () => {
  it("a write of the current value, once echoed, does not override the device's later change", async () => {
    const h = await startServer();
    const { client, rev } = await live(h);
    // The user "sets" H to the value it already has (a form re-submitting its inputs does this).
    client.set(1, H, -25, rev(H));
    expect(await client.ack(1)).toMatchObject({ status: 'accepted' });
    await client.roundTrip(); // its echo (-25 -> -25, no change) has been taken in
    // The device then changes H on its own, and the page is told.
    h.bridge.setStatus({ [H]: -30 });
    await client.next((f) => f.type === 'update' && f.field === H && f.value === -30);
    // Writing V must carry the device's H (-30), not restore the old -25.
    client.set(2, V, 5, rev(V));
    expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
    expect(h.bridge.writes.at(-1)?.payload).toEqual({ [H]: -30, [V]: 5 });
  });
});

describe('composite payloads after the broker link was lost', () => {
  it('a write answered unknown (never published) is not re-sent inside a later composite payload', async () => {
    const bridge = makeBridge({ echo: false });
    const h = await startServer({ bridge });
    const { client, rev } = await live(h);
    bridge.writeBehaviour = 'hang';
    client.set(1, V, 7, rev(V));
    await new Promise<void>((resolve) => {
      const poll = (): void => (bridge.hanging > 0 ? resolve() : void setImmediate(poll));
      poll();
    });
    // The link dies with the write in flight: it ends `unknown`, the cache is forgotten.
    bridge.setOnline(false, { reset: true });
    bridge.release('unknown');
    expect(await client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'unknown' });
    // The link is back; the device never got V=7.
    bridge.writeBehaviour = 'accepted';
    bridge.echo = true;
    bridge.setStatus({ [H]: -25, [V]: 10, gain: 0, standard: 'pal', name: 'cam 1', mute: false, temperature: 41.5 });
    bridge.setOnline(true);
    await client.next((f) => f.type === 'resync' && f.device === 'online');
    client.set(2, H, 3, rev(H));
    expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
    expect(bridge.writes.at(-1)?.payload).toEqual({ [H]: 3, [V]: 10 });
  });
});
