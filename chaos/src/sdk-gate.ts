/**
 * The gate in front of the broker for the SDK's MQTT links: the testkit's fault proxy (the run cuts
 * it, black-holes it, refuses new connections while the broker is down) with an MQTT tap that
 * records every PUBLISH the SDK sent, with the connection it went out on. That is the checker's
 * evidence for "never published after a broker reconnect for a write made before it": a write that
 * reached the server before a connection existed must never be published over it. It also notes
 * when the broker first answered a SUBSCRIBE on each connection (the cross-process check's evidence
 * that the connection was subscribed to the action topics, `checker/cross-process.ts`).
 *
 * Only what the gate forwarded is recorded (a black-holed PUBLISH never reached the broker).
 * @module
 */
import {
  type FaultProxy,
  PacketType,
  type ProxyLink,
  connectClientId,
  mqttPacketTap,
  publishContent,
  startFaultProxy,
} from '@live-device-form/testkit';
import type { SdkLinkRecords } from './records.js';

type GateConnection = SdkLinkRecords['connections'][number];

/** SUBACK's control packet type (MQTT 3.1.1 and 5, §2.1.2). */
const SUBACK = 9;
type GatePublish = SdkLinkRecords['publishes'][number];

/** A running gate: the proxy to drive, and what it recorded. */
export interface SdkGate {
  readonly proxy: FaultProxy;
  /** The SDK's connections and publishes so far (close times filled in when read). */
  records(): SdkLinkRecords;
}

/** Starts a gate in front of `target` on a free loopback port. */
export async function startSdkGate(target: { host: string; port: number }): Promise<SdkGate> {
  const connections = new Map<ProxyLink, GateConnection>();
  const publishes: GatePublish[] = [];
  const proxy = await startFaultProxy({
    target,
    tap: (link) => {
      const record: GateConnection = { id: link.index + 1, openedAt: link.openedAt };
      connections.set(link, record);
      return mqttPacketTap((direction, packet) => {
        if (direction === 's2c') {
          if (packet.type === SUBACK) record.subscribedAt ??= performance.now();
          return;
        }
        if (packet.type === PacketType.Connect) record.clientId = connectClientId(packet);
        else if (packet.type === PacketType.Publish) {
          const { topic, payload } = publishContent(packet);
          publishes.push({ t: performance.now(), conn: record.id, topic, payload });
        }
      });
    },
  });
  return {
    proxy,
    records() {
      for (const [link, record] of connections) if (link.closedAt !== undefined) record.closedAt = link.closedAt;
      return { connections: [...connections.values()], publishes };
    },
  };
}
