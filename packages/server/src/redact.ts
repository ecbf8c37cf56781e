/**
 * Credentials out of URLs before they are logged or shown in an error message.
 * @module
 */

/** What a redacted secret is replaced with. */
const REDACTED = '***';

/** `scheme://userinfo@`: the userinfo runs to the last `@` before the path, query or fragment. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\\]*)@/i;

/**
 * `url` with the password in its userinfo replaced by `***` (`mqtt://panel:***@broker:1883`), and
 * the whole userinfo when the user name itself holds an encoded `:` (`mqtt://***@broker`), since
 * MQTT.js decodes it and splits it there into a user name and a password. The rest of the text is
 * left as it is, as is text without userinfo.
 *
 * @example
 * log.info({ broker: redactUrl(url) }, 'connected to the MQTT broker');
 */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    if (mayHideColon(user)) return `${scheme}${REDACTED}@`;
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${user}:${REDACTED}@`;
  });
}

/** Whether the percent-decoded `user` holds a `:` (or a malformed escape, which could hide one). */
function mayHideColon(user: string): boolean {
  try {
    return decodeURIComponent(user).includes(':');
  } catch {
    return true;
  }
}
