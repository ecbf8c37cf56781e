import { describe, expect, it } from 'vitest';
import type { BridgeEvent } from './bridge.js';
import { makeBridge } from '@live-device-form/testkit';

const events = (bridge: ReturnType<typeof makeBridge>) => {
  const seen: BridgeEvent[] = [];
  bridge.subscribe((e) => seen.push(e));
  return seen;
};

describe('MemoryBridge', () => {
  it('echoes each write as a status after a microtask, and records it', async () => {
    const bridge = makeBridge();
    const seen = events(bridge);
    expect(await bridge.write('gain', 2, () => null)).toBe('accepted');
    await Promise.resolve();
    expect(seen).toEqual([{ type: 'status', values: { gain: 2 } }]);
    expect(bridge.writes).toEqual([{ field: 'gain', value: 2, payload: { gain: 2 }, published: true }]);
    expect(bridge.value('gain')).toBe(2);
  });

  it('fills a composite payload from freshest and echoes all of it; a clamping device reports its own value', async () => {
    const bridge = makeBridge({ echo: (_field, v) => (typeof v === 'number' ? Math.min(v, 100) : v) });
    const seen = events(bridge);
    await bridge.write('genlock_phase_h', 300, (f) => (f === 'genlock_phase_v' ? 12 : null));
    await Promise.resolve();
    expect(bridge.writes[0]?.payload).toEqual({ genlock_phase_h: 300, genlock_phase_v: 12 });
    expect(seen).toEqual([{ type: 'status', values: { genlock_phase_h: 100, genlock_phase_v: 12 } }]);
  });

  it('offline: writes resolve offline, are recorded unpublished, and are never echoed', async () => {
    const bridge = makeBridge();
    const seen = events(bridge);
    bridge.setOnline(false, { reset: true });
    expect(await bridge.write('gain', 2, () => null)).toBe('offline');
    await Promise.resolve();
    expect(seen).toEqual([{ type: 'availability', online: false, reset: true }]);
    expect(bridge.writes[0]?.published).toBe(false);
    expect(bridge.snapshot().gain).toBeNull();
  });

  it('hangs writes until released, and resolves unknown when told to', async () => {
    const bridge = makeBridge({ echo: false });
    bridge.writeBehaviour = 'hang';
    let outcome: string | undefined;
    void bridge.write('gain', 1, () => null).then((o) => (outcome = o));
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    expect(bridge.release('unknown')).toBe(1);
    await Promise.resolve();
    expect(outcome).toBe('unknown');
    bridge.writeBehaviour = 'unknown';
    expect(await bridge.write('gain', 1, () => null)).toBe('unknown');
  });

  it('echoes after echoDelayMs when set', async () => {
    const bridge = makeBridge({ echoDelayMs: 20 });
    const seen = events(bridge);
    await bridge.write('gain', 3, () => null);
    await Promise.resolve();
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 40));
    expect(seen).toHaveLength(1);
  });
});
