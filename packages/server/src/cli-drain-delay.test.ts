/**
 * `live-device-server --drain-delay-ms` (docs/cli.md, *Output*): on SIGTERM the health check says
 * 503 at once while pages are still served, for the balancer to take the process out before its
 * pages are closed; then the drain. The bin as shipped, with its embedded broker.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import {
  TestClient,
  VIDEOPROC_FILE,
  buildCli,
  listeningUrl,
  runCli,
  stopCliProcesses,
} from '@live-device-form/testkit';

beforeAll(buildCli, 120_000);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) c();
});

async function page(url: string): Promise<TestClient> {
  const client = await TestClient.connect(url);
  cleanups.push(() => client.ws.terminate());
  client.hello(0, 'videoproc');
  await client.next<ResyncFrame>((f) => f.type === 'resync', 10_000);
  return client;
}

describe('live-device-server --drain-delay-ms', () => {
  it('SIGTERM: health 503 at once, pages still served until the delay ends (here: a second signal), then 1001', async () => {
    // Ten minutes: only the second signal ends the announcement within the test's time.
    const cli = runCli(['--device', VIDEOPROC_FILE, '--port', '0', '--drain-delay-ms', '600000']);
    const url = await listeningUrl(cli);
    const port = new URL(url).port;
    const before = await page(url);
    cli.child.kill('SIGTERM');
    await cli.line(/info: drain announced: health 503/, 'stderr');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect([health.status, await health.text()]).toEqual([503, 'draining\n']);
    // Not out of the balancer yet: a page still gets in.
    const after = await page(url);
    cli.child.kill('SIGTERM');
    expect((await before.closed).code).toBe(1001);
    expect((await after.closed).code).toBe(1001);
    expect(await cli.exited).toBe(1);
  });

  it('refuses a value that is not a whole number of milliseconds', async () => {
    const cli = runCli(['--device', VIDEOPROC_FILE, '--drain-delay-ms', '-5']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain("option '--drain-delay-ms <ms>' argument '-5' is invalid");
  });
});
