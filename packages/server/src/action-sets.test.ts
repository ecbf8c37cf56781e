/**
 * Sets for an `action` field (docs/protocol.md rule 12), through a real server and socket, with the
 * in-memory device: `null` presses, every other value is invalid; the guard, availability, rate and
 * auth rules apply, the revision rule does not, the epoch does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FieldSchema, ResyncFrame } from '@live-device-form/protocol';
import { type HarnessOptions, SCHEMA, makeBridge, startServer, stopAll } from '@live-device-form/testkit';

afterEach(stopAll);

const H = 'genlock_phase_h';
const REBOOT: FieldSchema = { name: 'reboot', label: 'Reboot', type: 'action', help: 'Restarts it.', writable: true };

/** The harness's device with a `reboot` action. */
const withAction = (options: HarnessOptions = {}) =>
  startServer({ bridge: makeBridge({ schema: [...SCHEMA, REBOOT] }), ...options });

describe('action sets', () => {
  it('the resync shows the action in the schema only: no value, no revision', async () => {
    const h = await withAction();
    const { resync } = await h.join();
    expect(resync.schema.find((f) => f.name === 'reboot')).toEqual(REBOOT);
    expect(Object.keys(resync.fields)).not.toContain('reboot');
    expect(Object.keys(resync.fields)).toContain(H);
  });

  it('value null is accepted and reaches the device once; no update is sent to anyone', async () => {
    const h = await withAction();
    const a = await h.join();
    const b = await h.join();
    a.client.set(1, 'reboot', null, 0);
    expect(await a.client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    expect(h.bridge.writes).toEqual([{ field: 'reboot', value: null, payload: { reboot: null }, published: true }]);
    await a.client.roundTrip();
    await b.client.roundTrip();
    for (const c of [a.client, b.client]) expect(c.frames.filter((f) => f.type === 'update')).toEqual([]);
  });

  it('any other value for an action is invalid, and null for a field with values is too', async () => {
    const h = await withAction();
    const { client } = await h.join();
    for (const [id, value] of [
      [1, 'PRESS'],
      [2, true],
      [3, 0],
    ] as const) {
      client.set(id, 'reboot', value, 0);
      expect(await client.ack(id)).toEqual({
        type: 'ack',
        id,
        status: 'rejected',
        reason: 'invalid',
        message: 'reboot: an action carries no value: expected null',
      });
    }
    client.set(4, H, null, 0);
    expect(await client.ack(4)).toMatchObject({
      status: 'rejected',
      reason: 'invalid',
      message: `${H}: expected a number`,
      field: H,
      value: -25,
      rev: 0,
    });
    expect(h.bridge.writes).toEqual([]);
  });

  it('is not stale by revision: any rev, after the device changed, beside another page pressing', async () => {
    const h = await withAction();
    const a = await h.join();
    const b = await h.join();
    h.bridge.setStatus({ [H]: 1, genlock_phase_v: 2 }); // revisions 1 and 2
    h.bridge.writeElsewhere(['reboot', H]); // another process pressed it too
    await a.client.next((f) => f.type === 'update' && f.field === H && f.rev === 3);
    a.client.set(1, 'reboot', null, 0);
    b.client.set(1, 'reboot', null, 999_999);
    expect(await a.client.ack(1)).toMatchObject({ status: 'accepted' });
    expect(await b.client.ack(1)).toMatchObject({ status: 'accepted' });
    expect(h.bridge.writes.map((w) => w.field)).toEqual(['reboot', 'reboot']);
  });

  it("from another epoch it is stale: that page has not seen this server's schema", async () => {
    const h = await withAction();
    const { client } = await h.join();
    client.set(1, 'reboot', null, 0, 'an-earlier-process');
    expect(await client.ack(1)).toMatchObject({
      status: 'rejected',
      reason: 'stale',
      message: 'reboot was read before the server restarted (another epoch)',
    });
    expect(h.bridge.writes).toEqual([]);
  });

  it('inside the reconnect guard it is refused guard', async () => {
    const h = await withAction({ guardMs: 300 });
    const client = await h.connect();
    client.hello(1);
    client.set(1, 'reboot', null, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'guard' });
    await client.next<ResyncFrame>((f) => f.type === 'resync');
    client.set(2, 'reboot', null, 0);
    expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
    expect(h.bridge.writes).toHaveLength(1);
  });

  it('while the device is offline it is refused offline, nothing queued', async () => {
    const h = await withAction();
    const { client } = await h.join();
    h.bridge.setOnline(false);
    await client.next((f) => f.type === 'device');
    client.set(1, 'reboot', null, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'offline' });
    h.bridge.setOnline(true);
    await client.next((f) => f.type === 'resync');
    await client.roundTrip();
    expect(h.bridge.writes).toEqual([]);
  });

  it("a user whose canWrite says no is refused forbidden; beyond the socket's rate, rate", async () => {
    const h = await withAction({
      authorize: () => ({ user: 'viewer', canWrite: (field) => field !== 'reboot' }),
    });
    const { client } = await h.join();
    client.set(1, 'reboot', null, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'forbidden' });

    const r = await withAction({ rateLimit: { burst: 1, perSecond: 0.001 } });
    const { client: fast } = await r.join();
    fast.set(1, 'reboot', null, 0);
    fast.set(2, 'reboot', null, 0);
    expect(await fast.ack(1)).toMatchObject({ status: 'accepted' });
    expect(await fast.ack(2)).toMatchObject({ status: 'rejected', reason: 'rate' });
    expect(h.bridge.writes).toEqual([]);
    expect(r.bridge.writes).toHaveLength(1);
  });
});
