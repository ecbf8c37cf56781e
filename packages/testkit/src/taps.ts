/**
 * Taps for the fault proxy that decode what crossed it: WebSocket messages (with the project's
 * own independent RFC 6455 reader, never the `ws` library the server parses with) and MQTT packets.
 * @module
 */
import type { LinkTap } from './fault-proxy.js';
import { type MqttPacket, MqttStreamReader } from './mqtt-packets.js';
import { type HttpHead, type WsMessage, WsStreamReader } from './ws-frames.js';

/** Which way a message went: client to server, or server to client. */
export type Direction = 'c2s' | 's2c';

/** Handlers of {@link wsFrameTap}. */
export interface WsFrameTapHandlers {
  /** Every message, in order per direction, as the server's side of the proxy saw it. */
  onMessage(direction: Direction, message: WsMessage): void;
  /** The server's HTTP response head (`HTTP/1.1 101 …`, or a refusal such as 403). */
  onResponseHead?(head: HttpHead): void;
}

/** Decodes the WebSocket messages of one link, both ways. */
export function wsFrameTap(handlers: WsFrameTapHandlers): LinkTap {
  const toServer = new WsStreamReader({ onMessage: (m) => handlers.onMessage('c2s', m) });
  const fromServer = new WsStreamReader({
    ...(handlers.onResponseHead ? { onHead: handlers.onResponseHead } : {}),
    onMessage: (m) => handlers.onMessage('s2c', m),
  });
  return {
    toServer: (bytes) => toServer.feed(bytes),
    fromServer: (bytes) => fromServer.feed(bytes),
  };
}

/** Decodes the MQTT packets of one link, both ways. */
export function mqttPacketTap(onPacket: (direction: Direction, packet: MqttPacket) => void): LinkTap {
  const toServer = new MqttStreamReader((p) => onPacket('c2s', p));
  const fromServer = new MqttStreamReader((p) => onPacket('s2c', p));
  return {
    toServer: (bytes) => toServer.feed(bytes),
    fromServer: (bytes) => fromServer.feed(bytes),
  };
}
