import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FaultProxy, ProxyLinkState, ProxyMode, startFaultProxy } from '../src/fault-proxy.js';
import { wsFrameTap } from '../src/taps.js';
import { encodeWsFrame } from '../src/ws-frames.js';

/** An echo server that keeps what each connection sent it. */
let echo: Server;
let received: Buffer[][];
let proxy: FaultProxy;
const serverSockets = new Set<Socket>();
const clients: Socket[] = [];

beforeEach(async () => {
  received = [];
  serverSockets.clear();
  echo = createServer((s) => {
    serverSockets.add(s);
    const mine: Buffer[] = [];
    received.push(mine);
    s.on('data', (d: Buffer) => {
      mine.push(d);
      s.write(d);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await proxy?.close();
  for (const s of serverSockets) s.destroy();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

const target = (): { port: number } => ({ port: (echo.address() as { port: number }).port });

function dial(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: proxy.port });
    clients.push(s);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with `n` bytes read from `s`. */
function read(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (d: Buffer): void => {
      parts.push(d);
      size += d.length;
      if (size >= n) {
        s.off('data', onData);
        resolve(Buffer.concat(parts));
      }
    };
    s.on('data', onData);
  });
}

const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.once('close', () => resolve()));

/** Connects and resolves once the proxy has reset the connection (before or after it opened). */
function dialRefused(): Promise<void> {
  const s = connect({ host: '127.0.0.1', port: proxy.port });
  clients.push(s);
  s.on('error', () => {});
  return closed(s);
}

describe('fault proxy: pass', () => {
  it('forwards both ways, in order, also when delayed and split into 1–3 byte pieces', async () => {
    let i = 0;
    proxy = await startFaultProxy({
      target: target(),
      shape: () => ({ delayMs: 5, split: { toServer: () => 1 + (i++ % 3), toClient: () => 2 } }),
    });
    const s = await dial();
    const message = Buffer.from('the quick brown fox jumps over the lazy dog');
    s.write(message);
    expect((await read(s, message.length)).toString()).toBe(message.toString());
    expect(Buffer.concat(received[0] ?? []).toString()).toBe(message.toString());
  });
});

describe('fault proxy: faults', () => {
  it('cut resets the open links and keeps accepting new ones', async () => {
    proxy = await startFaultProxy({ target: target() });
    const s = await dial();
    const gone = closed(s);
    proxy.cut();
    await gone;
    expect(proxy.links[0]?.state).toBe(ProxyLinkState.Closed);
    const again = await dial();
    again.write('x');
    expect((await read(again, 1)).toString()).toBe('x');
  });

  it('refuse resets open links and every new connection until pass', async () => {
    proxy = await startFaultProxy({ target: target() });
    await dial();
    proxy.refuse();
    expect(proxy.mode).toBe(ProxyMode.Refuse);
    await dialRefused();
    expect(proxy.links.at(-1)?.refused).toBe(true);
    proxy.pass();
    const ok = await dial();
    ok.write('y');
    expect((await read(ok, 1)).toString()).toBe('y');
  });

  it('black-hole keeps a link open and lets nothing through; it stays dead after pass', async () => {
    proxy = await startFaultProxy({ target: target() });
    const s = await dial();
    await proxy.until(() => received.length === 1, 'the server side');
    proxy.blackHole();
    s.write('lost');
    proxy.pass();
    const other = await dial();
    other.write('z');
    expect((await read(other, 1)).toString()).toBe('z');
    expect(received[0]).toEqual([]);
    expect(proxy.links[0]?.state).toBe(ProxyLinkState.BlackHoled);
    expect(s.destroyed).toBe(false);
  });

  it('setMode changes what happens to new connections only', async () => {
    proxy = await startFaultProxy({ target: target() });
    const open = await dial();
    proxy.setMode(ProxyMode.Refuse);
    await dialRefused();
    open.write('still');
    expect((await read(open, 5)).toString()).toBe('still');
  });
});

describe('fault proxy: taps', () => {
  it('the WebSocket tap decodes what reached the server, after the request head', async () => {
    const seen: string[] = [];
    proxy = await startFaultProxy({
      target: target(),
      readHead: true,
      tap: (link) => {
        expect(link.target).toBe('/live?c=a&n=1');
        return wsFrameTap({ onMessage: (dir, m) => m.kind === 'text' && seen.push(`${dir} ${m.text}`) });
      },
    });
    const s = await dial();
    const head = 'GET /live?c=a&n=1 HTTP/1.1\r\nHost: x\r\n\r\n';
    const frame = encodeWsFrame(1, Buffer.from('{"type":"ping","id":1}'), { mask: Buffer.from([1, 2, 3, 4]) });
    s.write(head);
    s.write(frame);
    await proxy.until(() => seen.length === 1, 'the frame');
    expect(seen).toEqual(['c2s {"type":"ping","id":1}']);
  });
});
