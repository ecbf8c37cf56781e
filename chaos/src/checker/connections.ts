/**
 * The connections' side: which epoch each connection and server process showed, and the sets the
 * server received with how each was answered (or why its answer could not be seen).
 * @module
 */
import type { ConnectionRecord, RunRecords } from '../records.js';
import type { BrokerSide } from './broker-side.js';
import { isChaosField } from './util.js';
import type { CheckCounts, SetRec, Violate } from './types.js';

/** Which epoch each connection, and each server process, showed. */
export interface Epochs {
  /** connection id → the epoch of its resyncs. */
  byConn: Map<number, string>;
  /** server generation → the epoch its connections were resynced in. */
  byGeneration: Map<number, string>;
  /** How many distinct epochs the run showed. */
  count: number;
}

/** The epoch a connection was in: its resyncs', else its server process's (`undefined` if neither showed one). */
export function epochOf(epochs: Epochs, c: ConnectionRecord): string | undefined {
  return epochs.byConn.get(c.id) ?? epochs.byGeneration.get(c.serverGeneration);
}

/** Reads the epochs of the resyncs; reports a connection, or a server process, showing two, and two processes showing one. */
export function readEpochs(connections: readonly ConnectionRecord[], violate: Violate): Epochs {
  const generationEpochs = new Map<number, Set<string>>();
  const connEpoch = new Map<number, string>();
  for (const c of connections) {
    for (const f of c.frames) {
      if (f.dir !== 's2c' || f.msg?.type !== 'resync') continue;
      const epoch = String(f.msg.epoch);
      if (!connEpoch.has(c.id)) connEpoch.set(c.id, epoch);
      else if (connEpoch.get(c.id) !== epoch) {
        violate({
          kind: 'epoch',
          message: `connection ${c.id} got resyncs of two epochs`,
          conn: c.id,
          client: c.client,
        });
      }
      const set = generationEpochs.get(c.serverGeneration) ?? new Set<string>();
      set.add(epoch);
      generationEpochs.set(c.serverGeneration, set);
    }
  }
  const epochOfGeneration = new Map<number, string>();
  const allEpochs = new Map<string, number>();
  for (const [gen, epochs] of generationEpochs) {
    if (epochs.size > 1) violate({ kind: 'epoch', message: `server process ${gen} showed ${epochs.size} epochs` });
    const epoch = [...epochs][0] as string;
    epochOfGeneration.set(gen, epoch);
    const other = allEpochs.get(epoch);
    if (other !== undefined)
      violate({ kind: 'epoch', message: `server processes ${other} and ${gen} showed the same epoch ${epoch}` });
    allEpochs.set(epoch, gen);
  }
  return { byConn: connEpoch, byGeneration: epochOfGeneration, count: allEpochs.size };
}

/** The counts known before the connections are read; {@link readConnections} and later phases fill in the rest. */
export function initialCounts(records: RunRecords, broker: BrokerSide, epochs: Epochs): CheckCounts {
  return {
    connections: records.connections.length,
    upgraded: 0,
    clients: new Set(records.connections.map((c) => c.client)).size,
    setsReceived: 0,
    acks: { accepted: 0, unknown: 0, rejected: {} },
    ackNotObservable: { closed: 0, serverKilled: 0 },
    publishes: broker.actions.length,
    statusMessages: broker.statusMessages,
    statusChanges: broker.history.changeCount(),
    deviceOfflineMessages: broker.deviceOfflineMessages,
    outages: records.outages.length,
    serverProcesses: records.servers.length,
    epochs: epochs.count,
    crossEpochSets: 0,
    oldEpochSets: { sets: 0, claimingCurrentEpoch: 0, repeatedRevision: 0, outcomes: {} },
    restartReplaySets: { sets: 0, claimingCurrentEpoch: 0, repeatedRevision: 0, outcomes: {} },
    errorsFromServer: {},
    crossProcess: { judged: 0, nearMisses: 0, caught: 0 },
    updateLatency: { n: 0, p50: 0, p99: 0, max: 0 },
  };
}

/** What the connections' frames say. */
export interface ConnectionsSide {
  /** Every set the server received, in connection order, then frame order; each with how it was answered. */
  sets: SetRec[];
  /** connection id → the device its `hello` named. */
  connDevice: Map<number, string>;
}

/**
 * Reads every connection's frames: the sets and their acks, into `counts`. Reports reused set
 * ids, acks for no set or a second one, sets whose connection stayed open without an ack, and an
 * element (a polite client) writing before its resync or from a revision its socket never showed.
 */
export function readConnections(
  connections: readonly ConnectionRecord[],
  epochs: Epochs,
  counts: CheckCounts,
  ackDeadline: number,
  violate: Violate,
): ConnectionsSide {
  const sets: SetRec[] = [];
  const connDevice = new Map<number, string>();
  /** client → epoch → `${field}|${rev}` shown to it. */
  const shownTo = new Map<string, Map<string, Set<string>>>();
  for (const c of connections) {
    if (c.httpStatus === 101) counts.upgraded++;
    const byEpoch = shownTo.get(c.client) ?? new Map<string, Set<string>>();
    shownTo.set(c.client, byEpoch);
    let device: string | undefined;
    let resyncAt: number | undefined;
    const shownHere = new Set<string>();
    const pending = new Map<number, SetRec>();
    const answered = new Map<number, number>();
    const epoch = epochOf(epochs, c);
    for (const f of c.frames) {
      const msg = f.msg;
      if (!msg) continue;
      if (f.dir === 'c2s') {
        if (msg.type === 'hello' && typeof msg.device === 'string') {
          device = msg.device;
          connDevice.set(c.id, device);
        }
        if (msg.type !== 'set') continue;
        const id = msg.id;
        if (
          typeof id !== 'number' ||
          !isChaosField(msg.field) ||
          typeof msg.value !== 'number' ||
          typeof msg.rev !== 'number' ||
          !device
        ) {
          continue; // chaos clients only send well-formed sets
        }
        counts.setsReceived++;
        const rec: SetRec = {
          conn: c,
          client: c.client,
          device,
          t: f.t,
          id,
          field: msg.field,
          value: msg.value,
          rev: msg.rev,
          epoch,
          claimedEpoch: typeof msg.epoch === 'string' ? msg.epoch : undefined,
          ackStatus: 'none',
        };
        if (pending.has(id) || answered.has(id)) {
          violate({
            kind: 'checker-anomaly',
            message: `client ${c.client} reused set id ${id} on connection ${c.id}`,
            conn: c.id,
          });
        }
        pending.set(id, rec);
        sets.push(rec);
        // Whatever epoch the set claims, the showings say which epochs gave this client this
        // revision of the field. Connections come in order and epochs only move on, so any epoch
        // other than this connection's that showed it is an earlier one.
        const key = `${rec.field}|${rec.rev}`;
        if (epoch !== undefined) {
          const earlier = [...byEpoch].filter(([e, keys]) => e !== epoch && keys.has(key)).map(([e]) => e);
          if (earlier.length > 0)
            rec.oldBasis = { epochs: earlier, shownInCurrentEpoch: byEpoch.get(epoch)?.has(key) ?? false };
        }
        if (c.polite) {
          if (resyncAt === undefined) {
            violate({
              kind: 'element-contract',
              message: `element ${c.client} sent set ${id} before its resync on connection ${c.id}`,
              t: f.t,
              conn: c.id,
            });
          } else if (!shownHere.has(`${rec.field}|${rec.rev}`)) {
            violate({
              kind: 'element-contract',
              message: `element ${c.client} wrote ${rec.field} from rev ${rec.rev}, which connection ${c.id} never showed it (a revision from another socket or epoch)`,
              t: f.t,
              conn: c.id,
            });
          }
        }
        continue;
      }
      const shownInEpoch = (key: string): void => {
        shownHere.add(key);
        if (epoch === undefined) return;
        const keys = byEpoch.get(epoch) ?? new Set<string>();
        keys.add(key);
        byEpoch.set(epoch, keys);
      };
      switch (msg.type) {
        case 'resync': {
          resyncAt ??= f.t;
          const fields = (msg.fields ?? {}) as Record<string, { value?: unknown; rev?: unknown }>;
          for (const [name, st] of Object.entries(fields)) shownInEpoch(`${name}|${String(st.rev)}`);
          break;
        }
        case 'update':
          shownInEpoch(`${String(msg.field)}|${String(msg.rev)}`);
          break;
        case 'ack': {
          const id = Number(msg.id);
          if (typeof msg.field === 'string' && msg.rev !== undefined) shownInEpoch(`${msg.field}|${String(msg.rev)}`);
          const rec = pending.get(id);
          if (!rec) {
            violate({
              kind: answered.has(id) ? 'duplicate-ack' : 'unexpected-ack',
              message: `${answered.has(id) ? 'a second' : 'an'} ack for set ${id} on connection ${c.id} (${c.client})${answered.has(id) ? '' : ', which the server never received'}`,
              t: f.t,
              conn: c.id,
              client: c.client,
            });
            break;
          }
          pending.delete(id);
          answered.set(id, f.t);
          const status = String(msg.status);
          if (status === 'accepted' || status === 'unknown') {
            rec.ackStatus = status;
            counts.acks[status]++;
          } else {
            rec.ackStatus = 'rejected';
            const reason = String(msg.reason);
            rec.reason = reason;
            counts.acks.rejected[reason] = (counts.acks.rejected[reason] ?? 0) + 1;
          }
          break;
        }
        case 'error': {
          const code = String(msg.code);
          counts.errorsFromServer[code] = (counts.errorsFromServer[code] ?? 0) + 1;
          break;
        }
        default:
          break;
      }
    }
    // Sets without an ack.
    const end = c.serverEndedAt;
    for (const rec of pending.values()) {
      if (c.serverKilled) {
        rec.noAck = 'server-killed';
        counts.ackNotObservable.serverKilled++;
      } else if (end === undefined) {
        violate({
          kind: 'missing-ack',
          message: `set ${rec.id} (${rec.field}=${rec.value}) on connection ${c.id} (${c.client}) got no ack; the connection stayed open`,
          t: rec.t,
          conn: c.id,
          client: c.client,
        });
      } else if (end - rec.t > ackDeadline) {
        violate({
          kind: 'missing-ack',
          message: `set ${rec.id} on connection ${c.id} (${c.client}) got no ack in the ${Math.round(end - rec.t)} ms its connection stayed open`,
          t: rec.t,
          conn: c.id,
          client: c.client,
        });
      } else {
        rec.noAck = 'closed';
        counts.ackNotObservable.closed++;
      }
    }
  }
  return { sets, connDevice };
}
