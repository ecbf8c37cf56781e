/**
 * The `--mqtt URL` check: a broker URL of a scheme MQTT.js speaks, without a password in it.
 * @module
 */
import { redactUrl } from '../redact.js';

const USE_INSTEAD = 'use --mqtt-username with --mqtt-password-file or --mqtt-password-env';

/**
 * Why `text` is not an acceptable `--mqtt` value, or `undefined` when it is. Refused: text that is
 * not a URL; a scheme other than `mqtt:`, `mqtts:`, `ws:`, `wss:`; any password in the userinfo;
 * and a user name that holds an encoded `:` (`mqtt://user%3Apass@host`), which MQTT.js decodes
 * and splits into a user name and a password. Messages show the URL with its credentials redacted.
 */
export function mqttUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `--mqtt: not a URL: ${redactUrl(text)}`;
  }
  if (!/^(mqtts?|wss?):$/.test(url.protocol)) {
    return `--mqtt: expected an mqtt://, mqtts://, ws:// or wss:// URL, got ${redactUrl(text)}`;
  }
  if (url.password !== '' || decodedHasColon(url.username)) {
    return `--mqtt: the URL holds a password; ${USE_INSTEAD}`;
  }
  return undefined;
}

function decodedHasColon(username: string): boolean {
  try {
    return decodeURIComponent(username).includes(':');
  } catch {
    // A malformed escape: MQTT.js's decoding of it is not ours to guess; refuse it.
    return true;
  }
}
