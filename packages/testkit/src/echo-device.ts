/**
 * A simulated video processor on a real broker, for tests: a plain mqtt.js client that answers
 * action messages by publishing the new (retained) status, as the hardware would.
 * @module
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { VP } from './devices.js';

/** A running simulated device. */
export interface EchoDevice {
  readonly client: MqttClient;
  /** Action payloads received, in order. */
  readonly received: { topic: string; payload: string }[];
  close(): Promise<void>;
}

const ECHOES: Record<string, { status: string; read: RegExp }> = {
  [VP.genlockSet]: { status: VP.genlockStatus, read: /^genlock (-?\d+) (-?\d+)$/ },
  [VP.freezeSet]: { status: VP.freezeStatus, read: /^freeze ([01])$/ },
  [VP.delaySet]: { status: VP.delayStatus, read: /^delay (\d+)$/ },
  [VP.brightnessSet]: { status: VP.brightnessStatus, read: /^brightness ([\d.]+)$/ },
  [VP.formatSet]: { status: VP.formatStatus, read: /^format (\d)$/ },
};

/** Connects, subscribes to the action topics and echoes each valid action as retained status. */
export async function startEchoDevice(url: string): Promise<EchoDevice> {
  const client = await connectAsync(url, { reconnectPeriod: 0, clean: true });
  const received: EchoDevice['received'] = [];
  client.on('message', (topic, payload) => {
    const text = payload.toString();
    received.push({ topic, payload: text });
    const echo = ECHOES[topic];
    const m = echo?.read.exec(text);
    if (echo && m) void client.publishAsync(echo.status, m.slice(1).join(' '), { qos: 1, retain: true });
  });
  await client.subscribeAsync(Object.keys(ECHOES), { qos: 1 });
  return {
    client,
    received,
    async close() {
      await client.endAsync(true);
    },
  };
}
