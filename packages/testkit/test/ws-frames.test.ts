/**
 * The proxy's WebSocket reader: it must see exactly the messages that crossed the wire however the
 * bytes were split, masked or fragmented — the checker's records are only as good as this.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode, type WsMessage, WsStreamReader, encodeWsFrame } from '../src/ws-frames.js';

const HEAD = Buffer.from('GET /live?c=p1&n=2 HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Protocol: ldf.v1\r\n\r\n');
const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);

function read(chunks: Buffer[], skipHead = false): { head: string | undefined; messages: WsMessage[] } {
  const messages: WsMessage[] = [];
  let head: string | undefined;
  const reader = new WsStreamReader(
    { onHead: (h) => (head = h.startLine), onMessage: (m) => messages.push(m) },
    { skipHead },
  );
  for (const c of chunks) reader.feed(c);
  return { head, messages };
}

describe('WsStreamReader', () => {
  it('reads the upgrade head, then masked client frames, however the bytes are split', () => {
    const texts = ['{"type":"hello","device":"dev1","mounts":0}', 'x'.repeat(300), 'é'.repeat(40_000)];
    const wire = Buffer.concat([HEAD, ...texts.map((t) => encodeWsFrame(Opcode.Text, Buffer.from(t), { mask: MASK }))]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const chunks: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < wire.length; i++) {
          const size = sizes[i % sizes.length] as number;
          chunks.push(wire.subarray(at, at + size));
          at += size;
        }
        const { head, messages } = read(chunks);
        expect(head).toBe('GET /live?c=p1&n=2 HTTP/1.1');
        expect(messages).toEqual(texts.map((text) => ({ kind: 'text', text })));
      }),
      { numRuns: 200 },
    );
  });

  it('joins fragmented messages and passes control frames sent between the fragments', () => {
    const wire = Buffer.concat([
      encodeWsFrame(Opcode.Text, Buffer.from('{"type":'), { fin: false }),
      encodeWsFrame(Opcode.Ping, Buffer.alloc(0)),
      encodeWsFrame(Opcode.Continuation, Buffer.from('"pong","id":1}')),
      encodeWsFrame(Opcode.Close, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye')])),
    ]);
    expect(read([wire], true).messages).toEqual([
      { kind: 'ping' },
      { kind: 'text', text: '{"type":"pong","id":1}' },
      { kind: 'close', code: 4000, reason: 'bye' },
    ]);
  });

  it('reads 16- and 64-bit lengths', () => {
    const big = 'y'.repeat(70_000);
    const wire = Buffer.concat([
      encodeWsFrame(Opcode.Text, Buffer.from('z'.repeat(200))),
      encodeWsFrame(Opcode.Text, Buffer.from(big)),
    ]);
    const { messages } = read([wire], true);
    expect(messages.map((m) => (m.kind === 'text' ? m.text.length : -1))).toEqual([200, 70_000]);
  });

  it('stops at a stream it cannot read, without throwing', () => {
    const bad = Buffer.from([0x83, 0x00]); // reserved opcode 3
    const reader = new WsStreamReader({ onMessage: () => {} }, { skipHead: true });
    expect(() => reader.feed(bad)).not.toThrow();
    expect(reader.error?.message).toContain('opcode');
  });
});
