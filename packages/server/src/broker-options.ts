/**
 * What the MQTT bridge and the discovery's own client take from `MqttBridgeOptions` to reach the
 * broker: the URL check and the login and TLS options, as mqtt.js takes them.
 * @module
 */
import type { IClientOptions } from 'mqtt';
import type { MqttBridgeOptions } from './mqtt-bridge.js';
import { invalidOption } from './option-checks.js';
import { redactUrl } from './redact.js';

/** The login and TLS options of `MqttBridgeOptions` (docs/devices.md). */
export type BrokerLogin = Pick<
  MqttBridgeOptions,
  'username' | 'password' | 'ca' | 'cert' | 'key' | 'rejectUnauthorized'
>;

/** The login and TLS options as mqtt.js takes them; options not given are left out. @internal */
export function loginOptions(o: BrokerLogin): IClientOptions {
  const own: IClientOptions = {};
  if (o.username !== undefined) own.username = o.username;
  if (o.password !== undefined) own.password = o.password;
  if (o.ca !== undefined) own.ca = o.ca as IClientOptions['ca'];
  if (o.cert !== undefined) own.cert = o.cert;
  if (o.key !== undefined) own.key = o.key;
  if (o.rejectUnauthorized !== undefined) own.rejectUnauthorized = o.rejectUnauthorized;
  return own;
}

/**
 * Checks that a broker is given (`url`, or `mqtt.host`/`mqtt.servers`) and that a URL has a scheme
 * mqtt.js speaks. Throws {@link invalidOption} naming what is wrong; `what` names the caller.
 * @internal
 */
export function checkBroker(url: string | undefined, mqtt: IClientOptions, what: string): void {
  if (url === undefined && mqtt.host === undefined && mqtt.servers === undefined) {
    throw invalidOption(`${what} needs a broker: the "url" option (mqtt://, mqtts://, ws://, wss://) or "mqtt.host"`);
  }
  if (url !== undefined && !/^(mqtts?|wss?|tcp|ssl|tls):\/\//.test(url)) {
    throw invalidOption(`The "url" option must start with mqtt://, mqtts://, ws:// or wss://, got "${redactUrl(url)}"`);
  }
}
