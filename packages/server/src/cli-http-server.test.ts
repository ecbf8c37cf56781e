/**
 * The CLI's own HTTP(S) server: wss:// with `--tls-cert`/`--tls-key` (a Node client, a SIGHUP
 * reload, a real Chromium page) and the header timeout that cuts off a client dribbling its request.
 * The bin as shipped, spawned with `node`, against its embedded broker.
 */
import { spawnSync } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import http from 'node:http';
import { type AddressInfo, connect as netConnect } from 'node:net';
import { createRequire } from 'node:module';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import {
  type CliProcess,
  type TestCert,
  TestClient,
  VIDEOPROC_FILE,
  VP,
  buildCli,
  launchChromium,
  listeningUrl,
  runCli,
  selfSignedCert,
  spkiHash,
  startWitness,
  stopCliProcesses,
} from '@live-device-form/testkit';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

beforeAll(buildCli, 120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The CLI over TLS with `cert`, its embedded broker holding the device's retained state. */
async function tlsCli(cert: TestCert, extra: string[] = []): Promise<{ cli: CliProcess; url: string }> {
  const cli = runCli([
    '--device',
    VIDEOPROC_FILE,
    '--port',
    '0',
    '--tls-cert',
    cert.certFile,
    '--tls-key',
    cert.keyFile,
    ...extra,
  ]);
  const brokerUrl = (await cli.line(/^embedded MQTT broker on /)).replace('embedded MQTT broker on ', '');
  const w = await startWitness(brokerUrl);
  cleanups.push(() => w.close());
  await w.publish(VP.genlockStatus, '-25 10', { retain: true });
  await w.publish(VP.online, '1', { retain: true });
  return { cli, url: await listeningUrl(cli) };
}

/** A page (Node `ws`) trusting `ca`, through hello to its first resync with the device online. */
async function onlinePage(url: string, ca: Buffer): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await TestClient.connect(url, { ca });
  cleanups.push(() => client.ws.terminate());
  client.hello(0, 'videoproc');
  const resync = await client.next<ResyncFrame>(
    (f) => f.type === 'resync' && f.device === 'online' && f.fields.genlock_phase_h?.value === -25,
    10_000,
  );
  return { client, resync };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` is shown. */
async function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('live-device-server over TLS (--tls-cert, --tls-key)', () => {
  it('says wss:// and serves a client that trusts the certificate; refuses one that does not', async () => {
    const cert = await selfSignedCert();
    const { url } = await tlsCli(cert);
    expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/live$/);
    const { resync } = await onlinePage(url, cert.cert);
    expect(resync.fields.genlock_phase_h?.value).toBe(-25);
    await expect(TestClient.connect(url)).rejects.toThrow(/self[- ]signed certificate/);
  });

  it('re-reads the pair on SIGHUP: new connections see the new certificate, open ones stay; a bad pair is refused and the current one kept', async () => {
    const first = await selfSignedCert();
    const second = await selfSignedCert();
    const third = await selfSignedCert();
    // The CLI reads the files at these paths; each "renewal" copies another pair over them.
    const served = await selfSignedCert();
    await copyFile(first.certFile, served.certFile);
    await copyFile(first.keyFile, served.keyFile);
    const { cli, url } = await tlsCli(served);
    expect(await servedFingerprint(url)).toBe(first.fingerprint256);
    const { client: before, resync } = await onlinePage(url, first.cert);

    await copyFile(second.certFile, served.certFile);
    await copyFile(second.keyFile, served.keyFile);
    cli.child.kill('SIGHUP');
    await cli.line(/info: TLS certificate reloaded/, 'stderr');
    expect(cli.stderr()).toContain(`"fingerprint256":"${second.fingerprint256}"`);
    expect(await servedFingerprint(url)).toBe(second.fingerprint256);
    await onlinePage(url, second.cert);
    // The page connected before the reload keeps its socket and can still write.
    before.set(1, 'genlock_phase_h', 22, resync.fields.genlock_phase_h?.rev ?? 0);
    expect(await before.ack(1, 5000)).toEqual({ type: 'ack', id: 1, status: 'accepted' });

    // A renewal gone wrong: the third certificate with the second's key.
    await copyFile(third.certFile, served.certFile);
    cli.child.kill('SIGHUP');
    await cli.line(/error: TLS reload failed; keeping the current certificate/, 'stderr');
    expect(await servedFingerprint(url)).toBe(second.fingerprint256);
    await onlinePage(url, second.cert);
    expect(cli.child.exitCode).toBeNull();
  });

  it('refuses --tls-cert without --tls-key, and a key that is not the certificate’s', async () => {
    const a = await selfSignedCert();
    const b = await selfSignedCert();
    const alone = runCli(['--device', VIDEOPROC_FILE, '--tls-cert', a.certFile]);
    const mismatched = runCli(['--device', VIDEOPROC_FILE, '--tls-cert', a.certFile, '--tls-key', b.keyFile]);
    expect(await alone.exited).toBe(1);
    expect(alone.stderr()).toContain('--tls-cert and --tls-key go together: give both or neither');
    expect(await mismatched.exited).toBe(1);
    expect(mismatched.stderr()).toContain(`--tls-key: ${b.keyFile} is not the private key of ${a.certFile}`);
  });

  it('a real Chromium page, trusting the certificate by its SPKI hash, goes live over wss:// and shows the device value', async () => {
    const cert = await selfSignedCert();
    const bundle = await elementBundle();
    const pageServer = http.createServer((req, res) => {
      if (req.url === '/bundle.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else {
        const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            `<!doctype html><meta charset="utf-8"><script type="module" src="/bundle.js"></script>` +
              `<live-device-form device="videoproc" src="${src}"></live-device-form>`,
          );
      }
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => pageServer.close(() => resolve())));
    const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    const { url } = await tlsCli(cert, ['--origin', pageOrigin]);

    const browser = await launchChromium([`--ignore-certificate-errors-spki-list=${spkiHash(cert.cert)}`]);
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${pageOrigin}/?src=${encodeURIComponent(url)}`);
    // Evaluated in the page (a string: this package's tests are typed without the DOM).
    await page.waitForFunction(
      `(() => {
        const form = document.querySelector('live-device-form');
        const input = form?.shadowRoot?.querySelector('#ldf-genlock_phase_h');
        return form?.state === 'live' && input?.value === '-25';
      })()`,
      undefined,
      { timeout: 20_000, polling: 50 },
    );
  }, 60_000);
});

describe("live-device-server's header timeout (--headers-timeout-ms)", () => {
  it('closes a connection that sends part of its request line and never finishes it', async () => {
    const cli = runCli(['--device', VIDEOPROC_FILE, '--port', '0', '--headers-timeout-ms', '300']);
    const { port } = new URL(await listeningUrl(cli));
    const socket = netConnect({ host: '127.0.0.1', port: Number(port) });
    cleanups.push(() => socket.destroy());
    const closed = new Promise<string>((resolve) => {
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('close', () => resolve(answer));
    });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs');
    // Closed by the server (Node answers 408); the test's timeout is the ceiling.
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
  }, 10_000);

  it('over TLS, closes a connection that never finishes its handshake', async () => {
    const cert = await selfSignedCert();
    const { url } = await tlsCli(cert, ['--headers-timeout-ms', '300']);
    const socket = netConnect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    cleanups.push(() => socket.destroy());
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a TLS record, then nothing
    await closed;
  }, 10_000);
});

/** The element's single-file bundle, built by its own scripts (`tsc -b`, then `scripts/bundle.mjs`). */
async function elementBundle(): Promise<string> {
  const tsc = createRequire(`${ROOT}package.json`).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', 'packages/element'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`element build failed:\n${r.stdout}${r.stderr}`);
  const bundler = (await import(pathToFileURL(`${ROOT}packages/element/scripts/bundle.mjs`).href)) as {
    bundle(options: { withLit: boolean }): Promise<string>;
  };
  return bundler.bundle({ withLit: true });
}
