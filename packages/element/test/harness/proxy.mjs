/**
 * A loopback TCP proxy between the browser and the server, for network faults in browser tests:
 * `cut` resets every connection, `refuse` also resets new ones, `blackhole` keeps connections open
 * but drops every byte both ways (a sleeping laptop, a dead Wi-Fi), `pass` forwards again.
 *
 * It is also the independent witness of what the element sent: it decodes the client's WebSocket
 * frames (masked, RFC 6455) that it forwarded to the server and records their JSON.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';

/** @typedef {'pass' | 'refuse' | 'blackhole'} ProxyMode */

/**
 * Decodes client→server WebSocket frames from a byte stream: first the HTTP upgrade request,
 * then frames. Calls `onFrame(text)` for every text frame and `onClose(code)` for a close frame.
 */
class ClientFrameReader {
  constructor(onFrame, onClose) {
    this.buf = Buffer.alloc(0);
    this.handshakeDone = false;
    this.onFrame = onFrame;
    this.onClose = onClose;
    this.fragments = [];
  }

  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.handshakeDone) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.buf = this.buf.subarray(end + 4);
      this.handshakeDone = true;
    }
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= b[maskOff + (i % 4)];
      this.buf = b.subarray(off + len);
      if (opcode === 0x8) this.onClose(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      else if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(payload);
        if (fin) {
          this.onFrame(Buffer.concat(this.fragments).toString('utf8'));
          this.fragments = [];
        }
      }
    }
  }
}

/**
 * @param {number} upstreamPort
 * @returns {Promise<Proxy>}
 */
export async function startProxy(upstreamPort) {
  const proxy = new Proxy(upstreamPort);
  await new Promise((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
  return proxy;
}

export class Proxy extends EventEmitter {
  constructor(upstreamPort) {
    super();
    /** @type {ProxyMode} */
    this.mode = 'pass';
    /** Every connection ever accepted, in order. */
    this.conns = [];
    /** Every client frame forwarded to the server: `{ conn, frame }` (parsed JSON) or `{ conn, close }`. */
    this.sent = [];
    this.server = net.createServer((client) => this.accept(client, upstreamPort));
  }

  get port() {
    return this.server.address().port;
  }

  /** Connections whose client side is still open. */
  get open() {
    return this.conns.filter((c) => !c.closed).length;
  }

  accept(client, upstreamPort) {
    const conn = {
      index: this.conns.length,
      client,
      upstream: null,
      closed: false,
      blackholed: this.mode === 'blackhole',
    };
    this.conns.push(conn);
    client.setNoDelay(true);
    const close = () => {
      if (conn.closed) return;
      conn.closed = true;
      client.destroy();
      conn.upstream?.destroy();
      this.emit('change');
    };
    client.on('error', close);
    client.on('close', close);
    this.emit('change');
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    conn.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', close);
    upstream.on('close', close);
    const reader = new ClientFrameReader(
      (text) => {
        let frame;
        try {
          frame = JSON.parse(text);
        } catch {
          frame = { unparsable: text };
        }
        this.sent.push({ conn: conn.index, frame });
        this.emit('sent');
      },
      (code) => {
        this.sent.push({ conn: conn.index, close: code });
        this.emit('sent');
      },
    );
    client.on('data', (chunk) => {
      if (conn.blackholed || conn.closed) return;
      reader.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (conn.blackholed || conn.closed) return;
      client.write(chunk);
    });
  }

  /**
   * `cut`: resets every open connection (new ones are accepted). `refuse`: resets every open
   * connection and every new one until `pass`. `blackhole`: open and new connections stay open
   * but no byte gets through either way. `pass`: new connections are forwarded again (black-holed
   * ones stay dead, as a TCP connection through a broken network would).
   * @param {'cut' | ProxyMode} action
   */
  set(action) {
    if (action === 'cut' || action === 'refuse') {
      for (const c of this.conns) if (!c.closed) c.client.resetAndDestroy();
      this.mode = action === 'refuse' ? 'refuse' : 'pass';
    } else if (action === 'blackhole') {
      for (const c of this.conns) c.blackholed = true;
      this.mode = 'blackhole';
    } else if (action === 'pass') {
      this.mode = 'pass';
    } else throw new TypeError(`unknown proxy action "${action}"`);
  }

  /** Resolves once `predicate()` holds, re-checked on every connection or frame; rejects after `timeoutMs`. */
  until(predicate, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let ok;
        try {
          ok = predicate();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (ok) {
          done();
          resolve(ok);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.off('change', check);
        this.off('sent', check);
      };
      this.on('change', check);
      this.on('sent', check);
      check();
    });
  }

  async close() {
    for (const c of this.conns) if (!c.closed) c.client.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
