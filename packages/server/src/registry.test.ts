/**
 * The device registry on its own (unit): ids served, replaced, gone and back; who may serve an id;
 * revisions that never go back across a replacement; the tombstone bound; when the server counts
 * as starting. Members are recording stand-ins for sessions; the devices are MemoryBridges.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from './logger.js';
import { MemoryBridge } from './memory-bridge.js';
import { MemoryCatalog } from './memory-catalog.js';
import type { DeviceHub } from './hub.js';
import { type DeviceMember, DeviceRegistry, type RegistryOptions } from './registry.js';
import type { FieldSchema } from '@live-device-form/protocol';

const SCHEMA: FieldSchema[] = [{ name: 'gain', label: 'Gain', type: 'integer', min: 0, max: 10, writable: true }];
const SCHEMA_2: FieldSchema[] = [...SCHEMA, { name: 'mute', label: 'Mute', type: 'boolean', writable: true }];

const bridge = (id: string, schema = SCHEMA, ready = true): MemoryBridge =>
  new MemoryBridge({ id, schema, values: { gain: 3, mute: false }, ready });

/** A stand-in for a session: records what the registry and its hub tell it. */
function member(): DeviceMember & { told: string[]; hub: DeviceHub | undefined } {
  const m = {
    told: [] as string[],
    hub: undefined as DeviceHub | undefined,
    onChange: (field: string) => m.told.push(`change ${field}`),
    onAvailability: (online: boolean) => m.told.push(online ? 'online' : 'offline'),
    onLagging: () => m.told.push('lagging'),
    onCaughtUp: () => m.told.push('caught up'),
    onDeviceBound: (hub: DeviceHub) => {
      m.hub = hub;
      m.told.push(`bound ${hub.store.schema.length}`);
    },
    onDeviceGone: () => {
      m.hub = undefined;
      m.told.push('gone');
    },
  };
  return m;
}

const registries: DeviceRegistry[] = [];
afterEach(() => {
  for (const r of registries.splice(0)) r.close();
});

function registry(fixed: MemoryBridge[] = [], options: Partial<RegistryOptions> = {}) {
  const log = recordingLogger();
  const r = new DeviceRegistry(fixed, {
    echoTimeoutMs: 2000,
    firstRevision: 100,
    readyTimeoutMs: 2000,
    limits: { lagLimitMs: 1000, fanoutSliceMs: 5 },
    logger: log,
    ...options,
  });
  registries.push(r);
  return { r, log };
}

describe('ids served', () => {
  it('serves fixed devices and a catalog’s devices side by side; an id never reported is unknown', () => {
    const { r } = registry([bridge('fixed')]);
    const catalog = new MemoryCatalog({ devices: [bridge('found')] });
    r.follow(catalog);
    expect(r.lookup('fixed')?.state).toBe('live');
    expect(r.lookup('found')?.state).toBe('live');
    expect(r.lookup('nobody')).toBeUndefined();
    expect(r.followsCatalogs).toBe(true);
  });

  it('a catalog device whose id a fixed device has is refused with an error: the fixed one keeps it', () => {
    const fixed = bridge('dev');
    const { r, log } = registry([fixed]);
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    catalog.add(bridge('dev', SCHEMA_2));
    expect(r.hub('dev')?.bridge).toBe(fixed);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'catalog device refused: its id is served by a device of the "devices" option',
      }),
    );
    // Nor can the catalog remove it.
    catalog.remove('dev');
    expect(r.lookup('dev')?.state).toBe('live');
  });

  it('two catalogs reporting one id: the first keeps it, the second’s removal is ignored', () => {
    const { r, log } = registry();
    const first = new MemoryCatalog();
    const second = new MemoryCatalog();
    r.follow(first);
    r.follow(second);
    const mine = bridge('dev');
    first.add(mine);
    second.add(bridge('dev', SCHEMA_2));
    expect(r.hub('dev')?.bridge).toBe(mine);
    second.remove('dev');
    expect(r.lookup('dev')?.state).toBe('live');
    expect(log.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toEqual([
      'catalog device refused: its id is served by another catalog',
    ]);
  });

  it('a bridge the server could not serve is refused, logged, and nothing else changes', () => {
    const { r, log } = registry();
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    catalog.add({ id: 'broken' } as unknown as MemoryBridge);
    expect(r.lookup('broken')).toBeUndefined();
    expect(log.entries).toContainEqual(expect.objectContaining({ level: 'error', msg: 'catalog device refused' }));
  });

  it('a hello waiting for an id is called back once it is added', async () => {
    const { r } = registry();
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    const calls: string[] = [];
    r.whenKnown('later', () => calls.push('later'));
    const cancel = r.whenKnown('never', () => calls.push('never'));
    cancel();
    catalog.add(bridge('later'));
    catalog.add(bridge('never'));
    expect(calls).toEqual(['later']);
  });
});

describe('replaced, gone and back', () => {
  it('a replacement moves the members to a new hub and closes the old one', () => {
    const { r } = registry();
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    const old = bridge('dev');
    catalog.add(old);
    const m = member();
    expect(r.join('dev', m)?.state).toBe('live');
    const oldHub = r.hub('dev') as DeviceHub;
    const next = bridge('dev', SCHEMA_2);
    catalog.add(next);
    expect(m.told).toEqual(['bound 2']);
    expect(m.hub?.bridge).toBe(next);
    // The old bridge speaks to nobody any more; the new one to the member.
    old.setStatus({ gain: 5 });
    expect(m.told).toEqual(['bound 2']);
    expect(oldHub.store.state('gain')?.value).toBe(3);
    next.setOnline(false);
    expect(m.told).toEqual(['bound 2', 'offline']);
  });

  it('the new store starts above every revision the old one gave: an old base is stale, no field goes back', () => {
    const { r } = registry();
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    const old = bridge('dev');
    catalog.add(old);
    old.setStatus({ gain: 4 });
    old.setStatus({ gain: 5 });
    const oldStore = (r.hub('dev') as DeviceHub).store;
    const oldRev = oldStore.state('gain')?.rev as number;
    expect(oldRev).toBe(102);
    catalog.add(bridge('dev', SCHEMA_2));
    const store = (r.hub('dev') as DeviceHub).store;
    expect(store.state('gain')?.rev).toBeGreaterThan(oldRev);
    expect(store.state('mute')?.rev).toBeGreaterThan(oldRev);
    expect(store.isStale('s1', 'gain', oldRev)).toBe(true);
    expect(store.isStale('s1', 'gain', store.state('gain')?.rev as number)).toBe(false);
  });

  it('removed: the id is gone, its members told; added again: back above the old revisions', () => {
    const { r } = registry();
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    const old = bridge('dev');
    catalog.add(old);
    old.setStatus({ gain: 6 });
    const oldRev = (r.hub('dev') as DeviceHub).store.revision;
    const m = member();
    r.join('dev', m);
    catalog.remove('dev');
    expect(r.lookup('dev')).toEqual({ state: 'gone' });
    expect(r.hub('dev')).toBeUndefined();
    expect(m.told).toEqual(['gone']);
    // A session that comes for it now is bound, gone.
    const late = member();
    expect(r.join('dev', late)).toEqual({ state: 'gone' });
    catalog.add(bridge('dev'));
    expect(m.told).toEqual(['gone', 'bound 1']);
    expect(late.told).toEqual(['bound 1']);
    expect((r.hub('dev') as DeviceHub).store.state('gain')?.rev).toBeGreaterThan(oldRev);
  });

  it('a member that left is told nothing', () => {
    const { r } = registry();
    const catalog = new MemoryCatalog({ devices: [bridge('dev')] });
    r.follow(catalog);
    const m = member();
    r.join('dev', m);
    r.leave('dev', m);
    catalog.remove('dev');
    expect(m.told).toEqual([]);
  });

  it('keeps at most tombstoneLimit gone ids, oldest forgotten first, but never one a session is bound to', () => {
    const { r } = registry([], { tombstoneLimit: 2 });
    const catalog = new MemoryCatalog({ devices: ['a', 'b', 'c', 'd'].map((id) => bridge(id)) });
    r.follow(catalog);
    r.join('a', member());
    for (const id of ['a', 'b', 'c', 'd']) catalog.remove(id);
    // Two remembered: a (bound, kept though oldest) and d (the newest); b and c are forgotten.
    expect(['a', 'b', 'c', 'd'].map((id) => r.lookup(id)?.state)).toEqual(['gone', undefined, undefined, 'gone']);
  });
});

describe('starting', () => {
  it('is starting until every catalog is ready; a device added later does not make it start again', async () => {
    const { r } = registry();
    const catalog = new MemoryCatalog({ ready: false });
    r.follow(catalog);
    expect(r.starting).toBe(true);
    catalog.setReady();
    expect(await r.catalogsSettled()).toBe(true);
    expect(r.starting).toBe(false);
    catalog.add(bridge('late', SCHEMA, false));
    expect(r.starting).toBe(false);
    expect(r.liveReadiness().map((x) => [x.id, x.waiting])).toEqual([['late', true]]);
  });

  it('a device the catalog reports before it is ready is waited for as part of the start', async () => {
    const { r } = registry();
    const catalog = new MemoryCatalog({ ready: false });
    r.follow(catalog);
    const early = bridge('early', SCHEMA, false);
    catalog.add(early);
    catalog.setReady();
    await r.catalogsSettled();
    expect(r.starting).toBe(true);
    early.setReady();
    await r.readiness('early')?.settled;
    expect(r.starting).toBe(false);
  });

  it('a catalog that never says ready is waited for at most readyTimeoutMs', async () => {
    const { r, log } = registry([], { readyTimeoutMs: 30 });
    r.follow(new MemoryCatalog({ ready: false }));
    expect(await r.catalogsSettled()).toBe(false);
    expect(r.starting).toBe(false);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: "catalog's first view not complete in time: serving what it has reported",
      }),
    );
  });

  it('close() stops following every catalog', () => {
    const { r } = registry();
    const catalog = new MemoryCatalog();
    r.follow(catalog);
    expect(catalog.listenerCount).toBe(1);
    r.close();
    expect(catalog.listenerCount).toBe(0);
    catalog.add(bridge('after'));
    expect(r.lookup('after')).toBeUndefined();
  });
});
