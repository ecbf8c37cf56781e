import { describe, expect, it } from 'vitest';
import { StaleWriteJudge, discoveryKind, topicFilters } from './mqtt-log.js';
import { VIDEOPROC_FILE, readDeviceFile } from './payload-format.js';

const device = readDeviceFile(VIDEOPROC_FILE);
const judge = (): StaleWriteJudge => {
  const j = new StaleWriteJudge(device);
  j.status({ genlock_phase_h: 22, genlock_phase_v: 10 }, 0); // the retained status: where we start
  return j;
};

describe('stale-write rule of the MQTT log', () => {
  it('flags an action that puts back a value the device left by a change of its own', () => {
    const j = judge();
    expect(j.status({ genlock_phase_h: -25, genlock_phase_v: 10 }, 1000)).toEqual([
      { field: 'genlock_phase_h', from: 22, to: -25, cause: 'device' },
    ]);
    expect(j.action({ genlock_phase_h: 22, genlock_phase_v: 10 }, 2000)).toEqual([
      { field: 'genlock_phase_h', label: 'Phase Horizontal', value: 22, current: -25, supersededAt: 1000 },
    ]);
  });

  it('does not flag writing the current value (the composite payload carries the fresh H)', () => {
    const j = judge();
    j.status({ genlock_phase_h: -25, genlock_phase_v: 10 }, 1000);
    expect(j.action({ genlock_phase_h: -25, genlock_phase_v: 15 }, 2000)).toEqual([]);
  });

  it('does not flag a new value', () => {
    const j = judge();
    j.status({ genlock_phase_h: -25, genlock_phase_v: 10 }, 1000);
    expect(j.action({ genlock_phase_h: 30, genlock_phase_v: 10 }, 2000)).toEqual([]);
  });

  it("counts a change that answers an action as the action's echo, and a value left by an echo is not superseded", () => {
    const j = judge();
    expect(j.action({ genlock_phase_h: 30, genlock_phase_v: 10 }, 100)).toEqual([]);
    expect(j.status({ genlock_phase_h: 30, genlock_phase_v: 10 }, 150)).toEqual([
      { field: 'genlock_phase_h', from: 22, to: 30, cause: 'echo' },
    ]);
    // Dragging back to where one came from is not stale.
    expect(j.action({ genlock_phase_h: 22, genlock_phase_v: 10 }, 200)).toEqual([]);
  });

  it('a change matching an action older than the echo window is the device’s own', () => {
    const j = judge();
    j.action({ genlock_phase_h: 30, genlock_phase_v: 10 }, 0);
    expect(j.status({ genlock_phase_h: 30, genlock_phase_v: 10 }, 5000)[0]?.cause).toBe('device');
  });

  it('a value the device reports again is no longer superseded', () => {
    const j = judge();
    j.status({ genlock_phase_h: -25, genlock_phase_v: 10 }, 1000);
    j.status({ genlock_phase_h: 22, genlock_phase_v: 10 }, 2000);
    j.status({ genlock_phase_h: 5, genlock_phase_v: 10 }, 3000);
    // 22 was left again at 3000, -25 at 2000: both are superseded, with their latest times.
    expect(j.action({ genlock_phase_h: 22, genlock_phase_v: 10 }, 4000)[0]?.supersededAt).toBe(3000);
    expect(j.action({ genlock_phase_h: -25, genlock_phase_v: 10 }, 4000)[0]?.supersededAt).toBe(2000);
  });

  it('judges each field of a payload on its own', () => {
    const j = judge();
    j.status({ genlock_phase_h: 22, genlock_phase_v: 11 }, 1000);
    const flags = j.action({ genlock_phase_h: 22, genlock_phase_v: 10 }, 2000);
    expect(flags.map((f) => f.field)).toEqual(['genlock_phase_v']);
  });
});

describe('kinds of the discovery topics in the MQTT log', () => {
  const topics = { homeAssistantPrefix: 'homeassistant', zigbee2mqttBase: 'zigbee2mqtt' };
  it.each([
    ['homeassistant/device/cy-vp4-0042/config', 'discovery'],
    ['homeassistant/number/node/brightness/config', 'discovery'],
    ['homeassistant/status', 'other'],
    ['zigbee2mqtt/bridge/devices', 'discovery'],
    ['zigbee2mqtt/bridge/info', 'discovery'],
    ['zigbee2mqtt/bridge/state', 'availability'],
    ['zigbee2mqtt/bridge/logging', 'other'],
    ['zigbee2mqtt/bridge/request/permit_join', 'other'],
    ['zigbee2mqtt/living_room_lamp', 'status'],
    ['zigbee2mqtt/living_room_lamp/set', 'action'],
    ['zigbee2mqtt/living_room_lamp/set/color', 'action'],
    ['zigbee2mqtt/living_room_lamp/get', 'other'],
    ['zigbee2mqtt/living_room_lamp/availability', 'availability'],
    ['zigbee2mqtt/kitchen/ceiling', 'status'],
    ['elsewhere/x', 'other'],
  ])('%s is %s', (topic, kind) => {
    expect(discoveryKind(topic, topics)).toBe(kind);
  });

  it('is "other" for every topic when no discovery topics are given, and the filters cover them when they are', () => {
    expect(discoveryKind('zigbee2mqtt/living_room_lamp', {})).toBe('other');
    expect(topicFilters(device, topics)).toEqual(['cy-vp4/#', 'homeassistant/#', 'zigbee2mqtt/#']);
    expect(topicFilters(device)).toEqual(['cy-vp4/#']);
  });
});
