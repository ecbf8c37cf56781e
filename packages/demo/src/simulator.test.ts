import { startEmbeddedBroker, type EmbeddedBroker } from '@live-device-form/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Witness, startWitness } from '@live-device-form/testkit';
import { type Simulator, startSimulator } from './simulator.js';

const GENLOCK = 'cy-vp4/videoproc/status/volatile/genlock_phase';

let broker: EmbeddedBroker;
let sim: Simulator;
let witness: Witness;
beforeEach(async () => {
  broker = await startEmbeddedBroker();
  sim = await startSimulator({ url: broker.url });
  witness = await startWitness(broker.url, 'cy-vp4/#');
});
afterEach(async () => {
  await witness.close();
  await sim.close();
  await broker.close();
});

const publish = (topic: string, payload: string) => witness.publish(topic, payload);

describe('simulated cy-vp4', () => {
  it('publishes retained status for every field and says online (retained)', async () => {
    const retained = new Map<string, string>();
    for (const m of await Promise.all(
      ['volatile/genlock_phase', 'freeze', 'output_format', 'brightness', 'input_signal']
        .map((t) => witness.waitFor((x) => x.retain && x.topic === `cy-vp4/videoproc/status/${t}`, t))
        .concat([
          witness.waitFor((x) => x.retain && x.topic === 'cy-vp4/audio/status/delay', 'delay'),
          witness.waitFor((x) => x.retain && x.topic === 'cy-vp4/status/online', 'online'),
        ]),
    )) {
      retained.set(m.topic, m.payload);
    }
    expect(Object.fromEntries(retained)).toEqual({
      [GENLOCK]: '-25 10',
      'cy-vp4/videoproc/status/freeze': '0',
      'cy-vp4/videoproc/status/output_format': '0',
      'cy-vp4/videoproc/status/brightness': '50',
      'cy-vp4/audio/status/delay': '40',
      'cy-vp4/videoproc/status/input_signal': '1080p50 locked',
      'cy-vp4/status/online': '1',
    });
  });

  it('applies an action, clamped to the limits, and answers with its status', async () => {
    const mark = witness.mark();
    await publish('cy-vp4/videoproc/action/set/genlock', 'genlock 600 -3');
    await witness.waitFor((m) => m.topic === GENLOCK && m.payload === '511 -3', 'clamped status', { from: mark });
    expect(sim.values).toMatchObject({ genlock_phase_h: 511, genlock_phase_v: -3 });
    await publish('cy-vp4/videoproc/action/set/brightness', 'brightness 33.3');
    await witness.waitFor(
      (m) => m.topic === 'cy-vp4/videoproc/status/brightness' && m.payload === '33.5',
      'brightness snapped to the step',
      { from: mark },
    );
    await publish('cy-vp4/videoproc/action/set/output_format', 'format 3');
    await witness.waitFor((m) => m.topic === 'cy-vp4/videoproc/status/output_format' && m.payload === '3', 'format 3', {
      from: mark,
    });
    expect(sim.values.output_format).toBe('2160p50');
  });

  it('ignores malformed actions and actions while offline', async () => {
    const ignored: string[] = [];
    let seen: (() => void) | undefined;
    sim.subscribe((e) => {
      if (e.type !== 'ignored') return;
      ignored.push(e.reason);
      seen?.();
    });
    const ignoredCount = (n: number) =>
      new Promise<void>((resolve) => {
        seen = () => ignored.length >= n && resolve();
        seen();
      });
    await publish('cy-vp4/videoproc/action/set/genlock', 'genlock 1');
    await publish('cy-vp4/videoproc/action/set/genlock', 'genlock a b');
    await publish('cy-vp4/videoproc/action/set/freeze', 'freeze 2');
    await ignoredCount(3);
    await sim.goOffline();
    await publish('cy-vp4/videoproc/action/set/genlock', 'genlock 1 1');
    await ignoredCount(4);
    expect(ignored).toEqual(['malformed action', 'malformed action', 'malformed action', 'device offline']);
    expect(sim.values).toMatchObject({ genlock_phase_h: -25, genlock_phase_v: 10, freeze: false });
  });

  it('a front-panel change publishes the new retained status', async () => {
    const mark = witness.mark();
    await sim.set('genlock_phase_h', 22);
    await witness.waitFor((m) => m.topic === GENLOCK && m.payload === '22 10', 'status', { from: mark });
    await expect(sim.set('nope', 1)).rejects.toThrow(TypeError);
    await expect(sim.set('freeze', 3)).rejects.toThrow(/cannot take/);
  });

  it('a crash makes the broker publish the Last Will; going online reconnects', async () => {
    const mark = witness.mark();
    await sim.crash();
    expect(sim.state).toBe('crashed');
    await witness.waitFor((m) => m.topic === 'cy-vp4/status/online' && m.payload === '0', 'the Will', { from: mark });
    await sim.goOnline();
    expect(sim.state).toBe('online');
    await witness.waitFor((m) => m.topic === 'cy-vp4/status/online' && m.payload === '1', 'online', { from: mark });
  });
});
