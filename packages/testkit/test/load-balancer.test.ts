/**
 * Scale-out behind a real load balancer (issue 15): 3 `live-device-server` processes on one real
 * Mosquitto with the simulated video processor, HAProxy (and nginx) in front, protocol clients
 * connecting through the balancer only. See docs/deploy.md for the configurations under test.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cluster,
  type ClusterOptions,
  type TestClient,
  VP,
  buildCli,
  haproxyConfig,
  nginxConfig,
  refusal,
  startCluster,
  startHaproxy,
  startNginx,
  until,
} from '@live-device-form/testkit';

// The root build, incremental: a no-op when dist is current.
beforeAll(buildCli, 120_000);

const clusters: Cluster[] = [];

async function cluster(options: ClusterOptions = {}): Promise<Cluster> {
  const c = await startCluster(options);
  clusters.push(c);
  return c;
}

async function stopClusters(): Promise<void> {
  for (const c of clusters.splice(0)) await c.stop();
}

/** Every upgrade the processes accepted so far, per process (from their logs). */
function opens(c: Cluster): number[] {
  return c.servers.map((s) => s.remotes().length);
}

/** Resolves once the processes have logged `total` upgrades between them; the per-process counts. */
async function opensReach(c: Cluster, total: number): Promise<number[]> {
  // A client has its resync before the process's stderr has reached this process: await the log.
  await until(() => opens(c).reduce((a, b) => a + b, 0) >= total, 5000);
  return opens(c);
}

/** Resolves once the processes have logged `count` upgrades more than `before`; how many each logged. */
async function added(c: Cluster, before: readonly number[], count: number): Promise<number[]> {
  const counts = await opensReach(c, before.reduce((a, b) => a + b, 0) + count);
  return counts.map((n, i) => n - (before[i] as number));
}

/** A write of `freeze` from `client`, based on the latest revision it has seen; resolves with the ack. */
async function writeFreeze(client: TestClient, id: number, value: boolean, rev: number): Promise<unknown> {
  client.set(id, 'freeze', value, rev);
  return client.ack(id, 10_000);
}

describe('three processes behind HAProxy (round robin, no stickiness, --trust-proxy)', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await cluster();
  }, 60_000);
  afterAll(stopClusters);

  it("checks the processes' GET /healthz (HTTP 200), not a bare TCP connect", async () => {
    expect(c.balancerConfig).toContain('option httpchk GET /healthz');
    const stats = (await c.haproxy?.stats()) ?? [];
    expect(stats.map((s) => [s.name, s.state, s.checkStatus])).toEqual([
      ['s1', 'UP', 'L7OK'],
      ['s2', 'UP', 'L7OK'],
      ['s3', 'UP', 'L7OK'],
    ]);
  });

  it('gives clients through the balancer resyncs, and their writes reach the device, are acked, and reach the clients on the other processes', async () => {
    const before = opens(c);
    const pages = [await c.join(), await c.join(), await c.join()];
    for (const { resync } of pages) {
      expect(resync.device).toBe('online');
      expect(resync.fields.freeze?.value).toBe(false);
    }
    // Round robin: the three pages are on the three processes.
    expect(await added(c, before, 3)).toEqual([1, 1, 1]);
    const [a, b, d] = pages as [(typeof pages)[0], (typeof pages)[0], (typeof pages)[0]];
    expect(await writeFreeze(a.client, 1, true, a.resync.fields.freeze?.rev ?? 0)).toMatchObject({
      status: 'accepted',
    });
    await until(() => c.device.received.some((m) => m.topic === VP.freezeSet && m.payload === 'freeze 1'), 5000);
    // The device's echo reaches every process through the broker, so every page sees the change
    // (after an update with the new revision and the old value: the write, seen on the action
    // topic, is a write from elsewhere to the other processes; docs/protocol.md).
    for (const { client } of [b, d]) {
      const update = await client.next((f) => f.type === 'update' && f.field === 'freeze' && f.value === true, 5000);
      expect(update).toMatchObject({ value: true });
    }
    // And a page on another process writes on top of it.
    const rev = b.client.frames.filter((f) => f.type === 'update' && f.field === 'freeze').at(-1);
    expect(await writeFreeze(b.client, 2, false, (rev as { rev: number }).rev)).toMatchObject({ status: 'accepted' });
    await until(() => c.device.received.some((m) => m.topic === VP.freezeSet && m.payload === 'freeze 0'), 5000);
  });

  it('spreads connections over all three processes', async () => {
    const before = opens(c);
    for (let i = 0; i < 9; i++) await c.join();
    // Round robin sends 3 to each; any stickiness (by source address, all 127.0.0.1 here) sends all 9 to one.
    expect(await added(c, before, 9)).toEqual([3, 3, 3]);
  });

  it('hands the processes the real client address from X-Forwarded-For (--trust-proxy)', async () => {
    const before = c.servers.map((s) => s.remotes().length);
    const total = before.reduce((x, y) => x + y, 0);
    for (const localAddress of ['127.0.0.2', '127.0.0.3', '127.0.0.2']) await c.join({ localAddress });
    // A client claiming another address: HAProxy appends the real one, and the processes take the last entry.
    await c.join({ localAddress: '127.0.0.3', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    await opensReach(c, total + 4);
    const seen = c.servers.flatMap((s, i) => s.remotes().slice(before[i]));
    expect(seen.sort()).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3']);
  });

  it("passes the Origin and Host rules with the balancer's forwarded Host, and refuses a foreign Origin through it", async () => {
    // A page served through the balancer: its origin is the balancer's, the Host it sends too.
    const own = await c.join({ origin: c.origin });
    expect(own.resync.device).toBe('online');
    // An origin listed with --origin.
    const listed = await c.join({ origin: 'https://panel.example' });
    expect(listed.resync.device).toBe('online');
    // Any other site: refused by whichever process the balancer picks, and the refusal comes back through it.
    for (let i = 0; i < 3; i++) expect(await refusal(c.url, { origin: 'https://evil.example' })).toBe(403);
    // Three refusals in a row, round robin: each process refused one, and logged it.
    await until(() => c.servers.every((s) => s.cli.stderr().includes('upgrade refused: origin not allowed')), 5000);
  });
});

describe('HAProxy without --trust-proxy on the processes', () => {
  afterEach(stopClusters);

  it("gives the processes the proxy's address, whatever X-Forwarded-For says", async () => {
    const c = await cluster({ processes: 1, trustProxy: false });
    await c.join({ localAddress: '127.0.0.2' });
    await c.join({ localAddress: '127.0.0.3', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    await opensReach(c, 2);
    expect(c.servers[0]?.remotes()).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});

describe('HAProxy: a killed process', () => {
  afterEach(stopClusters);

  it('is marked down by the health check, and a page reconnecting lands on a live process', async () => {
    const c = await cluster();
    const haproxy = c.haproxy;
    if (!haproxy) throw new Error('no haproxy');
    const pages = [await c.join(), await c.join(), await c.join()];
    await opensReach(c, 3);
    // s2 crashes under its page: the one page whose socket closes.
    expect(c.servers[1]?.remotes()).toHaveLength(1);
    await c.kill(1);
    const victim = await Promise.race(pages.map((p) => p.client.closed.then((closed) => ({ ...p, closed }))));
    expect(victim.closed.code).not.toBe(1000);
    await haproxy.waitForState('s2', 'DOWN', 10_000);
    const sentToDead = (await haproxy.stats()).find((s) => s.name === 's2')?.total;

    // It reconnects through the balancer, as a page does, and so do six new pages.
    const again = [await c.join({ localAddress: '127.0.0.2' })];
    for (let i = 0; i < 6; i++) again.push(await c.join());
    for (const { resync } of again) expect(resync.device).toBe('online');
    const counts = await opensReach(c, 3 + 7);
    expect(counts[1]).toBe(1);
    // Not even tried: the check took s2 out of the rotation (a redispatched attempt would count).
    expect((await haproxy.stats()).find((s) => s.name === 's2')?.total).toBe(sentToDead);
    expect(c.servers[0]?.remotes().concat(c.servers[2]?.remotes() ?? [])).toContain('127.0.0.2');
    // The reconnected page writes, and its write reaches the device.
    const page = again[0] as (typeof again)[0];
    expect(await writeFreeze(page.client, 1, true, page.resync.fields.freeze?.rev ?? 0)).toMatchObject({
      status: 'accepted',
    });
    await until(() => c.device.received.some((m) => m.topic === VP.freezeSet && m.payload === 'freeze 1'), 5000);
  });
});

describe('three processes behind nginx', () => {
  afterEach(stopClusters);

  it('gives clients resyncs and acks, spreads them, forwards their address, Host and Origin, refuses a foreign Origin', async () => {
    const c = await cluster({ balancer: 'nginx' });
    const pages = [];
    for (const localAddress of ['127.0.0.2', '127.0.0.3', '127.0.0.2']) pages.push(await c.join({ localAddress }));
    for (const { resync } of pages) expect(resync.device).toBe('online');
    expect(await opensReach(c, 3)).toEqual([1, 1, 1]);
    expect(c.servers.flatMap((s) => s.remotes()).sort()).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.3']);

    const page = pages[0] as (typeof pages)[0];
    expect(await writeFreeze(page.client, 1, true, page.resync.fields.freeze?.rev ?? 0)).toMatchObject({
      status: 'accepted',
    });
    await until(() => c.device.received.some((m) => m.topic === VP.freezeSet && m.payload === 'freeze 1'), 5000);
    const other = pages[1] as (typeof pages)[0];
    expect(
      await other.client.next((f) => f.type === 'update' && f.field === 'freeze' && f.value === true, 5000),
    ).toMatchObject({ value: true });

    // A page served through nginx: its origin is nginx's, and nginx forwards the Host with its port.
    expect((await c.join({ origin: c.origin })).resync.device).toBe('online');
    expect(await refusal(c.url, { origin: 'https://evil.example' })).toBe(403);
  });
});

describe("the harness's HAProxy: HTTP health check and the runtime API", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('marks a server down while its health path answers 503 and up again at 200; drain and maint through the runtime API', async () => {
    // A plain HTTP server stands in for the CLI's GET /healthz (issue 15, drain-health) here.
    let healthy = true;
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.writeHead(req.url === '/healthz' && healthy ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const haproxy = await startHaproxy({ backends: [{ port: (server.address() as AddressInfo).port }] });
    closers.push(() => haproxy.stop());
    expect(haproxy.config).toContain('option httpchk GET /healthz');

    await haproxy.waitForUp(1);
    expect(paths).toContain('GET /healthz');
    healthy = false;
    await haproxy.waitForState('s1', 'DOWN');
    expect((await haproxy.stats())[0]?.checkStatus).toBe('L7STS');
    healthy = true;
    await haproxy.waitForUp(1);

    await haproxy.setState('s1', 'drain');
    await haproxy.waitForState('s1', 'DRAIN');
    await haproxy.setState('s1', 'maint');
    await haproxy.waitForState('s1', 'MAINT');
    await haproxy.setState('s1', 'ready');
    await haproxy.waitForUp(1);
  });
});

describe('a 503 to an upgrade (a draining process) is retried on another server', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** A stand-in for a draining process (503 to every upgrade) and one for a serving process (a WebSocket that says hi). */
  async function drainingAndServing(): Promise<{ backends: { port: number }[]; refused: () => number }> {
    let refused = 0;
    const draining = http.createServer((_req, res) => res.writeHead(503).end());
    draining.on('upgrade', (_req, socket: Socket) => {
      refused++;
      // The balancer may reset its side once it has the answer.
      socket.on('error', () => {});
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const serving = http.createServer((_req, res) => res.writeHead(200).end());
    const wss = new WebSocketServer({ server: serving });
    wss.on('connection', (ws) => ws.send('hi'));
    for (const server of [draining, serving]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise((resolve) => server.close(resolve)));
    }
    closers.push(() => new Promise((resolve) => wss.close(resolve)));
    return {
      backends: [draining, serving].map((server) => ({ port: (server.address() as AddressInfo).port })),
      refused: () => refused,
    };
  }

  /** Opens `n` WebSockets through `url` one after the other; how many were refused. */
  async function refusedOf(url: string, n: number): Promise<number> {
    let count = 0;
    for (let i = 0; i < n; i++) {
      count += await new Promise<number>((resolve) => {
        const ws = new WebSocket(url);
        ws.once('message', () => {
          ws.terminate();
          resolve(0);
        });
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          ws.terminate();
          resolve(1);
        });
        ws.once('error', () => resolve(1));
      });
    }
    return count;
  }

  it('HAProxy (retry-on … 503): every upgrade gets a socket; without it, round robin hands half of them the 503', async () => {
    const { backends, refused } = await drainingAndServing();
    const retrying = await startHaproxy({ backends, healthCheck: 'tcp' });
    closers.push(() => retrying.stop());
    expect(retrying.config).toContain('retry-on conn-failure empty-response 503');
    await retrying.waitForUp(2);
    expect(await refusedOf(retrying.wsUrl(), 10)).toBe(0);
    // The draining server was asked, and answered 503: HAProxy retried those upgrades elsewhere.
    expect(refused()).toBeGreaterThan(0);

    const plain = await startHaproxy({ backends, healthCheck: 'tcp', retryOn503: false });
    closers.push(() => plain.stop());
    await plain.waitForUp(2);
    expect(await refusedOf(plain.wsUrl(), 10)).toBe(5);
  });

  it('nginx (proxy_next_upstream … http_503): every upgrade gets a socket', async () => {
    const { backends, refused } = await drainingAndServing();
    const nginx = await startNginx({ backends });
    closers.push(() => nginx.stop());
    expect(await refusedOf(nginx.wsUrl('/live'), 10)).toBe(0);
    expect(refused()).toBeGreaterThan(0);
  });
});

describe('docs/deploy.md', () => {
  it('quotes the configs the harness generates, as tested', async () => {
    const doc = await readFile(new URL('../../../docs/deploy.md', import.meta.url), 'utf8');
    const backends = [{ port: 8081 }, { port: 8082 }, { port: 8083 }];
    const haproxy = haproxyConfig({
      port: 8080,
      statsSocket: '/tmp/ldf-haproxy-XXXX/admin.sock',
      backends,
      healthCheck: { path: '/healthz' },
      checkIntervalMs: 200,
      tunnelTimeoutMs: 60_000,
    });
    const nginx = nginxConfig({ port: 8080, dir: '/tmp/ldf-nginx-XXXX', backends, proxyTimeoutMs: 60_000 });
    expect(doc).toContain(`\`\`\`haproxy\n${haproxy}\`\`\``);
    expect(doc).toContain(`\`\`\`nginx\n${nginx}\`\`\``);
  });
});
