import { describe, expect, it } from 'vitest';
import { isTopicFilter, topicMatches } from './topic-filter.js';

describe('topicMatches', () => {
  it.each([
    ['homeassistant/+/+/config', 'homeassistant/number/node1/config', true],
    ['homeassistant/+/+/config', 'homeassistant/number/node1/obj/config', false],
    ['homeassistant/+/+/+/config', 'homeassistant/number/node1/obj/config', true],
    ['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/devices', true],
    ['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/devicesx', false],
    ['homie/5/+/$description', 'homie/5/dev1/$description', true],
    ['homie/5/+/$description', 'homie/5/dev1/node/$description', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('tells well-formed filters from others', () => {
    expect(isTopicFilter('a/+/b/#')).toBe(true);
    expect(isTopicFilter('a/b+')).toBe(false);
    expect(isTopicFilter('a/#/b')).toBe(false);
    expect(isTopicFilter('')).toBe(false);
  });
});
