/**
 * The read-only hold: from link loss until resync, through the server's guard, while the device is
 * offline. Nothing queued, nothing re-sent, unanswered writes reported.
 */
import { expect } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { cmd, control, deviceWrites, inState, makeEnv, mount, next, sent, sentSets, typeInto } from './helpers.js';

/** Every rendered control's lock, as a user agent sees it. */
function locks(el: LiveDeviceForm) {
  const box = control(el, 'input[type=number][name=genlock_phase_h]');
  const text = control(el, 'input[type=text]');
  return {
    box: box.readOnly,
    text: text.readOnly,
    aria: [...el.shadowRoot!.querySelectorAll('input[name], select[name]')].map((c) => c.getAttribute('aria-readonly')),
  };
}

const LOCKED = {
  box: true,
  text: true,
  aria: ['true', 'true', 'true', 'true', 'true', 'true', 'true', 'true', 'true'],
};
const OPEN = {
  box: false,
  text: false,
  aria: ['false', 'false', 'false', 'false', 'false', 'false', 'false', 'false', 'false'],
};

async function center(c: HTMLElement): Promise<[number, number]> {
  const r = c.getBoundingClientRect();
  return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];
}

describe('read-only hold (real server, loopback proxy)', () => {
  it('holds inputs read-only from link loss, through the guard, and opens them with the server’s fresh value at resync', async () => {
    const env = await makeEnv({ guardMs: 400 });
    const el = mount(env);
    await inState(el, 'live');
    expect(locks(el)).to.deep.equal(OPEN);
    const box = control(el, 'input[type=number][name=genlock_phase_h]');
    expect(box.value).to.equal('-25');

    await cmd(env, 'net', { action: 'refuse' });
    await inState(el, 'reconnecting');
    expect(locks(el)).to.deep.equal(LOCKED);
    expect(el.getAttribute('state')).to.equal('reconnecting');

    await cmd(env, 'status', { values: { genlock_phase_h: 100 } });
    await cmd(env, 'net', { action: 'pass' });
    await inState(el, 'resyncing');
    // Inside the server's 400 ms guard: still read-only, still the old value (never sent back).
    expect(locks(el)).to.deep.equal(LOCKED);
    expect(box.value).to.equal('-25');
    await inState(el, 'live');
    expect(locks(el)).to.deep.equal(OPEN);
    expect(box.value).to.equal('100');
    expect(await sentSets(env)).to.deep.equal([]);
  });

  it('holds inputs read-only while the device is offline', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    await cmd(env, 'online', { online: false });
    await inState(el, 'offline');
    expect(locks(el)).to.deep.equal(LOCKED);
    expect(el.shadowRoot!.querySelector('[role=status]')!.textContent).to.equal('Device offline');
    await cmd(env, 'status', { values: { name: 'Back' } });
    await cmd(env, 'online', { online: true });
    await inState(el, 'live');
    expect(locks(el)).to.deep.equal(OPEN);
    expect(control(el, 'input[type=text]').value).to.equal('Back');
  });

  it('sends nothing while disconnected, whatever the user does, and nothing afterwards', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    await cmd(env, 'net', { action: 'refuse' });
    await inState(el, 'reconnecting');

    // Real keyboard and mouse: the box does not take keys, the switch does not flip, focus stays.
    const box = control(el, 'input[type=number][name=genlock_phase_h]');
    box.focus();
    await sendKeys({ type: '999' });
    await sendKeys({ press: 'Enter' });
    expect(box.value).to.equal('-25');
    expect(el.shadowRoot!.activeElement).to.equal(box);
    const sw = control(el, '[part~=switch]');
    await sendMouse({ type: 'click', position: await center(sw) });
    expect(sw.checked).to.equal(true);
    const slider = control(el, 'input[type=range][name=genlock_phase_v]');
    slider.focus();
    await sendKeys({ press: 'ArrowRight' });
    expect(slider.value).to.equal('10');
    // And a script forcing values and events through anyway.
    typeInto(control(el, 'input[type=text]'), 'Forced');
    typeInto(slider, '300');
    await el.updateComplete;
    expect(slider.value).to.equal('10');

    await cmd(env, 'net', { action: 'pass' });
    window.dispatchEvent(new Event('online'));
    await inState(el, 'live');
    box.blur();
    await el.updateComplete;
    expect(await sentSets(env)).to.deep.equal([]);
    expect(await deviceWrites(env)).to.deep.equal([]);
  });

  it('sends no old value after the reconnect, even if the user had typed before and during the outage', async () => {
    const env = await makeEnv({ guardMs: 200 });
    const el = mount(env);
    await inState(el, 'live');
    const text = control(el, 'input[type=text]');
    text.focus();
    await sendKeys({ press: 'End' });
    await sendKeys({ type: ' edited' }); // typed, not committed
    expect(text.value).to.equal('Studio A edited');

    await cmd(env, 'net', { action: 'refuse' });
    await inState(el, 'reconnecting');
    // A script forces a value into another box during the outage.
    typeInto(control(el, 'input[type=number][name=genlock_phase_h]'), '123', false);
    await cmd(env, 'status', { values: { name: 'Changed on the device', genlock_phase_h: -1 } });
    await cmd(env, 'net', { action: 'pass' });
    window.dispatchEvent(new Event('online'));
    await inState(el, 'live');

    expect(text.value).to.equal('Changed on the device');
    expect(control(el, 'input[type=number][name=genlock_phase_h]').value).to.equal('-1');
    expect(el.shadowRoot!.activeElement).to.equal(text); // focus kept across the resync
    await sendKeys({ press: 'Enter' }); // Enter on an untouched box commits nothing
    text.blur();
    await el.updateComplete;
    expect(await sentSets(env)).to.deep.equal([]);
    expect(await deviceWrites(env)).to.deep.equal([]);
  });

  it('reports a set unanswered when the link died as not confirmed, and never re-sends it', async () => {
    const env = await makeEnv();
    await cmd(env, 'behaviour', { behaviour: 'hang' }); // published, the broker never acknowledges
    const el = mount(env);
    await inState(el, 'live');
    const box = control(el, 'input[type=number][name=genlock_phase_h]');
    const wrote = next(el, 'ldf-write');
    typeInto(box, '12');
    const w = await wrote;
    expect(w).to.include({ field: 'genlock_phase_h', value: 12, rev: w.rev });
    await el.updateComplete;
    expect(box.getAttribute('aria-busy')).to.equal('true');

    const unconfirmed = next(el, 'ldf-unconfirmed');
    await cmd(env, 'net', { action: 'cut' });
    expect(await unconfirmed).to.deep.equal({
      id: w.id,
      field: 'genlock_phase_h',
      value: 12,
      rev: w.rev,
      epoch: w.epoch,
      cause: 'disconnected',
    });
    await inState(el, 'live');
    const note = el.shadowRoot!.querySelector('#ldf-genlock_phase_h-note')!;
    expect(note.textContent).to.match(/^Not confirmed: the connection dropped before the device answered/);
    // The device did get it (echoed to 12), and the resync shows the device's real value.
    expect(box.value).to.equal('12');
    expect((await sentSets(env)).map((s) => s.value)).to.deep.equal([12]);
  });

  it('reports an ack "unknown" as not confirmed', async () => {
    const env = await makeEnv({ echo: false });
    await cmd(env, 'behaviour', { behaviour: 'unknown' });
    const el = mount(env);
    await inState(el, 'live');
    const unconfirmed = next(el, 'ldf-unconfirmed');
    typeInto(control(el, 'input[type=text]'), 'Maybe');
    expect(await unconfirmed).to.include({ field: 'name', value: 'Maybe', cause: 'unknown' });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('#ldf-name-note')!.textContent).to.match(
      /^Not confirmed: the link to the device dropped/,
    );
    expect((await sent(env)).filter((s) => s.frame?.type === 'set')).to.have.length(1);
  });
});
