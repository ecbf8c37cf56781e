/**
 * Small helpers the checker's phases share.
 * @module
 */
import type { ChaosField } from '../chaos-device.js';

/** Rounds to 0.1 ms, for messages and figures. */
export const round = (ms: number): number => Math.round(ms * 10) / 10;

export function isChaosField(f: unknown): f is ChaosField {
  return f === 'a' || f === 'b' || f === 'c' || f === 'd';
}
