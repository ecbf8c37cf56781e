/**
 * The broker's side: what the checker's own subscription heard — every field's status history,
 * each device's availability, and the actions (publishes) on the `set` topics.
 * @module
 */
import { type ChaosField, GROUPS, OFFLINE, ONLINE, decodeAction, decodeStatus, topicRole } from '../chaos-device.js';
import type { BrokerMessage } from '../records.js';
import { FieldHistories } from './field-history.js';
import type { Action, Availability, Violate } from './types.js';

/** What the broker's messages say. */
export interface BrokerSide {
  /** Every field's status history. */
  history: FieldHistories;
  /** device → its availability messages, in order. */
  availability: Map<string, Availability[]>;
  /** Every well-formed action message, in order. */
  actions: Action[];
  statusMessages: number;
  deviceOfflineMessages: number;
}

/** Reads the broker's messages; reports foreign topics and malformed payloads. */
export function readBroker(messages: readonly BrokerMessage[], violate: Violate): BrokerSide {
  const history = new FieldHistories();
  const availability = new Map<string, Availability[]>();
  const actions: Action[] = [];
  let statusMessages = 0;
  let deviceOfflineMessages = 0;
  for (const m of messages) {
    const role = topicRole(m.topic);
    if (!role) {
      violate({
        kind: 'foreign-topic',
        message: `a message on ${JSON.stringify(m.topic)}: ${JSON.stringify(m.payload.slice(0, 80))}`,
        t: m.t,
      });
      continue;
    }
    switch (role.role) {
      case 'online': {
        const list = availability.get(role.device) ?? [];
        const online = m.payload === ONLINE;
        if (m.payload !== ONLINE && m.payload !== OFFLINE) {
          violate({
            kind: 'malformed-publish',
            message: `availability payload ${JSON.stringify(m.payload)} on ${m.topic}`,
            t: m.t,
          });
        }
        if (!online) deviceOfflineMessages++;
        list.push({ t: m.t, online });
        availability.set(role.device, list);
        break;
      }
      case 'status': {
        const values = decodeStatus(role.group, m.payload);
        if (!values) {
          violate({
            kind: 'checker-anomaly',
            message: `undecodable status ${JSON.stringify(m.payload)} on ${m.topic}`,
            t: m.t,
          });
          break;
        }
        statusMessages++;
        for (const [f, v] of Object.entries(values) as [ChaosField, number][]) history.of(role.device, f).add(m.t, v);
        break;
      }
      case 'set': {
        const values = decodeAction(role.group, m.payload);
        if (!values || GROUPS[role.group].some((f) => values[f] === undefined)) {
          violate({
            kind: 'malformed-publish',
            message: `action payload ${JSON.stringify(m.payload.slice(0, 80))} on ${m.topic}`,
            t: m.t,
          });
          break;
        }
        actions.push({ t: m.t, device: role.device, group: role.group, values, payload: m.payload });
        break;
      }
      default: {
        const never: never = role;
        void never;
      }
    }
  }
  return { history, availability, actions, statusMessages, deviceOfflineMessages };
}

/** The device's latest availability message before `t`. */
export function availabilityAt(
  availability: Map<string, Availability[]>,
  device: string,
  t: number,
): Availability | undefined {
  const list = availability.get(device);
  if (!list) return undefined;
  let found: Availability | undefined;
  for (const a of list) {
    if (a.t >= t) break;
    found = a;
  }
  return found;
}
