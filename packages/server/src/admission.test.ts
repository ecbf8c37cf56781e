import { describe, expect, it } from 'vitest';
import type { SetFrame } from '@live-device-form/protocol';
import { type Applicant, judge } from './admission.js';
import { DeviceHub } from './hub.js';
import { silentLogger } from './logger.js';
import { DeviceStore } from './store.js';
import { WriteLimit } from './write-rate.js';
import { makeBridge } from '@live-device-form/testkit';

const H = 'genlock_phase_h';
const EPOCH = 'e1';
const NO_TOKEN = { limit: WriteLimit.Socket, perSecond: 50 };
const set = (field: string, value: SetFrame['value'], rev = 0, epoch = EPOCH): SetFrame => ({
  type: 'set',
  id: 1,
  field,
  value,
  rev,
  epoch,
});

/** A live, authorized session on an online device, with room in its rate limit; tests change one thing. */
function setup(overrides: Partial<Applicant> = {}) {
  const bridge = makeBridge({ echo: false });
  const store = new DeviceStore(bridge);
  const hub = new DeviceHub(bridge, store, silentLogger);
  let tokens = 1;
  const applicant: Applicant = {
    sessionId: 'A',
    hub: () => hub,
    authorizing: () => false,
    awaitingDevice: () => false,
    canWrite: () => undefined,
    takeRateToken: () => (tokens-- > 0 ? undefined : NO_TOKEN),
    synced: () => true,
    checkRevisions: () => true,
    epoch: EPOCH,
    contained: (_what, fn, fallback) => {
      try {
        return fn();
      } catch {
        return fallback;
      }
    },
    ...overrides,
  };
  return { bridge, store, hub, applicant, tokensLeft: () => tokens };
}

describe('admission', () => {
  it('admits a valid, permitted, fresh write on a live session', () => {
    const { applicant, tokensLeft } = setup();
    expect(judge(set(H, 5), applicant)).toBeUndefined();
    expect(tokensLeft()).toBe(0);
  });

  it('refuses in protocol order: invalid, forbidden, rate, guard, offline, stale', () => {
    // Every later reason holds too: the device is offline, the base is stale, no token is left.
    const worst = (): ReturnType<typeof setup> => {
      const s = setup({ takeRateToken: () => NO_TOKEN, synced: () => false });
      s.bridge.setStatus({ [H]: 7 });
      s.bridge.setOnline(false);
      return s;
    };
    const reason = (frame: SetFrame, s = worst()) => judge(frame, s.applicant)?.reason;
    expect(reason(set('nope', 1))).toBe('invalid');
    expect(reason(set(H, 600))).toBe('invalid');
    const refusing = worst();
    refusing.bridge.checkWrite = () => 'cannot be encoded';
    expect(reason(set(H, 5), refusing)).toBe('invalid');
    expect(reason(set('temperature', 20))).toBe('forbidden');
    expect(reason(set(H, 5))).toBe('rate');
    const withToken = setup({ synced: () => false });
    withToken.bridge.setOnline(false);
    expect(judge(set(H, 5), withToken.applicant)?.reason).toBe('guard');
    const synced = setup();
    synced.bridge.setStatus({ [H]: 7 });
    synced.bridge.setOnline(false);
    expect(judge(set(H, 5), synced.applicant)?.reason).toBe('offline');
    const online = setup();
    online.bridge.setStatus({ [H]: 7 });
    expect(judge(set(H, 5, 0), online.applicant)).toEqual({
      reason: 'stale',
      message: 'genlock_phase_h changed since revision 0',
    });
  });

  it('forbidden: read-only, not permitted (a throwing canWrite counts as no), or not known yet', () => {
    expect(judge(set('temperature', 20), setup().applicant)?.message).toBe('temperature is read-only');
    const denied = setup({ canWrite: () => (field) => field !== H });
    expect(judge(set(H, 5), denied.applicant)?.message).toBe(`not allowed to write ${H}`);
    expect(judge(set('gain', 1), denied.applicant)).toBeUndefined();
    const throwing = setup({
      canWrite: () => () => {
        throw new Error('hook bug');
      },
    });
    expect(judge(set(H, 5), throwing.applicant)?.reason).toBe('forbidden');
    const unknown = setup();
    unknown.bridge.setOnline(true, { reset: true });
    expect(judge(set(H, 5), unknown.applicant)).toEqual({ reason: 'forbidden', message: `${H} is not known yet` });
  });

  it('takes a rate token only from a valid, permitted set', () => {
    const { applicant, tokensLeft } = setup();
    judge(set('nope', 1), applicant);
    judge(set('temperature', 20), applicant);
    expect(tokensLeft()).toBe(1);
  });

  it('before authorization: guard, whatever the set', () => {
    expect(judge(set('nope', 1), setup({ authorizing: () => true }).applicant)).toEqual({
      reason: 'guard',
      message: 'not authorized yet',
    });
    expect(judge(set(H, 5), setup({ hub: () => undefined }).applicant)?.reason).toBe('guard');
  });

  it('while the device state is not in yet: guard, even for an unknown field or a null value', () => {
    const waiting = (): Applicant => setup({ awaitingDevice: () => true }).applicant;
    expect(judge(set('nope', 1), waiting())).toEqual({
      reason: 'guard',
      message: 'device state not in yet: wait for resync',
    });
    expect(judge(set(H, 5), waiting())?.reason).toBe('guard');
  });

  it('reads the session when it asks: a hook that ends the resync on the way turns the set into guard', () => {
    let synced = true;
    const { applicant } = setup({
      synced: () => synced,
      canWrite: () => () => {
        synced = false;
        return true;
      },
    });
    expect(judge(set(H, 5), applicant)?.reason).toBe('guard');
  });

  it('stale: a set from another epoch, even on the current revision (the server restarted since)', () => {
    const { applicant, store } = setup();
    const rev = store.state(H)?.rev as number;
    expect(judge(set(H, 5, rev, 'earlier-run'), applicant)).toEqual({
      reason: 'stale',
      message: `${H} was read before the server restarted (another epoch)`,
    });
    expect(judge(set(H, 5, rev), setup().applicant)).toBeUndefined();
  });

  it('with revision checks off (demo only), a stale write and one from another epoch are admitted', () => {
    const s = setup({ checkRevisions: () => false });
    s.bridge.setStatus({ [H]: 7 });
    expect(judge(set(H, 5, 0), s.applicant)).toBeUndefined();
    expect(judge(set(H, 5, 0, 'earlier-run'), setup({ checkRevisions: () => false }).applicant)).toBeUndefined();
  });

  it('judges against the state of the moment: a status the fan-out has not sent yet already makes an older base stale', () => {
    // docs/protocol.md rule 11: the store applies every status at once, the fan-out follows in rounds.
    const { bridge, store, hub, applicant } = setup();
    const seen: string[] = [];
    hub.join({
      onChange: (field) => void seen.push(field),
      onAvailability: () => {},
      onLagging: () => {},
      onCaughtUp: () => {},
    });
    // After a quiet spell a change goes at once; the one right after it waits for the next round.
    bridge.setStatus({ [H]: 4 });
    expect(seen).toEqual([H]);
    bridge.setStatus({ [H]: 5 });
    expect(seen).toEqual([H]); // the page has not been sent it yet...
    expect(judge(set(H, 3, 1), applicant)).toEqual({ reason: 'stale', message: `${H} changed since revision 1` });
    expect(store.state(H)).toEqual({ value: 5, rev: 2 }); // ...but the store, and so the judge, has it
    hub.close();
  });
});
