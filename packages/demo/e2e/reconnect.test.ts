/**
 * The original problem, end to end: real Chromium, the real server SDK and MQTT bridge, a real
 * broker (embedded aedes), the simulated hardware, network faults through a TCP proxy, and an
 * independent MQTT witness that says what really reached the broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  GENLOCK_ACTION,
  GENLOCK_STATUS,
  H,
  V,
  WRITABLE_FIELDS,
  deliberateEdit,
  naiveCounts,
  naiveEvents,
  runOriginalScenario,
} from './scenario.js';
import { type Stack, isAction, startStack, waitForShown, writes } from './stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const genlockH = (payload: string): number => Number(payload.split(' ')[1]);

describe('reconnect after an outage during which the hardware changed', () => {
  it('protection on: no stale value reaches the broker, from the element or the naive client, and the page shows -25', async () => {
    stack = await startStack();
    const page = await stack.open('/');
    const { mark } = await runOriginalScenario(stack, page, { naive: true });

    // The naive client's whole replay was refused by the reconnect guard, never published.
    const naive = await naiveCounts(page);
    expect(naive).toMatchObject({ sent: WRITABLE_FIELDS, accepted: 0, rejected: WRITABLE_FIELDS });
    expect((await naiveEvents(page)).filter((t) => t.includes('rejected'))).toHaveLength(WRITABLE_FIELDS);
    expect((await naiveEvents(page)).filter((t) => t.includes('rejected (guard)'))).toHaveLength(WRITABLE_FIELDS);

    // The user now deliberately sets H=30. It is published, and it is the only action since the cut:
    // MQTT keeps one publisher's order, so anything stale would have arrived before it.
    await deliberateEdit(stack, page, H, 30, 'genlock 30 10', mark);
    expect(
      stack.witness
        .since(mark)
        .filter(isAction)
        .map((m) => `${m.topic} ${m.payload}`),
    ).toEqual([`${GENLOCK_ACTION} genlock 30 10`]);
    expect(await writes(page)).toEqual([expect.objectContaining({ field: H, value: 30 })]);
    expect(stack.demo.log.staleCount).toBe(0);
    expect(await page.locator('#log .row.stale').count()).toBe(0);
  });

  it('protection off, naive client: the stale H=22 reaches the broker and resets the hardware (the bug, shown)', async () => {
    stack = await startStack({ protection: false });
    const page = await stack.open('/');
    const { mark } = await runOriginalScenario(stack, page, { naive: true, resetExpected: true });

    const stale = await stack.witness.waitFor(
      (m) => m.topic === GENLOCK_ACTION && genlockH(m.payload) === 22,
      'an action carrying H=22',
      { from: mark },
    );
    expect(stale.payload).toBe('genlock 22 10');
    const panelChange = stack.witness.messages.find(
      (m) => m.index >= mark && m.topic === GENLOCK_STATUS && m.payload === '-25 10',
    )!;
    expect(stale.index).toBeGreaterThan(panelChange.index);
    // The hardware obeyed: it is back at the page's old value.
    await stack.witness.waitFor(
      (m) => m.topic === GENLOCK_STATUS && m.payload === '22 10',
      'status "22 10" after the stale write',
      { from: stale.index },
    );
    expect(stack.demo.simulator.values[H]).toBe(22);
    // The element shows what the hardware really has now.
    await waitForShown(page, H, '22');

    // It came from the naive client's replay, not from the element, and the log flags it.
    expect(await writes(page)).toEqual([]);
    expect((await naiveCounts(page)).accepted).toBeGreaterThan(0);
    expect(stack.demo.log.staleCount).toBeGreaterThan(0);
    await page.locator('#log .row.stale[data-payload="genlock 22 10"]').first().waitFor();
  });

  it('protection off, element alone: the element still writes nothing stale (it has no unsafe mode)', async () => {
    stack = await startStack({ protection: false });
    const page = await stack.open('/', { naive: '0' });
    const { mark } = await runOriginalScenario(stack, page, { naive: false });

    await deliberateEdit(stack, page, H, 30, 'genlock 30 10', mark);
    expect(
      stack.witness
        .since(mark)
        .filter(isAction)
        .map((m) => m.payload),
    ).toEqual(['genlock 30 10']);
    expect(stack.demo.log.staleCount).toBe(0);
  });

  it('revision check alone (guard 0): the naive replay of H is refused as stale', async () => {
    stack = await startStack();
    stack.demo.server.setProtection({ guardMs: 0, checkRevisions: true });
    const page = await stack.open('/');
    const { mark } = await runOriginalScenario(stack, page, { naive: true });

    // Without the guard the replay is judged field by field: H was overtaken by the panel, so it is
    // stale; the other fields had not changed, so re-writing them is harmless and allowed.
    const events = await naiveEvents(page);
    expect(events).toContain(`${H} = 22: rejected (stale)`);
    await deliberateEdit(stack, page, H, 30, 'genlock 30 10', mark);
    const genlock = stack.witness
      .since(mark)
      .filter(isAction)
      .filter((m) => m.topic === GENLOCK_ACTION);
    expect(genlock.map((m) => genlockH(m.payload))).not.toContain(22);
    expect(stack.demo.log.staleCount).toBe(0);
  });
});

describe('composite payload after a reconnect', () => {
  it('the user changes V while H changed during the outage: the published payload carries the fresh H', async () => {
    stack = await startStack();
    const page = await stack.open('/', { naive: '0' });
    const { mark } = await runOriginalScenario(stack, page, { naive: false });

    await deliberateEdit(stack, page, V, 15, 'genlock -25 15', mark);
    const actions = stack.witness.since(mark).filter(isAction);
    expect(actions.map((m) => m.payload)).toEqual(['genlock -25 15']);
    expect(actions.every(isAction)).toBe(true);
    await stack.witness.waitFor((m) => m.topic === GENLOCK_STATUS && m.payload === '-25 15', 'status "-25 15"', {
      from: mark,
    });
  });
});
