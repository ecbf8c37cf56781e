/**
 * Faults: were pages told about the outages of the devices and of the broker link?
 * @module
 */
import type { RunRecords } from '../records.js';
import type { Availability, Violate } from './types.js';
import { round } from './util.js';

/**
 * Pages must hear about every outage: a connection that was resynced when the device or the broker
 * link went away must get `device offline` (or a resync saying offline), and once both are back, a
 * fresh resync saying online.
 */
export function checkTold(
  records: RunRecords,
  connDevice: Map<number, string>,
  availability: Map<string, Availability[]>,
  resyncDeadline: number,
  violate: Violate,
): void {
  interface Episode {
    device: string | undefined;
    start: number;
    back: number | undefined;
    what: string;
    /** How long after `start` a page must have been told. */
    noticeMs: number;
  }
  const episodes: Episode[] = [];
  for (const o of records.outages)
    episodes.push({
      device: undefined,
      start: o.start,
      back: o.back,
      what: `broker ${o.kind}`,
      noticeMs: o.noticeWithinMs + 1000,
    });
  for (const [device, list] of availability) {
    for (let i = 0; i < list.length; i++) {
      const a = list[i] as Availability;
      const before = list[i - 1];
      if (a.online || !before?.online) continue;
      const back = list.slice(i + 1).find((x) => x.online);
      episodes.push({ device, start: a.t, back: back?.t, what: 'device offline', noticeMs: 2000 });
    }
  }
  const deviceOnlineAt = (device: string, t: number): boolean => {
    let online = false;
    for (const a of availability.get(device) ?? []) {
      if (a.t > t) break;
      online = a.online;
    }
    return online;
  };
  for (const c of records.connections) {
    const device = connDevice.get(c.id);
    if (!device || c.serverKilled) continue;
    const end = c.serverEndedAt ?? Number.POSITIVE_INFINITY;
    const firstResync = c.frames.find((f) => f.dir === 's2c' && f.msg?.type === 'resync');
    if (!firstResync) continue;
    for (const e of episodes) {
      if (e.device !== undefined && e.device !== device) continue;
      // Only sockets resynced before it began, open well after it began, and showing the device
      // online when it began (one already told "offline" has nothing new to hear).
      if (firstResync.t >= e.start || end < e.start + e.noticeMs) continue;
      let shownOnline = false;
      for (const f of c.frames) {
        if (f.t >= e.start) break;
        if (f.dir !== 's2c') continue;
        if (f.msg?.type === 'resync') shownOnline = f.msg.device === 'online';
        else if (f.msg?.type === 'device') shownOnline = false;
      }
      if (!shownOnline) continue;
      const told = c.frames.some(
        (f) =>
          f.dir === 's2c' &&
          f.t >= e.start &&
          ((f.msg?.type === 'device' && f.msg.status === 'offline') ||
            (f.msg?.type === 'resync' && f.msg.device === 'offline')),
      );
      if (!told) {
        violate({
          kind: 'not-told-offline',
          message: `connection ${c.id} (${c.client}, ${device}) was never told about the ${e.what} at ${round(e.start)} ms`,
          t: e.start,
          conn: c.id,
          client: c.client,
        });
        continue;
      }
      if (e.back === undefined) continue;
      // After both are back, a fresh resync saying online (if the device is online by then).
      const due = e.back + resyncDeadline;
      if (end < due || !deviceOnlineAt(device, due) || due > records.endedAt) continue;
      const resynced = c.frames.some(
        (f) => f.dir === 's2c' && f.t >= e.start && f.msg?.type === 'resync' && f.msg.device === 'online',
      );
      if (!resynced) {
        violate({
          kind: 'no-resync-after-return',
          message: `connection ${c.id} (${c.client}, ${device}) got no fresh resync within ${resyncDeadline} ms after the ${e.what} (${round(e.start)}–${round(e.back)} ms) ended`,
          t: e.back,
          conn: c.id,
          client: c.client,
        });
      }
    }
  }
}
