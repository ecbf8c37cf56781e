/**
 * Just enough of MQTT 3.1.1 and 5 framing to read a connection from the outside: packets split
 * across TCP reads anyhow, the client id of CONNECT, and the topic and payload of PUBLISH. A
 * witness of what the SDK really sent to its broker, independent of mqtt.js's own parser.
 * @module
 */

/** MQTT control packet types read here. */
export const PacketType = { Connect: 1, Publish: 3 } as const;

/** One MQTT control packet. */
export interface MqttPacket {
  /** The control packet type (high nibble of the first byte). */
  type: number;
  /** The flags (low nibble of the first byte). */
  flags: number;
  /** Variable header and payload. */
  body: Buffer;
  /** The protocol level of the connection: 4 (3.1.1) or 5, from its CONNECT. */
  level: number;
}

/** Reads MQTT packets from one direction of a connection; after a malformed length it reads no more. */
export class MqttStreamReader {
  #buffer: Buffer = Buffer.alloc(0);
  #level = 4;
  #failed = false;

  constructor(private readonly onPacket: (packet: MqttPacket) => void) {}

  feed(chunk: Buffer): void {
    if (this.#failed) return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (;;) {
        if (i >= b.length) return;
        const byte = b[i] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        i++;
        if ((byte & 0x80) === 0) break;
        if (i > 4) {
          this.#failed = true;
          return;
        }
      }
      if (b.length < i + length) return;
      const b0 = b[0] as number;
      const body = b.subarray(i, i + length);
      this.#buffer = b.subarray(i + length);
      const type = b0 >> 4;
      if (type === PacketType.Connect && body.length >= 7) {
        // CONNECT: protocol name (2-byte length + text), then the level.
        this.#level = body[2 + body.readUInt16BE(0)] ?? 4;
      }
      this.onPacket({ type, flags: b0 & 0x0f, body, level: this.#level });
    }
  }
}

function readVarint(b: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let multiplier = 1;
  let i = at;
  for (;;) {
    const byte = b[i++] ?? 0;
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0 || i - at >= 4) return { value, next: i };
  }
}

/** The client id of a CONNECT packet. */
export function connectClientId(packet: MqttPacket): string {
  const body = packet.body;
  // Protocol name, level, flags, keep-alive (10 bytes in 3.1.1); MQTT 5 adds properties.
  let at = 2 + body.readUInt16BE(0) + 4;
  if (packet.level === 5) {
    const props = readVarint(body, at);
    at = props.next + props.value;
  }
  const idLength = body.readUInt16BE(at);
  return body.subarray(at + 2, at + 2 + idLength).toString('utf8');
}

/** The topic and payload of a PUBLISH packet. */
export function publishContent(packet: MqttPacket): { topic: string; payload: string; qos: number } {
  const body = packet.body;
  const topicLength = body.readUInt16BE(0);
  const topic = body.subarray(2, 2 + topicLength).toString('utf8');
  const qos = (packet.flags >> 1) & 3;
  let at = 2 + topicLength + (qos > 0 ? 2 : 0);
  if (packet.level === 5) {
    const props = readVarint(body, at);
    at = props.next + props.value;
  }
  return { topic, payload: body.subarray(at).toString('utf8'), qos };
}
