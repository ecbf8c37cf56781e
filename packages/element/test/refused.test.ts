/**
 * The refused-handshake hint (docs/element.md, "When the server refuses"): a real server SDK that
 * refuses the page's `Origin` with HTTP 403, and a loopback port nothing listens on. The browser
 * does not say why a handshake failed, so the element keeps retrying and, after
 * `REFUSED_AFTER_FAILURES` failures in a row, shows one generic hint until a socket opens.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { REFUSED_AFTER_FAILURES } from '../src/connection.js';
import type { StateDetail } from '../src/events.js';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { cmd, inState, makeEnv, mount, next } from './helpers.js';

const HINT = 'The server refuses the connection — check its allowed origins and hosts.';
const hintOf = (el: LiveDeviceForm): Element => el.shadowRoot!.querySelector('[part~=hint]')!;
const connections = async (env: { env: string }): Promise<number> =>
  (await cmd<{ connections: number }>(env as never, 'info')).connections;

function collect(el: LiveDeviceForm): StateDetail[] {
  const seen: StateDetail[] = [];
  el.addEventListener('ldf-state', (e) => seen.push(e.detail));
  return seen;
}

describe('refused handshakes (real server)', () => {
  it('a server that refuses the page’s Origin: retries with backoff, never fails, shows the hint once and keeps it still', async () => {
    const env = await makeEnv({ origin: 'http://elsewhere.example' });
    const el = mount(env);
    const states = collect(el);
    const refused = await next(el, 'ldf-state', (d) => d.refused);
    expect(refused.state).to.equal('reconnecting');
    // Each failed attempt is reported as reconnecting; only the last of REFUSED_AFTER_FAILURES says refused.
    expect(states.filter((s) => s.state === 'reconnecting').map((s) => s.refused)).to.deep.equal([
      ...Array<boolean>(REFUSED_AFTER_FAILURES - 1).fill(false),
      true,
    ]);
    expect(await connections(env)).to.be.at.least(REFUSED_AFTER_FAILURES);
    await el.updateComplete;
    const hint = hintOf(el);
    expect(hint.textContent!.trim()).to.equal(HINT);
    expect(hint.getAttribute('role')).to.equal('status');

    // Announced once: the live region is not touched again while the attempts go on.
    let touched = 0;
    const watch = new MutationObserver((records) => (touched += records.length));
    watch.observe(hint, { subtree: true, childList: true, characterData: true });
    const before = await connections(env);
    await waitUntil(async () => (await connections(env)) >= before + 3, 'no more attempts', { timeout: 8000 });
    await el.updateComplete;
    watch.disconnect();
    expect(touched).to.equal(0);
    expect(hint.textContent!.trim()).to.equal(HINT);
    expect(states.some((s) => s.state === 'failed')).to.equal(false);
    expect(el.error).to.equal(null);
  });

  it('clears the hint at the next open once the server accepts the origin', async () => {
    const env = await makeEnv({ origin: 'http://elsewhere.example' });
    const el = mount(env);
    await next(el, 'ldf-state', (d) => d.refused);
    await el.updateComplete;
    expect(hintOf(el).textContent!.trim()).to.equal(HINT);
    const cleared = next(el, 'ldf-state', (d) => !d.refused);
    await cmd(env, 'allow', { origin: location.origin });
    expect(await cleared).to.include({ refused: false });
    await inState(el, 'live', 8000);
    expect(hintOf(el).textContent!.trim()).to.equal('');
  });

  it('a port nothing listens on shows it too, in the page’s language', async () => {
    const env = await makeEnv();
    const port = await executeServerCommand<number, undefined>('ldf:closed-port');
    const parent = document.createElement('div');
    parent.lang = 'de';
    document.body.append(parent);
    try {
      const el = mount({ ...env, src: `ws://127.0.0.1:${port}/live` }, { parent });
      await next(el, 'ldf-state', (d) => d.refused);
      await waitUntil(
        () =>
          hintOf(el).textContent!.trim() ===
          'Der Server lehnt die Verbindung ab – prüfen Sie seine zugelassenen Origins und Hosts.',
        `hint: "${hintOf(el).textContent}"`,
      );
      expect(el.state).to.be.oneOf(['connecting', 'reconnecting']);
    } finally {
      parent.remove();
    }
  });
});
