/**
 * The `live-device-server` bin, as shipped: built with the root build (`tsc -b`), spawned with plain
 * `node dist/cli.js`, talked to with a real WebSocket client and real MQTT brokers.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import { startEmbeddedBroker } from './embedded-broker.js';
import {
  VIDEOPROC_FILE,
  VP,
  TestClient,
  buildCli,
  freePort,
  listeningUrl as listening,
  runCli as run,
  refusal,
  runMosquittoTests,
  startMosquitto,
  startWitness,
  stopCliProcesses,
  type Witness,
} from '@live-device-form/testkit';

// The root build, incremental: a no-op when dist is current.
beforeAll(buildCli, 120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

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
      '--mqtt-version <version>',
      '--broker-port <port>',
      '--broker-host <host>',
      '--broker-username <name>',
      '--broker-password-file <file>',
      '--broker-password-env <NAME>',
      '--port <port>',
      '--host <host>',
      '--tls-cert <file>',
      '--tls-key <file>',
      '--headers-timeout-ms <ms>',
      '--path <path>',
      '--health-path <path>',
      '--drain-timeout-ms <ms>',
      '--drain-delay-ms <ms>',
      '--guard-ms <ms>',
      '--origin <origin>',
      '--allowed-host <host>',
      '--max-connections <n>',
      '--max-connections-per-address <n>',
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

/** A file holding `content`, with the permission bits `mode`. */
async function secretFile(content: string, mode: number): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'ldf-cli-')), 'password');
  await writeFile(file, content);
  await chmod(file, mode);
  return file;
}

/** One login attempt (no retries): `'connected'`, or the CONNACK refusal code mqtt.js reports. */
async function mqttLogin(url: string, username?: string, password?: string): Promise<'connected' | number | string> {
  try {
    const client = await connectAsync(url, {
      reconnectPeriod: 0,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
    });
    await client.endAsync();
    return 'connected';
  } catch (err) {
    return (err as { code?: number | string }).code ?? (err as Error).message;
  }
}

describe('live-device-server: an embedded broker beyond loopback', () => {
  it('refuses --broker-host 0.0.0.0 without credentials, a user name without a password, an empty password', async () => {
    const open = run(['--device', VIDEOPROC_FILE, '--broker-host', '0.0.0.0']);
    const nameOnly = run(['--device', VIDEOPROC_FILE, '--broker-username', 'panel']);
    expect(await open.exited).toBe(1);
    expect(open.stderr()).toContain(
      'error: --broker-host 0.0.0.0: an embedded broker reachable from other machines needs credentials: add --broker-username with --broker-password-file or --broker-password-env',
    );
    expect(open.stdout()).not.toContain('embedded MQTT broker on');
    expect(await nameOnly.exited).toBe(1);
    expect(nameOnly.stderr()).toContain(
      '--broker-username and --broker-password-file/--broker-password-env go together',
    );
    const empty = run(
      ['--device', VIDEOPROC_FILE, '--broker-username', 'panel', '--broker-password-env', 'LDF_EMPTY'],
      {
        LDF_EMPTY: '',
      },
    );
    expect(await empty.exited).toBe(1);
    expect(empty.stderr()).toContain('error: --broker-username/--broker-password-*: empty');
  });

  it('with credentials: warns, refuses anonymous and wrong logins, and its own bridge logs in (a write round trip)', async () => {
    const brokerPort = await freePort('0.0.0.0');
    const file = await secretFile('br0ker-s3cret\n', 0o600);
    const cli = run([
      '--device',
      VIDEOPROC_FILE,
      '--port',
      '0',
      '--broker-host',
      '0.0.0.0',
      '--broker-port',
      String(brokerPort),
      '--broker-username',
      'panel',
      '--broker-password-file',
      file,
      '--log-level',
      'debug',
    ]);
    expect(await cli.line(/^embedded MQTT broker on /)).toBe(`embedded MQTT broker on mqtt://0.0.0.0:${brokerPort}`);
    const url = await listening(cli);
    expect(cli.stderr()).toContain(
      'warn: the embedded MQTT broker listens on a non-loopback interface: other machines can reach it (with its credentials) {"host":"0.0.0.0"}',
    );

    const viaLoopback = `mqtt://127.0.0.1:${brokerPort}`;
    expect(await mqttLogin(viaLoopback)).toBe(4);
    expect(await mqttLogin(viaLoopback, 'panel', 'guess')).toBe(4);
    const w = await witnessOn(`mqtt://panel:br0ker-s3cret@127.0.0.1:${brokerPort}`);
    await deviceState(w);
    const { client, resync } = await onlinePage(url);
    client.set(1, 'genlock_phase_h', 22, resync.fields.genlock_phase_h?.rev ?? 0);
    expect(await client.ack(1, 5000)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    await w.waitFor((m) => m.topic === VP.genlockSet && m.payload === 'genlock 22 10', 'the write on the broker');

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toContain('connected to the MQTT broker');
    expect(cli.stderr()).not.toContain('secret file readable by other users');
    expect(cli.stderr() + cli.stdout()).not.toContain('br0ker-s3cret');
  });

  it('stays credential-free on loopback by default', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--port', '0', '--broker-host', '127.0.0.2']);
    const line = await cli.line(/^embedded MQTT broker on /);
    await listening(cli);
    expect(await mqttLogin(line.replace('embedded MQTT broker on ', ''))).toBe('connected');
    expect(cli.stderr()).not.toContain('non-loopback');
  });
});

describe('live-device-server: secret files', () => {
  it('warns once about a password file other users can read (0644), naming it; not about a 0600 one', async () => {
    const broker = await startEmbeddedBroker();
    cleanups.push(() => broker.close());
    const readable = await secretFile('s3cret\n', 0o644);
    const privateFile = await secretFile('s3cret\n', 0o600);
    const args = ['--device', VIDEOPROC_FILE, '--port', '0', '--mqtt', broker.url, '--mqtt-username', 'panel'];
    const loose = run([...args, '--mqtt-password-file', readable]);
    const tight = run([...args, '--mqtt-password-file', privateFile]);
    await Promise.all([listening(loose), listening(tight)]);
    const warnings = loose
      .stderr()
      .split('\n')
      .filter((l) => l.includes('secret file readable by other users'));
    expect(warnings).toEqual([
      `[live-device-server] warn: secret file readable by other users; restrict it with: chmod 600 ${readable} {"file":"${readable}","mode":"0644"}`,
    ]);
    expect(tight.stderr()).not.toContain('secret file readable by other users');
    expect(loose.stderr() + tight.stderr()).not.toContain('s3cret');
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
    const flags = ['--mqtt-password=x', '--token', '--broker-password', '--broker-password=x'].map((flag) =>
      run(['--device', VIDEOPROC_FILE, flag]),
    );
    const inUrl = run(['--device', VIDEOPROC_FILE, '--mqtt', 'mqtt://panel:s3cret@127.0.0.1:1']);
    for (const cli of flags) {
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toContain('passwords and tokens are never taken on the command line');
    }
    expect(await inUrl.exited).toBe(1);
    expect(inUrl.stderr()).toContain('--mqtt: the URL holds a password');
  });

  it('refuses a password hidden in the --mqtt user name (%3A), or any password, without echoing it', async () => {
    const urls = [
      'mqtt://panel%3As3cret@127.0.0.1:1',
      'mqtt://panel%3as3cret@127.0.0.1:1',
      'mqtt://panel%3A@127.0.0.1:1',
      'mqtt://panel:s3cret@127.0.0.1:1',
      'mqtt://:s3cret@127.0.0.1:1',
      'mqtts://panel:s3cret%3A@127.0.0.1:1',
    ];
    const clis = urls.map((url) => run(['--device', VIDEOPROC_FILE, '--mqtt', url]));
    for (const [i, cli] of clis.entries()) {
      expect({ url: urls[i], code: await cli.exited }).toEqual({ url: urls[i], code: 1 });
      expect(cli.stderr()).toContain(
        '--mqtt: the URL holds a password; use --mqtt-username with --mqtt-password-file or --mqtt-password-env',
      );
      expect(cli.stderr() + cli.stdout()).not.toContain('s3cret');
    }
    // A user name alone is no secret: accepted (and logged as it is).
    const nameOnly = run(['--device', VIDEOPROC_FILE, '--mqtt', 'mqtt://panel@127.0.0.1:1', '--port', '0']);
    await listening(nameOnly);
  });

  it('shows a URL it cannot use with its credentials redacted', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--mqtt', 'http://panel:s3cret@127.0.0.1:1']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('got http://panel:***@127.0.0.1:1');
    expect(cli.stderr()).not.toContain('s3cret');
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
    expect(none.stderr()).toContain('at least one --device FILE or --discover SOURCE is needed');
    expect(await twice.exited).toBe(1);
    expect(twice.stderr()).toContain('two device files describe the device "videoproc"');
  });
});

describe('live-device-server: the upgrade gate', () => {
  it('refuses an upgrade whose Host is a name it was not given (DNS rebinding) with 403; --allowed-host admits one', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--port', '0', '--allowed-host', 'panel.example.com']);
    const url = await listening(cli);
    const port = new URL(url).port;
    const rebound = `attacker.example:${port}`;
    expect(await refusal(url, { headers: { host: rebound }, origin: `http://${rebound}` })).toBe(403);
    const named = `panel.example.com:${port}`;
    const ok = await TestClient.connect(url, { headers: { host: named }, origin: `http://${named}` });
    ok.ws.close();
    expect(cli.stderr()).toContain('upgrade refused: host not allowed');
  });

  it('closes idle TCP connections over --max-connections-per-address at once; a page from another address still gets in', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--port', '0', '--max-connections-per-address', '20']);
    const url = await listening(cli);
    const port = Number(new URL(url).port);
    const idle: Socket[] = [];
    cleanups.push(() => idle.forEach((s) => s.destroy()));
    /** A TCP connection from 127.0.0.2 that sends nothing; resolves once the server accepted it. */
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => resolve(s));
        idle.push(s);
        s.once('error', reject);
      });
    for (let i = 0; i < 20; i++) await open();
    // The 21st is accepted by the kernel and closed by the server, before any byte.
    const over = await open();
    await new Promise<void>((resolve) => over.once('close', () => resolve()));
    expect(over.bytesRead).toBe(0);
    // The 20 are still open, and a page from 127.0.0.1 gets in, resyncs and is acked.
    expect(idle.slice(0, 20).every((s) => !s.destroyed)).toBe(true);
    const { client, resync } = await page(url);
    client.set(1, 'genlock_phase_h', 5, resync.fields.genlock_phase_h?.rev ?? 0);
    expect((await client.ack(1, 10_000)).type).toBe('ack');
    expect(cli.stderr()).toContain('connection closed: too many from one address');
  });

  it('with --trust-proxy, the per-address cap counts the forwarded address, not the proxy’s', async () => {
    const cli = run(['--device', VIDEOPROC_FILE, '--port', '0', '--trust-proxy', '--max-connections-per-address', '3']);
    const url = await listening(cli);
    // Every connection comes from 127.0.0.1, as through a proxy; X-Forwarded-For names the client.
    const from = (client: string) => ({ headers: { 'x-forwarded-for': client } });
    const held: TestClient[] = [];
    cleanups.push(() => held.forEach((c) => c.ws.terminate()));
    for (let i = 0; i < 3; i++) held.push(await TestClient.connect(url, from('198.51.100.7')));
    expect(await refusal(url, from('198.51.100.7'))).toBe(429);
    // Another client behind the same proxy still gets in, and is served.
    held.push(await TestClient.connect(url, from('198.51.100.8')));
    const last = held.at(-1) as TestClient;
    last.hello(0);
    await last.next((f) => f.type === 'resync', 10_000);
    expect(cli.stderr()).toContain('upgrade refused: connection limit perAddress');
  });
});
