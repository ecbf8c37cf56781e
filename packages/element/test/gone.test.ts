/**
 * A device removed from the server (`device gone`, docs/protocol.md *Devices that come and go*) as
 * the page sees it, in real Chromium against the real server SDK: its device is served through a
 * catalog, which the test removes it from and adds it back to (test/harness/plugin.mjs).
 */
import { expect, waitUntil } from '@open-wc/testing';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { cmd, control, inState, makeEnv, mount, sentSets, typeInto } from './helpers.js';

const statusText = (el: LiveDeviceForm) => el.shadowRoot!.querySelector('[role=status]')!.textContent;
/** Every rendered control's lock, as assistive technology reads it. */
const locked = (el: LiveDeviceForm) =>
  [...el.shadowRoot!.querySelectorAll('input[name], select[name]')].map(
    (c) => c.getAttribute('aria-readonly') === 'true',
  );

interface Info {
  open: number;
  connections: number;
}

describe('device gone (real server)', () => {
  it('says "Device not available", holds every input, keeps its socket, and is live again when the device returns', async () => {
    const env = await makeEnv({ catalog: true });
    const el = mount(env);
    await inState(el, 'live');
    expect(locked(el).every((l) => !l)).to.equal(true);

    await cmd(env, 'catalog', { action: 'remove' });
    await inState(el, 'gone');
    expect(statusText(el)).to.equal('Device not available');
    expect(el.getAttribute('state')).to.equal('gone');
    expect(locked(el).length).to.be.greaterThan(0);
    expect(locked(el).every((l) => l)).to.equal(true);
    // Edits go nowhere.
    typeInto(control(el, 'input[type=text]'), 'mine');
    await el.updateComplete;

    await cmd(env, 'catalog', { action: 'add' });
    await inState(el, 'live');
    expect(statusText(el)).to.equal('Live');
    expect(locked(el).every((l) => !l)).to.equal(true);
    expect(await sentSets(env)).to.deep.equal([]);
    // The same socket all along.
    expect(await cmd<Info>(env, 'info')).to.include({ open: 1, connections: 1 });
  });

  it('a page that connects while its device is gone shows "Device not available" (no fields), then the form when it returns', async () => {
    const env = await makeEnv({ catalog: true });
    await cmd(env, 'catalog', { action: 'remove' });
    const el = mount(env);
    await inState(el, 'gone');
    expect(statusText(el)).to.equal('Device not available');
    expect(locked(el)).to.deep.equal([]);
    await cmd(env, 'catalog', { action: 'add' });
    await inState(el, 'live');
    expect(control(el, 'input[type=text]').value).to.equal('Studio A');
    expect(await cmd<Info>(env, 'info')).to.include({ open: 1, connections: 1 });
  });

  it('in German: "Gerät nicht verfügbar"', async () => {
    const env = await makeEnv({ catalog: true });
    const el = mount(env);
    el.lang = 'de';
    await inState(el, 'live');
    await cmd(env, 'catalog', { action: 'remove' });
    await inState(el, 'gone');
    // The German module loads on demand: wait for its words.
    await waitUntil(() => statusText(el) === 'Gerät nicht verfügbar', 'German never arrived');
  });
});
