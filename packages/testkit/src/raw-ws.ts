/**
 * A minimal WebSocket client over a bare TCP socket, for the load-generating side of the fan-out,
 * memory and slow-consumer figures. It parses frame headers only (it never decodes JSON and emits
 * no event per message), so one process can hold 10,000 of them and still read faster than a
 * server can write: the figures then measure the server, not the clients.
 *
 * It speaks just enough RFC 6455: the upgrade (offering a subprotocol), masked text frames out,
 * unmasked frames in (text, ping → pong, close). A `paused` client stops reading after the
 * upgrade: the slow consumer of docs/protocol.md rule 10. Shared by the bench's client processes
 * and the server's flood test ({@link openPausedClients}).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** What a server frame is, judged from the first bytes of its JSON: `{"type":"update"…` or other. */
export const FrameKind = { Update: 'update', Resync: 'resync', Other: 'other' } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Where a raw client connects to. */
export interface RawTarget {
  host: string;
  port: number;
  path: string;
  /** Subprotocol offered in `Sec-WebSocket-Protocol`. */
  protocol: string;
  /** Local address to connect from (any of 127.0.0.0/8 on Linux). Defaults to the kernel's choice. */
  localAddress?: string;
}

/** Callbacks of one client; kept as plain functions so 10,000 clients cost no closures per frame. */
export interface RawHandlers {
  /** A text frame arrived; `kind` is read from byte 9 of the payload (`{"type":"u…` / `r…`). */
  onText(client: RawWsClient, kind: FrameKind, payload: Buffer): void;
  /** The socket closed (either side). */
  onClose(client: RawWsClient): void;
  /** The server's close frame arrived, with its status code (if it carried one). */
  onCloseFrame?(client: RawWsClient, code: number | undefined): void;
}

/** How a raw client behaves. */
export interface RawClientOptions {
  /**
   * Whether the client answers the server's close frame (by ending its side of the connection).
   * `false` plays a hostile peer that ignores the closing handshake: the close frame is only
   * reported (`onCloseFrame`), the socket stays open and may go on sending, and a FIN from the
   * server is not answered either (the socket is half-open). Defaults to `true`.
   */
  answerClose?: boolean;
}

const UPDATE_BYTE = 'u'.charCodeAt(0);
const RESYNC_BYTE = 'r'.charCodeAt(0);
const HEADER_END = Buffer.from('\r\n\r\n');

/** Encodes one masked client frame (FIN set). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + extra + 4 + len);
  out[0] = 0x80 | opcode;
  if (extra === 0) out[1] = 0x80 | len;
  else if (extra === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const maskAt = 2 + extra;
  randomBytes(4).copy(out, maskAt);
  for (let i = 0; i < len; i++) out[maskAt + 4 + i] = (payload[i] as number) ^ (out[maskAt + (i & 3)] as number);
  return out;
}

/** One client socket. `id` is the caller's index (e.g. into a counts array). */
export class RawWsClient {
  /** Frames of kind `update` received. */
  updates = 0;
  /** Whether the first non-update text frame (the resync) arrived. */
  synced = false;
  private socket: Socket | undefined;
  private upgraded = false;
  private rest: Buffer | undefined;
  private closed = false;

  private readonly answerClose: boolean;

  constructor(
    readonly id: number,
    private readonly handlers: RawHandlers,
    options: RawClientOptions = {},
  ) {
    this.answerClose = options.answerClose ?? true;
  }

  /**
   * Connects and upgrades; resolves once the 101 arrived (and `firstText` was sent), rejects on a
   * refused upgrade or a socket error before it. With `pause`, stops reading right after the upgrade.
   */
  open(target: RawTarget, firstText: string | undefined, pause = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = connect({
        host: target.host,
        port: target.port,
        localAddress: target.localAddress,
        allowHalfOpen: !this.answerClose,
      });
      this.socket = socket;
      socket.setNoDelay(true);
      const key = randomBytes(16).toString('base64');
      let head: Buffer = Buffer.alloc(0);
      const fail = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.on('close', () => {
        if (this.closed) return;
        this.closed = true;
        if (!this.upgraded) reject(new Error('socket closed before the upgrade'));
        this.handlers.onClose(this);
      });
      socket.once('connect', () => {
        socket.write(
          `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${target.protocol}\r\n\r\n`,
        );
      });
      const onHead = (chunk: Buffer): void => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf(HEADER_END);
        if (end < 0) {
          if (head.length > 8192) fail(new Error('upgrade response too long'));
          return;
        }
        socket.off('data', onHead);
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!status.startsWith('HTTP/1.1 101')) {
          fail(new Error(`upgrade refused: ${status}`));
          return;
        }
        this.upgraded = true;
        socket.off('error', fail);
        socket.on('error', () => socket.destroy());
        if (firstText !== undefined) socket.write(clientFrame(0x1, Buffer.from(firstText)));
        const after = head.subarray(end + 4);
        if (pause) {
          socket.pause();
        } else {
          socket.on('data', (d: Buffer) => this.onData(d));
          if (after.length > 0) this.onData(after);
        }
        resolve();
      };
      socket.on('data', onHead);
    });
  }

  /** Sends a text frame (masked). */
  sendText(text: string): void {
    this.socket?.write(clientFrame(0x1, Buffer.from(text)));
  }

  /** Closes the TCP socket at once (no closing handshake). */
  destroy(): void {
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let at = 0;
    while (buf.length - at >= 2) {
      const b0 = buf[at] as number;
      let len = (buf[at + 1] as number) & 0x7f;
      let start = at + 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        start = at + 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (buf.length < start + len) break;
      const opcode = b0 & 0x0f;
      if (opcode === 0x1) {
        const c = buf[start + 9];
        if (c === UPDATE_BYTE) {
          this.updates++;
          this.handlers.onText(this, FrameKind.Update, buf.subarray(start, start + len));
        } else {
          if (c === RESYNC_BYTE) this.synced = true;
          this.handlers.onText(
            this,
            c === RESYNC_BYTE ? FrameKind.Resync : FrameKind.Other,
            buf.subarray(start, start + len),
          );
        }
      } else if (opcode === 0x9) {
        this.socket?.write(clientFrame(0xa, buf.subarray(start, start + len)));
      } else if (opcode === 0x8) {
        this.handlers.onCloseFrame?.(this, len >= 2 ? buf.readUInt16BE(start) : undefined);
        if (this.answerClose) this.socket?.end();
      }
      at = start + len;
    }
    if (at < buf.length) {
      buf = buf.subarray(at);
      // Keep our own copy: the chunk's memory belongs to the stream.
      this.rest = Buffer.from(buf);
    }
  }
}

/** Handlers of clients nobody listens to. */
const IGNORED: RawHandlers = { onText() {}, onClose() {} };

/**
 * Opens `count` clients that send `hello` and then never read (paused right after the upgrade), the
 * `localAddresses` taken in turn so that a per-address limit does not refuse them. `concurrency`
 * upgrades are in flight at once. Resolves with the clients once every upgrade was answered 101.
 */
export async function openPausedClients(
  target: Omit<RawTarget, 'localAddress'>,
  count: number,
  hello: string,
  localAddresses: readonly string[] = ['127.0.0.1'],
  concurrency = 100,
): Promise<RawWsClient[]> {
  const clients: RawWsClient[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const c = new RawWsClient(i, IGNORED);
      clients.push(c);
      await c.open({ ...target, localAddress: localAddresses[i % localAddresses.length] }, hello, true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return clients;
}
