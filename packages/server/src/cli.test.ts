/**
 * The `live-device-server` bin, as shipped: built with the root build (`tsc -b`), spawned with plain
 * `node dist/cli.js`, talked to with a real WebSocket client and real MQTT brokers.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import { startEmbeddedBroker } from './embedded-broker.js';
import {
  VIDEOPROC_FILE,
  VP,
  TestClient,
  runMosquittoTests,
  startMosquitto,
  startWitness,
  type Witness,
} from '@live-device-form/testkit';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/server/dist/cli.js');

beforeAll(() => {
  // The root build, incremental: a no-op when dist is current.
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', 'packages/protocol', 'packages/server'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}, 120_000);

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line matching, or rejects if the process exits first. */
  line(match: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

const running = new Set<Cli>();
const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  for (const cli of running) {
    if (cli.child.exitCode === null && cli.child.pid !== undefined) cli.child.kill('SIGKILL');
    await cli.exited;
  }
  running.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function run(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let waiters: { match: RegExp; resolve: (l: string) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of out.split('\n').slice(0, -1)) {
      waiters = waiters.filter((w) => {
        if (!w.match.test(l)) return true;
        w.resolve(l);
        return false;
      });
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const cli: Cli = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    line(match) {
      const seen = out.split('\n').find((l) => match.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) =>
          reject(new Error(`live-device-server exited (${code}) before printing ${match}:\n${out}\n${err}`)),
        );
      });
    },
  };
  running.add(cli);
  return cli;
}

/** Waits for `listening on …` and returns the WebSocket URL. */
async function listening(cli: Cli): Promise<string> {
  const line = await cli.line(/^listening on /);
  const url = /^listening on (ws:\/\/127\.0\.0\.1:\d+\/live)$/.exec(line)?.[1];
  if (!url) throw new Error(`unexpected line: ${line}`);
  return url;
}

async function witnessOn(url: string): Promise<Witness> {
  const w = await startWitness(url, ['cy-vp4/#']);
  cleanups.push(() => w.close());
  return w;
}

async function deviceState(w: Witness): Promise<void> {
  await w.publish(VP.genlockStatus, '-25 10', { retain: true });
  await w.publish(VP.freezeStatus, '0', { retain: true });
  await w.publish(VP.online, '1', { retain: true });
}

async function page(url: string, token?: string): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await TestClient.connect(url);
  cleanups.push(() => client.ws.terminate());
  client.hello(0, 'videoproc', token);
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 10_000);
  return { client, resync };
}

/** Resolves when the device is online in the server's view (the resync after hello may precede the MQTT link). */
async function onlinePage(url: string, token?: string): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const first = await page(url, token);
  if (first.resync.device === 'online' && first.resync.fields.genlock_phase_h?.value !== null) return first;
  const resync = await first.client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 10_000);
  return { client: first.client, resync };
}

describe('live-device-server --help', () => {
  it('documents every flag', async () => {
    const cli = run(['--help']);
    expect(await cli.exited).toBe(0);
    for (const flag of [
      '--device <file>',
      '--mqtt <url>',
      '--mqtt-username <name>',
      '--mqtt-password-file <file>',
      '--mqtt-password-env <NAME>',
      '--mqtt-ca <file>',
      '--mqtt-cert <file>',
      '--mqtt-key <file>',
      '--broker-port <port>',
      '--broker-host <host>',
      '--port <port>',
      '--host <host>',
      '--path <path>',
      '--guard-ms <ms>',
      '--origin <origin>',
      '--token-env <NAME>',
      '--log-level <level>',
      '--help',
    ]) {
      expect(cli.stdout()).toContain(flag);
    }
  });
});

describe('live-device-server with its embedded broker', () => {
  it('prints where the broker and the server are, serves the device, logs rejected writes, stops cleanly on SIGTERM', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--port', '0']);
    const brokerLine = await cli.line(/^embedded MQTT broker on /);
    const brokerUrl = /^embedded MQTT broker on (mqtt:\/\/127\.0\.0\.1:\d+)$/.exec(brokerLine)?.[1] as string;
    expect(brokerUrl).toBeDefined();
    const url = await listening(cli);

    const w = await witnessOn(brokerUrl);
    await deviceState(w);
    const { client, resync } = await onlinePage(url);
    expect(resync.schema.map((f) => f.name)).toContain('genlock_phase_h');
    expect(resync.fields.genlock_phase_h?.value).toBe(-25);

    client.set(1, 'genlock_phase_h', 600, resync.fields.genlock_phase_h?.rev ?? 0);
    expect(await client.ack(1, 5000)).toMatchObject({ status: 'rejected', reason: 'invalid' });
    client.set(2, 'genlock_phase_h', 22, resync.fields.genlock_phase_h?.rev ?? 0);
    expect(await client.ack(2, 5000)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
    await w.waitFor(
      (m) => m.topic === VP.genlockSet && m.payload === 'genlock 22 10',
      'the write on the embedded broker',
    );

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(
      cli
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('listening on ')),
    ).toHaveLength(1);
    const rejected = cli
      .stderr()
      .split('\n')
      .filter((l) => l.includes('write rejected'));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toContain('"reason":"invalid"');
    expect(await client.closed).toMatchObject({ code: 1001 });
  });

  it('requires the token from --token-env in hello', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--port', '0', '--token-env', 'LDF_TEST_TOKEN'], {
      LDF_TEST_TOKEN: 'sesame',
    });
    const url = await listening(cli);
    const wrong = await TestClient.connect(url);
    cleanups.push(() => wrong.ws.terminate());
    wrong.hello(0, 'videoproc', 'guess');
    expect(await wrong.closed).toMatchObject({ code: 4401 });
    const { resync } = await page(url, 'sesame');
    expect(resync.type).toBe('resync');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });
});

describe('live-device-server against an external broker', () => {
  it('passes the user name and a password read from a file or an environment variable', async () => {
    const broker = await startEmbeddedBroker();
    cleanups.push(() => broker.close());
    const w = await witnessOn(broker.url);
    await deviceState(w);
    // From now on only the panel's credentials get in.
    broker.broker.authenticate = (_client, username, password, done) => {
      const ok = username === 'panel' && password?.toString() === 's3cret';
      done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 as const }), ok);
    };
    const dir = await mkdtemp(join(tmpdir(), 'ldf-cli-'));
    const file = join(dir, 'password');
    await writeFile(file, 's3cret\n');

    const viaFile = run([
      '--device',
      VIDEOPROC_FILE,
      '--port',
      '0',
      '--mqtt',
      broker.url,
      '--mqtt-username',
      'panel',
      '--mqtt-password-file',
      file,
    ]);
    await onlinePage(await listening(viaFile));
    const viaEnv = run(
      [
        '--device',
        VIDEOPROC_FILE,
        '--port',
        '0',
        '--mqtt',
        broker.url,
        '--mqtt-username',
        'panel',
        '--mqtt-password-env',
        'LDF_PW',
      ],
      {
        LDF_PW: 's3cret',
      },
    );
    await onlinePage(await listening(viaEnv));
  });

  it.runIf(runMosquittoTests)('serves the example device against a real Mosquitto', async () => {
    const mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.close());
    const w = await witnessOn(mosquitto.url);
    await deviceState(w);
    const cli = run([
      '--device',
      VIDEOPROC_FILE,
      '--mqtt',
      mosquitto.url,
      '--port',
      '0',
      '--guard-ms',
      '300',
      '--origin',
      'http://localhost:5173',
    ]);
    const url = await listening(cli);
    expect(cli.stdout()).not.toContain('embedded MQTT broker');
    const { client, resync } = await onlinePage(url);
    client.set(1, 'freeze', true, resync.fields.freeze?.rev ?? 0);
    expect(await client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    await w.waitFor((m) => m.topic === VP.freezeSet && m.payload === 'freeze 1', 'the write on Mosquitto');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });
});

describe('live-device-server: the first resync after start carries the device state', () => {
  const STARTS = 20;
  const PARALLEL = 5;

  /** The example device without its availability topic (online whenever the broker link is up). */
  async function withoutAvailabilityFile(): Promise<string> {
    const { availability: _ignored, ...rest } = JSON.parse(await readFile(VIDEOPROC_FILE, 'utf8')) as Record<
      string,
      unknown
    >;
    const file = join(await mkdtemp(join(tmpdir(), 'ldf-cli-')), 'videoproc-always-online.json');
    await writeFile(file, JSON.stringify(rest));
    return file;
  }

  /**
   * Starts the CLI STARTS times against one broker, in rounds of PARALLEL processes (to keep the
   * suite fast; processes starting side by side are, if anything, slower to link up), with new
   * retained values before each round.
   */
  async function startsAgainst(brokerUrl: string, deviceFile: string): Promise<void> {
    const w = await witnessOn(brokerUrl);
    for (let round = 0; round < STARTS / PARALLEL; round++) {
      // Retained, as the device leaves them; some status topics (brightness, format…) have none.
      await w.publish(VP.genlockStatus, `${-1 - round} ${round}`, { retain: true });
      await w.publish(VP.freezeStatus, round % 2 === 0 ? '1' : '0', { retain: true });
      await w.publish(VP.delayStatus, String(100 + round), { retain: true });
      await w.publish(VP.online, '1', { retain: true });
      const expected = {
        round,
        device: 'online',
        values: {
          genlock_phase_h: -1 - round,
          genlock_phase_v: round,
          freeze: round % 2 === 0,
          audio_delay: 100 + round,
        },
      };
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          const cli = run(['--device', deviceFile, '--mqtt', brokerUrl, '--port', '0']);
          const { client, resync } = await page(await listening(cli));
          expect({ round, device: resync.device, values: valuesOf(resync) }).toEqual(expected);
          expect(client.frames[0]).toBe(resync);
          cli.child.kill('SIGTERM');
          expect(await cli.exited).toBe(0);
          expect(cli.stderr()).not.toContain('devices not ready');
        }),
      );
    }
  }

  const valuesOf = (resync: ResyncFrame) => ({
    genlock_phase_h: resync.fields.genlock_phase_h?.value,
    genlock_phase_v: resync.fields.genlock_phase_v?.value,
    freeze: resync.fields.freeze?.value,
    audio_delay: resync.fields.audio_delay?.value,
  });

  for (const availabilityTopic of [true, false]) {
    const what = availabilityTopic ? 'with an availability topic' : 'without an availability topic';

    it(`${what}, aedes: a page connecting right after "listening on" gets the retained values, ${STARTS} starts`, async () => {
      const broker = await startEmbeddedBroker();
      cleanups.push(() => broker.close());
      await startsAgainst(broker.url, availabilityTopic ? VIDEOPROC_FILE : await withoutAvailabilityFile());
    }, 120_000);

    it.runIf(runMosquittoTests)(
      `${what}, Mosquitto: a page connecting right after "listening on" gets the retained values, ${STARTS} starts`,
      async () => {
        const mosquitto = await startMosquitto();
        cleanups.push(() => mosquitto.close());
        await startsAgainst(mosquitto.url, availabilityTopic ? VIDEOPROC_FILE : await withoutAvailabilityFile());
      },
      120_000,
    );
  }

  it('an unreachable broker: "listening on" after the bound, with a warning naming the device', async () => {
    const gone = await startEmbeddedBroker();
    await gone.close(); // nothing listens on its port any more
    const cli = run(['--device', VIDEOPROC_FILE, '--mqtt', gone.url, '--port', '0']);
    const url = await listening(cli);
    expect(cli.stderr()).toMatch(
      /warn: devices not ready: their pages start with what is known \{"devices":\["videoproc"\]/,
    );
    const { resync } = await page(url);
    expect(resync.device).toBe('offline');
  });
});

describe('live-device-server refuses bad configuration', () => {
  it('never takes a password or token on the command line', async () => {
    const flags = ['--mqtt-password=x', '--token'].map((flag) => run(['--device', VIDEOPROC_FILE, flag]));
    const inUrl = run(['--device', VIDEOPROC_FILE, '--mqtt', 'mqtt://panel:s3cret@127.0.0.1:1']);
    for (const cli of flags) {
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toContain('passwords and tokens are never taken on the command line');
    }
    expect(await inUrl.exited).toBe(1);
    expect(inUrl.stderr()).toContain('--mqtt: the URL holds a password');
  });

  it('names the file and the bad entry of an invalid device description', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldf-cli-'));
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        id: 'x',
        topics: [{ status: 's', pattern: '{a}' }],
        fields: { a: { type: 'integer', min: 'low' } },
      }),
    );
    const cli = run(['--device', file]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(`invalid device description in ${file}:`);
    expect(cli.stderr()).toContain('fields.a.min: expected a number');
  });

  it('refuses contradictory flags', async () => {
    const both = run(['--device', VIDEOPROC_FILE, '--mqtt', 'mqtt://127.0.0.1:1', '--broker-port', '1883']);
    const none = run(['--port', '0']);
    const twice = run(['--device', VIDEOPROC_FILE, '--device', VIDEOPROC_FILE]);
    expect(await both.exited).toBe(1);
    expect(both.stderr()).toContain('--broker-port is for the embedded broker; it cannot be combined with --mqtt');
    expect(await none.exited).toBe(1);
    expect(none.stderr()).toContain('at least one --device FILE is needed');
    expect(await twice.exited).toBe(1);
    expect(twice.stderr()).toContain('two device files describe the device "videoproc"');
  });
});
