/**
 * Just enough of RFC 6455 to read a WebSocket connection from the outside: the HTTP upgrade
 * exchange, then frames (masked or not, fragmented or not, split across TCP reads anyhow), joined
 * into messages. The fault proxy's `wsFrameTap` feeds it every byte it forwards, so a checker sees
 * what really crossed the wire, not what either end says it sent. It is a witness: it deliberately
 * shares no code with the `ws` library the server parses frames with.
 * @module
 */

/** A WebSocket opcode. */
export const Opcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** One complete message (data frames joined) or control frame. */
export type WsMessage =
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: number }
  | { kind: 'close'; code: number | undefined; reason: string }
  | { kind: 'ping' }
  | { kind: 'pong' };

/** The HTTP head of an upgrade request or response. */
export interface HttpHead {
  /** `GET /live?c=x HTTP/1.1` or `HTTP/1.1 101 Switching Protocols`. */
  startLine: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
}

/** Why a stream could not be read. */
export class WsProtocolError extends Error {}

const MAX_HEAD = 64 * 1024;
/** Larger than any frame the server accepts or sends (1 MiB resync); beyond this the reader gives up. */
const MAX_MESSAGE = 8 * 1024 * 1024;

/**
 * Reads one direction of a connection: first the HTTP head, then frames. `onHead` is called once
 * with the parsed head; `onMessage` for each message in order. After an error it ignores the rest.
 */
export class WsStreamReader {
  /** Bytes received and not yet consumed, kept as chunks until enough for the next step arrive. */
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next step can run (joining chunks only then keeps reading linear). */
  private need = 1;
  private head: HttpHead | undefined;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private fragmentBytes = 0;
  private failed: Error | undefined;
  private upgraded: boolean;

  constructor(
    private readonly handlers: {
      onHead?: (head: HttpHead) => void;
      onMessage: (message: WsMessage) => void;
      onError?: (err: Error) => void;
    },
    options: { skipHead?: boolean } = {},
  ) {
    this.upgraded = options.skipHead === true;
  }

  /** The HTTP head, once read. */
  get httpHead(): HttpHead | undefined {
    return this.head;
  }

  /** Whether the stream could not be read (the rest is ignored). */
  get error(): Error | undefined {
    return this.failed;
  }

  /** Feeds the next bytes of the stream. */
  feed(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size < this.need) return;
    const buf = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    let offset = 0;
    try {
      for (;;) {
        const step = this.upgraded ? this.readFrame(buf, offset) : this.readHead(buf, offset);
        if (step.consumed === 0) {
          this.need = step.need;
          break;
        }
        offset += step.consumed;
      }
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.parts = [];
      this.size = 0;
      this.handlers.onError?.(this.failed);
      return;
    }
    const rest = buf.subarray(offset);
    this.parts = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
  }

  /** Reads the HTTP head; `consumed` 0 and `need` when it is not all here. */
  private readHead(buf: Buffer, offset: number): { consumed: number; need: number } {
    const end = buf.indexOf('\r\n\r\n', offset);
    if (end < 0) {
      if (buf.length - offset > MAX_HEAD) throw new WsProtocolError('HTTP head too long');
      return { consumed: 0, need: buf.length - offset + 1 };
    }
    const lines = buf.subarray(offset, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.head = { startLine: lines[0] ?? '', headers };
    this.upgraded = true;
    this.handlers.onHead?.(this.head);
    return { consumed: end + 4 - offset, need: 1 };
  }

  /** Reads one frame if it is wholly here; else `consumed` 0 and how many bytes it needs. */
  private readFrame(b: Buffer, at: number): { consumed: number; need: number } {
    const avail = b.length - at;
    if (avail < 2) return { consumed: 0, need: 2 };
    const b0 = b[at] as number;
    const b1 = b[at + 1] as number;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (avail < 4) return { consumed: 0, need: 4 };
      length = b.readUInt16BE(at + 2);
      offset = 4;
    } else if (length === 127) {
      if (avail < 10) return { consumed: 0, need: 10 };
      const big = b.readBigUInt64BE(at + 2);
      if (big > BigInt(MAX_MESSAGE)) throw new WsProtocolError(`frame of ${big} bytes`);
      length = Number(big);
      offset = 10;
    }
    const maskOffset = at + offset;
    if (masked) offset += 4;
    if (avail < offset + length) return { consumed: 0, need: offset + length };
    const payload = Buffer.from(b.subarray(at + offset, at + offset + length));
    if (masked) {
      for (let i = 0; i < payload.length; i++)
        payload[i] = (payload[i] as number) ^ (b[maskOffset + (i & 3)] as number);
    }
    this.onFrame(fin, opcode, payload);
    return { consumed: offset + length, need: 1 };
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case Opcode.Close: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
        this.handlers.onMessage({ kind: 'close', code, reason: payload.subarray(2).toString('utf8') });
        return;
      }
      case Opcode.Ping:
        this.handlers.onMessage({ kind: 'ping' });
        return;
      case Opcode.Pong:
        this.handlers.onMessage({ kind: 'pong' });
        return;
      case Opcode.Text:
      case Opcode.Binary:
        if (this.fragments.length > 0) throw new WsProtocolError('new data frame inside a fragmented message');
        this.fragmentOpcode = opcode;
        break;
      case Opcode.Continuation:
        if (this.fragments.length === 0) throw new WsProtocolError('continuation without a first frame');
        break;
      default:
        throw new WsProtocolError(`unknown opcode ${opcode}`);
    }
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > MAX_MESSAGE) throw new WsProtocolError('message too large');
    if (!fin) return;
    const whole = this.fragments.length === 1 ? (this.fragments[0] as Buffer) : Buffer.concat(this.fragments);
    this.fragments = [];
    this.fragmentBytes = 0;
    if (this.fragmentOpcode === Opcode.Text) this.handlers.onMessage({ kind: 'text', text: whole.toString('utf8') });
    else this.handlers.onMessage({ kind: 'binary', bytes: whole.length });
  }
}

/** Encodes one frame (for tests of the reader). `mask` masks it as a client must. */
export function encodeWsFrame(opcode: number, payload: Buffer, options: { fin?: boolean; mask?: Buffer } = {}): Buffer {
  const fin = options.fin ?? true;
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const head = Buffer.alloc(headLen + (options.mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  const maskBit = options.mask ? 0x80 : 0;
  if (len < 126) head[1] = maskBit | len;
  else if (len < 65536) {
    head[1] = maskBit | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  let body = payload;
  if (options.mask) {
    options.mask.copy(head, headLen);
    body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (options.mask[i & 3] as number);
  }
  return Buffer.concat([head, body]);
}
