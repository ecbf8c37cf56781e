/**
 * Figure 11: scale-out — sessions held and fan-out with 1 and with 3 server processes behind
 * HAProxy on one broker, beside 1 process without a proxy (the baseline), in the same run.
 *
 * One Mosquitto (the testkit's `startMosquitto`: a real broker in its own process, as a scale-out
 * deployment has; the lab's embedded aedes would run in the driver's event loop) and one publisher
 * playing the hardware (scale-publisher.ts, in the driver) serve three set-ups at once, each with
 * topics of its own:
 *
 * - `1-direct` (baseline): one server process (scale-server-proc.ts: the SDK on a real MQTT bridge),
 *   its clients connected straight to it;
 * - `1-haproxy`: one server process behind HAProxy (the testkit's `startHaproxy`: round robin, no
 *   sticky sessions, health check `GET /healthz`, here every 2 s: {@link CHECK_INTERVAL_MS}), so the
 *   proxy's own cost shows;
 * - `3-haproxy`: three server processes behind one HAProxy.
 *
 * Each set-up has its own clients' process (clients-proc.ts, raw WebSocket clients counting frames)
 * holding N sessions in total. The fan-out is the fan-out figure's (figures/fanout.ts), moved in
 * front of the broker: the publisher publishes M updates with at most W not yet received by every
 * client (the clients' process reports progress over a loopback socket), update k on field
 * `n{k mod W}`, so every update reaches every socket as a frame of its own; a round that delivers
 * fewer than M × N frames fails. Rounds rotate between the set-ups so drift in the machine's load
 * hits all alike; the median round is reported. CPU is read for every process during each round:
 * the servers (`process.cpuUsage()`), HAProxy and Mosquitto (`/proc/<pid>/stat`), the clients and
 * the publisher — on a 2-core machine their sum is what limits the gain of a third process — and
 * the whole machine's (`/proc/stat`), since on a shared machine other work takes the cores too.
 *
 * Sizes: 1,000, 3,000 and 9,000 sessions in total (`BENCH_SCALE_SIZES` overrides; smoke: 60).
 * 9,000 is about what one HAProxy holds here: with `ulimit -n` 20,000 it computes `maxconn` 9,987,
 * each proxied session holding two descriptors (the client's and the server's).
 * @module
 */
import { median, round, startHaproxy, startMosquitto } from '@live-device-form/testkit';
import type { Haproxy, Mosquitto, RawTarget } from '@live-device-form/testkit';
import { cpus } from 'node:os';
import type { ConnectArgs } from '../clients-proc.js';
import type { BenchContext, FigureOutput } from '../context.js';
import type { MemoryReading } from '../memory.js';
import { type MachineCpu, machineCpu, pidCpuMs, pidRss } from '../pid-stats.js';
import { Child } from '../proc.js';
import { type Figure, ratio } from '../results.js';
import { counterTopic, onlineTopic } from '../scale-device.js';
import { ScalePublisher } from '../scale-publisher.js';
import { withTimeout } from '../util.js';
import { FAN_OUT_LAG_LIMIT_MS } from './fanout.js';

const MiB = 1024 * 1024;

/** The set-ups of the figure; `1-direct` is the baseline of the other two. */
export const ScaleSetup = { Direct1: '1-direct', Haproxy1: '1-haproxy', Haproxy3: '3-haproxy' } as const;
export type ScaleSetup = (typeof ScaleSetup)[keyof typeof ScaleSetup];

interface SetupSpec {
  name: ScaleSetup;
  processes: number;
  haproxy: boolean;
  label: string;
}

const SETUPS: readonly SetupSpec[] = [
  { name: ScaleSetup.Direct1, processes: 1, haproxy: false, label: '1 process, no proxy' },
  { name: ScaleSetup.Haproxy1, processes: 1, haproxy: true, label: '1 process behind HAProxy' },
  { name: ScaleSetup.Haproxy3, processes: 3, haproxy: true, label: '3 processes behind HAProxy' },
];

/**
 * HAProxy's health check interval here: 2 s, not the testkit's 200 ms. Without `timeout check`,
 * HAProxy waits at most `inter` for the answer, and a healthy process busy accepting 128 upgrades
 * at once on a loaded 2-core machine missed two 200 ms checks in a row: HAProxy marked it DOWN
 * ("Layer7 timeout") and answered the next pages 503. The figure measures throughput, not failover.
 */
const CHECK_INTERVAL_MS = 2000;

/** What this figure claims: nothing to meet, it is measured. */
const TARGET = 'none — measured';

/** A running set-up: its server processes, HAProxy (if any) and clients' process. */
interface Running {
  spec: SetupSpec;
  prefix: string;
  servers: Child[];
  haproxy: Haproxy | undefined;
  haproxyPid: number | undefined;
  clients: Child;
  target: RawTarget;
}

/** What a set-up held once its N clients were connected. */
interface Held {
  /** Sessions per server process once every client has its resync. */
  sessions: number[];
  connectMs: number;
  /** RSS per server process with the sessions open (after full GCs), and HAProxy's. */
  rss: number[];
  haproxyRss: number | undefined;
}

/** One fan-out round of one set-up: time and CPU of every process, in milliseconds. */
interface RoundResult {
  ms: number;
  perSecond: number;
  serverCpuMs: number[];
  haproxyCpuMs: number;
  brokerCpuMs: number;
  clientsCpuMs: number;
  publisherCpuMs: number;
  /** CPU time of every process on the machine (ours and anyone else's), summed over the cores, and the cores' time. */
  machineBusyMs: number;
  machineTotalMs: number;
}

/** Updates per round: about 250 k deliveries (full) or 20 k (smoke). */
function updatesFor(n: number, smoke: boolean): number {
  return Math.max(10, Math.round((smoke ? 20_000 : 250_000) / n));
}

/**
 * Updates in flight (and counter fields): about 128 k messages, 4 × the fan-out figure's window.
 * The pacing loop here has more hops than the fan-out figure's (publisher → Mosquitto → server →
 * HAProxy → clients → publisher), each a wake-up on a shared machine; with the fan-out figure's
 * window the rounds waited on that loop rather than on the servers. Still a few KiB per socket, far
 * below the SDK's slow-reader limit. At most half the updates of a round, so each field changes at
 * least twice per round and a round's first value on a field always differs from the previous
 * round's last (an unchanged value is no change: no frame).
 */
export function scaleWindow(n: number, count: number): number {
  return Math.max(1, Math.min(Math.ceil(131_072 / n), Math.floor(count / 2)));
}

async function startSetup(
  spec: SetupSpec,
  n: number,
  fields: number,
  mosquitto: Mosquitto,
  publisher: ScalePublisher,
): Promise<{ running: Running; stop: () => Promise<void> }> {
  const prefix = `bench/scale/${n}/${spec.name}`;
  // The device's retained state: online, every counter at 0 (the bridges are ready once it arrives).
  await publisher.retain(onlineTopic(prefix), '1');
  await Promise.all(Array.from({ length: fields }, (_, i) => publisher.retain(counterTopic(prefix, i), '0')));
  const started: Child[] = [];
  let haproxy: Haproxy | undefined;
  const stop = async (): Promise<void> => {
    await haproxy?.stop();
    await Promise.all(started.map((c) => c.stop()));
  };
  try {
    const args = [mosquitto.url, prefix, String(fields), String(FAN_OUT_LAG_LIMIT_MS)];
    if (spec.haproxy) args.push('trust-proxy');
    const launches = Array.from({ length: spec.processes }, (_, i) =>
      Child.start(`scale-${spec.name}-s${i + 1}`, './scale-server-proc.ts', args, ['--expose-gc']).then((c) => {
        started.push(c);
        return c;
      }),
    );
    const clientsLaunch = Child.start(`clients-${spec.name}`, './clients-proc.ts').then((c) => {
      started.push(c);
      return c;
    });
    const servers = await Promise.all(launches);
    const clients = await clientsLaunch;
    const ports = await Promise.all(servers.map((s) => s.call<{ port: number }>('listen').then((r) => r.port)));
    for (const s of servers) {
      const r = await s.call<{ ready: boolean; health: string }>('ready', {}, 30_000);
      if (!r.ready) throw new Error(`${spec.name}: a server process is not ready (health ${r.health})`);
    }
    let target: RawTarget;
    let haproxyPid: number | undefined;
    if (spec.haproxy) {
      haproxy = await startHaproxy({ backends: ports.map((port) => ({ port })), checkIntervalMs: CHECK_INTERVAL_MS });
      await haproxy.waitForUp(spec.processes, 30_000);
      haproxyPid = Number(/^Pid: (\d+)$/m.exec(await haproxy.command('show info'))?.[1]);
      if (!Number.isInteger(haproxyPid)) throw new Error("haproxy's show info has no Pid");
      target = { host: haproxy.host, port: haproxy.port, path: '/live', protocol: 'ldf.v1' };
    } else {
      target = { host: '127.0.0.1', port: ports[0] as number, path: '/live', protocol: 'ldf.v1' };
    }
    await clients.call('control', { port: publisher.controlPort });
    return { running: { spec, prefix, servers, haproxy, haproxyPid, clients, target }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function hold(r: Running, n: number): Promise<Held> {
  const args: ConnectArgs = {
    target: r.target,
    n,
    hello: JSON.stringify({ type: 'hello', device: 'bench', mounts: 0 }),
    concurrency: 128,
  };
  const { ms } = await r.clients.call<{ ms: number }>('connect', args, 300_000).catch((err: unknown) => {
    // A 503 from HAProxy means it had no server up: its log says why (a failed health check).
    throw new Error(`${r.spec.name}: ${String(err)}${r.haproxy ? `\nHAProxy:\n${r.haproxy.output()}` : ''}`);
  });
  // Every client has its resync, so every session is open: their sum is N.
  const sessions = await Promise.all(r.servers.map((s) => s.call<number>('sessions')));
  const total = sessions.reduce((a, b) => a + b, 0);
  if (total !== n)
    throw new Error(`${r.spec.name}: ${total} sessions open after ${n} resyncs (${sessions.join(' + ')})`);
  const rss = await Promise.all(r.servers.map((s) => s.call<MemoryReading>('mem').then((m) => m.rss)));
  const haproxyRss = r.haproxyPid === undefined ? undefined : await pidRss(r.haproxyPid);
  return { sessions, connectMs: ms, rss, haproxyRss };
}

async function fanOutRound(
  r: Running,
  n: number,
  count: number,
  fields: number,
  publisher: ScalePublisher,
  brokerPid: number,
): Promise<RoundResult> {
  await r.clients.call('expect', { count });
  const frames0 = await r.clients.call<number>('received');
  const cpu = async (): Promise<{
    servers: number[];
    haproxy: number;
    broker: number;
    clients: number;
    pub: number;
    machine: MachineCpu;
  }> => {
    const ms = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    const [servers, clients, haproxy, broker, machine] = await Promise.all([
      Promise.all(r.servers.map((s) => s.call<NodeJS.CpuUsage>('cpu').then(ms))),
      r.clients.call<NodeJS.CpuUsage>('cpu').then(ms),
      r.haproxyPid === undefined ? 0 : pidCpuMs(r.haproxyPid),
      pidCpuMs(brokerPid),
      machineCpu(),
    ]);
    return { servers, haproxy, broker, clients, pub: ms(process.cpuUsage()), machine };
  };
  const c0 = await cpu();
  const t0 = performance.now();
  await withTimeout(
    publisher.emit(r.prefix, fields, count, fields),
    120_000,
    `${r.spec.name}: fan-out of ${count} updates to ${n} sessions`,
  );
  const ms = performance.now() - t0;
  const c1 = await cpu();
  const frames = (await r.clients.call<number>('received')) - frames0;
  if (frames !== count * n)
    throw new Error(`${r.spec.name}: ${frames} update frames reached the clients, not ${count} × ${n}`);
  return {
    ms,
    perSecond: (count * n) / (ms / 1000),
    serverCpuMs: c1.servers.map((v, i) => v - (c0.servers[i] as number)),
    haproxyCpuMs: c1.haproxy - c0.haproxy,
    brokerCpuMs: c1.broker - c0.broker,
    clientsCpuMs: c1.clients - c0.clients,
    publisherCpuMs: c1.pub - c0.pub,
    machineBusyMs: c1.machine.busyMs - c0.machine.busyMs,
    machineTotalMs: c1.machine.totalMs - c0.machine.totalMs,
  };
}

/** One set-up's summary at one size: the median round, CPU per process as shares of one core. */
export interface ScaleSummary {
  setup: ScaleSetup;
  n: number;
  /** Messages delivered per second, median round. */
  perSecond: number;
  rounds: number[];
  /** Sessions per server process. */
  sessions: number[];
  /** Server CPU per delivered message, summed over the processes (µs), median round. */
  serverCpuUsPerMsg: number;
  /** Server + HAProxy CPU per delivered message (µs), median round. */
  serverAndProxyCpuUsPerMsg: number;
  /** Share of one core each server process used during the rounds (median). */
  serverBusy: number[];
  haproxyBusy: number;
  brokerBusy: number;
  clientsBusy: number;
  publisherBusy: number;
  /** All of the above ÷ the machine's cores: how much of the machine the figure's processes used. */
  benchBusy: number;
  /** Every process on the machine (`/proc/stat`), the figure's and anyone else's, ÷ the cores. */
  machineBusy: number;
  connectMs: number;
  rssMiB: number[];
  haproxyRssMiB: number | null;
}

function summarize(setup: ScaleSetup, n: number, count: number, held: Held, rounds: RoundResult[]): ScaleSummary {
  const cores = cpus().length;
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const busy = (pick: (x: RoundResult) => number): number => median(rounds.map((x) => pick(x) / x.ms));
  const processes = held.sessions.length;
  return {
    setup,
    n,
    perSecond: median(rounds.map((x) => x.perSecond)),
    rounds: rounds.map((x) => round(x.perSecond)),
    sessions: held.sessions,
    serverCpuUsPerMsg: median(rounds.map((x) => (sum(x.serverCpuMs) * 1000) / (count * n))),
    serverAndProxyCpuUsPerMsg: median(rounds.map((x) => ((sum(x.serverCpuMs) + x.haproxyCpuMs) * 1000) / (count * n))),
    serverBusy: Array.from({ length: processes }, (_, i) => busy((x) => x.serverCpuMs[i] as number)),
    haproxyBusy: busy((x) => x.haproxyCpuMs),
    brokerBusy: busy((x) => x.brokerCpuMs),
    clientsBusy: busy((x) => x.clientsCpuMs),
    publisherBusy: busy((x) => x.publisherCpuMs),
    benchBusy: busy(
      (x) => (sum(x.serverCpuMs) + x.haproxyCpuMs + x.brokerCpuMs + x.clientsCpuMs + x.publisherCpuMs) / cores,
    ),
    machineBusy: median(rounds.map((x) => (x.machineTotalMs > 0 ? x.machineBusyMs / x.machineTotalMs : 0))),
    connectMs: held.connectMs,
    rssMiB: held.rss.map((b) => b / MiB),
    haproxyRssMiB: held.haproxyRss === undefined ? null : held.haproxyRss / MiB,
  };
}

const pct = (v: number): string => `${Math.round(v * 100)} %`;

/** "s1 334 sessions, 97 % of a core, 61 MiB; s2 …" */
function perProcess(s: ScaleSummary): string {
  return s.sessions
    .map(
      (k, i) =>
        `s${i + 1} ${k.toLocaleString('en')} sessions, ${pct(s.serverBusy[i] as number)} of a core, ${Math.round(s.rssMiB[i] as number)} MiB RSS`,
    )
    .join('; ');
}

/** Where the machine's CPU went during the median rounds. */
function load(s: ScaleSummary): string {
  return (
    `server${s.sessions.length > 1 ? 's' : ''} ${s.serverBusy.map(pct).join(' + ')}, ` +
    `HAProxy ${pct(s.haproxyBusy)}, Mosquitto ${pct(s.brokerBusy)}, clients ${pct(s.clientsBusy)}, publisher ${pct(s.publisherBusy)} of a core; ` +
    `these ${pct(s.benchBusy)} of the machine (${cpus().length} cores), all processes ${pct(s.machineBusy)}`
  );
}

function figuresFor(
  n: number,
  count: number,
  fields: number,
  rounds: number,
  all: Record<ScaleSetup, ScaleSummary>,
): Figure[] {
  const base = all[ScaleSetup.Direct1];
  const one = all[ScaleSetup.Haproxy1];
  const three = all[ScaleSetup.Haproxy3];
  const sizes = `${n.toLocaleString('en')} sessions`;
  const how =
    `${count} updates × ${n} sessions per round through Mosquitto, every one delivered as its own frame, ` +
    `median of ${rounds} rounds rotating the set-ups; window ${fields} updates (on as many fields). `;
  const extra = (s: ScaleSummary): Record<string, unknown> => ({
    rounds: s.rounds,
    sessions: s.sessions,
    serverBusy: s.serverBusy.map((v) => round(v)),
    serverCpuUsPerMsg: round(s.serverCpuUsPerMsg),
    serverAndProxyCpuUsPerMsg: round(s.serverAndProxyCpuUsPerMsg),
    haproxyBusy: round(s.haproxyBusy),
    brokerBusy: round(s.brokerBusy),
    clientsBusy: round(s.clientsBusy),
    publisherBusy: round(s.publisherBusy),
    benchBusy: round(s.benchBusy),
    machineBusy: round(s.machineBusy),
    connectMs: round(s.connectMs),
    rssMiB: s.rssMiB.map((v) => round(v)),
    haproxyRssMiB: s.haproxyRssMiB === null ? null : round(s.haproxyRssMiB),
  });
  const fanOut = (s: ScaleSummary): Figure => ({
    id: `scale-fan-out/${s.setup}/${n}`,
    figure: 11,
    name: `Fan-out to ${sizes}, ${s.setup === ScaleSetup.Haproxy3 ? '3 processes' : '1 process'} behind HAProxy`,
    value: round(s.perSecond),
    unit: 'msg/s',
    baseline: round(base.perSecond),
    ratio: ratio(s.perSecond, base.perSecond),
    better: 'higher',
    target: TARGET,
    met: null,
    notes:
      how +
      `Baseline: 1 process, no proxy (${round(base.perSecond)} msg/s; load: ${load(base)}). ` +
      `This set-up: ${perProcess(s)}; load: ${load(s)}.`,
    extra: { ...extra(s), baseline: extra(base) },
  });
  const cpu: Figure = {
    id: `scale-cpu/${ScaleSetup.Haproxy3}/${n}`,
    figure: 11,
    name: `Server CPU per delivered message, ${sizes} on 3 processes behind HAProxy`,
    value: round(three.serverCpuUsPerMsg),
    unit: 'µs',
    baseline: round(base.serverCpuUsPerMsg),
    ratio: ratio(three.serverCpuUsPerMsg, base.serverCpuUsPerMsg),
    better: 'lower',
    target: TARGET,
    met: null,
    notes:
      'Server CPU time of the rounds summed over the processes ÷ messages delivered, median round; baseline: 1 process, no proxy. ' +
      `Per process: ${perProcess(three)}. With HAProxy's CPU added: ${round(three.serverAndProxyCpuUsPerMsg)} µs ` +
      `(1 process behind HAProxy: ${round(one.serverCpuUsPerMsg)} µs, ${round(one.serverAndProxyCpuUsPerMsg)} µs with HAProxy's).`,
    extra: { ...extra(three), oneBehindHaproxy: extra(one), baseline: extra(base) },
  };
  const held = three.sessions.reduce((a, b) => a + b, 0);
  const sessions: Figure = {
    id: `scale-sessions/${ScaleSetup.Haproxy3}/${n}`,
    figure: 11,
    name: `Sessions held, ${sizes} over 3 processes behind HAProxy`,
    value: held,
    unit: 'sessions',
    baseline: base.sessions.reduce((a, b) => a + b, 0),
    ratio: ratio(
      held,
      base.sessions.reduce((a, b) => a + b, 0),
    ),
    better: 'higher',
    target: TARGET,
    met: null,
    notes:
      `N raw WebSocket clients through HAProxy (round robin), each with its resync, all still open after the fan-out rounds. ` +
      `Connected in ${round(three.connectMs / 1000)} s (128 upgrades in flight) vs ${round(base.connectMs / 1000)} s straight to 1 process; ` +
      `${perProcess(three)}; HAProxy ${round(three.haproxyRssMiB ?? 0)} MiB RSS; 1 process, no proxy: ${Math.round(base.rssMiB[0] ?? 0)} MiB RSS.`,
    extra: { ...extra(three), oneBehindHaproxy: extra(one), baseline: extra(base) },
  };
  return [fanOut(one), fanOut(three), cpu, sessions];
}

/** The curves behind the scale-out plots (scale-plots.ts), one point per session count. */
export interface ScalePoint {
  n: number;
  perSecond: Record<ScaleSetup, number>;
  serverCpuUsPerMsg: Record<ScaleSetup, number>;
  serverAndProxyCpuUsPerMsg: Record<ScaleSetup, number>;
}

export async function scaleOut(ctx: BenchContext): Promise<FigureOutput> {
  const sizes = process.env.BENCH_SCALE_SIZES
    ? process.env.BENCH_SCALE_SIZES.split(',').map(Number)
    : ctx.smoke
      ? [60]
      : [1000, 3000, 9000];
  const rounds = ctx.smoke ? 1 : 4;
  const figures: Figure[] = [];
  const curve: ScalePoint[] = [];
  const mosquitto = await startMosquitto();
  try {
    const brokerPid = mosquitto.pid;
    if (brokerPid === undefined) throw new Error('mosquitto has no pid');
    const publisher = await ScalePublisher.start(mosquitto.url);
    try {
      for (const n of sizes) {
        const count = updatesFor(n, ctx.smoke);
        const fields = scaleWindow(n, count);
        ctx.log(`scale-out: N = ${n}, set-ups ${SETUPS.map((s) => s.name).join(', ')}`);
        const stops: (() => Promise<void>)[] = [];
        try {
          const running: Running[] = [];
          // One after the other: their start-ups would otherwise compete for the 2 cores.
          for (const spec of SETUPS) {
            const { running: r, stop } = await startSetup(spec, n, fields, mosquitto, publisher);
            stops.push(stop);
            running.push(r);
          }
          const held = new Map<Running, Held>();
          for (const r of running) {
            held.set(r, await hold(r, n));
            ctx.log(`  ${r.spec.name}: ${n} sessions in ${Math.round(held.get(r)?.connectMs ?? 0)} ms`);
          }
          const perRound = new Map<Running, RoundResult[]>(running.map((r) => [r, []]));
          for (let k = 0; k < rounds; k++) {
            // Rotate which set-up goes first, so drift in the machine's load hits all alike.
            for (let j = 0; j < running.length; j++) {
              const r = running[(j + k) % running.length] as Running;
              perRound.get(r)?.push(await fanOutRound(r, n, count, fields, publisher, brokerPid));
            }
          }
          const all = {} as Record<ScaleSetup, ScaleSummary>;
          for (const r of running) {
            const sessionsAfter = await Promise.all(r.servers.map((s) => s.call<number>('sessions')));
            if (sessionsAfter.reduce((a, b) => a + b, 0) !== n)
              throw new Error(`${r.spec.name}: ${sessionsAfter.join(' + ')} sessions left of ${n} after the rounds`);
            all[r.spec.name] = summarize(r.spec.name, n, count, held.get(r) as Held, perRound.get(r) ?? []);
            ctx.log(`  ${r.spec.name}: ${Math.round(all[r.spec.name].perSecond)} msg/s; ${load(all[r.spec.name])}`);
          }
          figures.push(...figuresFor(n, count, fields, rounds, all));
          const pick = (f: (s: ScaleSummary) => number): Record<ScaleSetup, number> =>
            Object.fromEntries(SETUPS.map((s) => [s.name, round(f(all[s.name]))])) as Record<ScaleSetup, number>;
          curve.push({
            n,
            perSecond: pick((s) => s.perSecond),
            serverCpuUsPerMsg: pick((s) => s.serverCpuUsPerMsg),
            serverAndProxyCpuUsPerMsg: pick((s) => s.serverAndProxyCpuUsPerMsg),
          });
        } finally {
          for (const stop of stops.reverse()) await stop();
        }
      }
    } finally {
      await publisher.close();
    }
  } finally {
    await mosquitto.close();
  }
  return { figures, series: { scaleOut: curve } };
}
