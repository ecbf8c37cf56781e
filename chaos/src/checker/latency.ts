/**
 * Update latency (informational): from a status change on the broker to the first `update` frame
 * carrying its value, on any connection.
 * @module
 */
import { summarize } from '@live-device-form/testkit';
import type { LinkOutage } from '../records.js';
import type { BrokerSide } from './broker-side.js';
import type { CheckCounts } from './types.js';
import { isChaosField, round } from './util.js';

/** The latency figures, from `firstUpdate` (`${device}|${field}|${value}` → first `update` frame carrying it). */
export function updateLatency(
  firstUpdate: Map<string, number>,
  broker: BrokerSide,
  outages: readonly LinkOutage[],
): CheckCounts['updateLatency'] {
  // Only changes delivered live: a value re-shown after an outage (reset, retained again) or held
  // back while the device was offline is not a latency.
  const lat: number[] = [];
  const interrupted = (device: string, from: number, to: number): boolean =>
    outages.some((o) => o.start < to && (o.back ?? Number.POSITIVE_INFINITY) > from) ||
    (broker.availability.get(device) ?? []).some((x) => !x.online && x.t < to && x.t > from - 5000);
  for (const [key, t] of firstUpdate) {
    const [device, field, value] = key.split('|') as [string, string, string];
    if (!isChaosField(field)) continue;
    const change = broker.history.of(device, field).lastChangeTo(Number(value), t);
    if (change && !interrupted(device, change.t, t)) lat.push(t - change.t);
  }
  const latency = summarize(lat);
  return latency.n === 0
    ? { n: 0, p50: 0, p99: 0, max: 0 }
    : { n: latency.n, p50: round(latency.p50), p99: round(latency.p99), max: round(latency.max) };
}
