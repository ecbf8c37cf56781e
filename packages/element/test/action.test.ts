/**
 * `action` fields and `help` text in Chromium, against a real server (docs/element.md, "Fields";
 * docs/protocol.md rule 12): a button that sends `set` with `value: null`, inert while the form is
 * read-only, its outcome reported like any write, and never re-sent after a reconnect.
 */
import { expect, waitUntil } from '@open-wc/testing';
import type { FieldSchema } from '@live-device-form/protocol';
import type { WriteDetail } from '../src/events.js';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { audit } from './audit.js';
import { type Env, cmd, control, deviceWrites, inState, makeEnv, mount, next, sentSets, typeInto } from './helpers.js';

const SCHEMA: FieldSchema[] = [
  {
    name: 'gain',
    label: 'Gain',
    type: 'number',
    min: -12,
    max: 12,
    step: 0.5,
    unit: 'dB',
    help: 'Applied to both channels.',
    writable: true,
  },
  { name: 'reboot', label: 'Reboot', type: 'action', help: 'Restarts the device (about 10 s).', writable: true },
];

const button = (el: LiveDeviceForm): HTMLButtonElement => control<HTMLButtonElement>(el, '[part~=action]');
const noteOf = (el: LiveDeviceForm): HTMLElement => control<HTMLElement>(el, '#ldf-reboot-note');

/** The `ldf-write` events the element dispatches from now on. */
function writes(el: LiveDeviceForm): WriteDetail[] {
  const seen: WriteDetail[] = [];
  el.addEventListener('ldf-write', (e) => seen.push(e.detail));
  return seen;
}

async function live(): Promise<[LiveDeviceForm, Env]> {
  const env = await makeEnv({ schema: SCHEMA, values: { gain: 0 } });
  const el = mount(env);
  await inState(el, 'live');
  return [el, env];
}

describe('action fields (real server)', () => {
  it('renders a button with the label as its text in the field wrapper, with its note and no <label>', async () => {
    const [el] = await live();
    const b = button(el);
    expect(b.localName).to.equal('button');
    expect(b.type).to.equal('button');
    expect(b.textContent!.trim()).to.equal('Reboot');
    const field = b.closest('[part~=field]')!;
    expect(field.querySelector('label')).to.equal(null);
    expect(field.querySelector('[part~=note]')!.id).to.equal('ldf-reboot-note');
    expect(b.getAttribute('aria-disabled')).to.equal('false');
    expect(getComputedStyle(b).opacity).to.equal('1');
  });

  it('a click sends set with value null and rev 0; accepted, the note says so; nothing updates', async () => {
    const [el, env] = await live();
    const seen = writes(el);
    const ack = next(el, 'ldf-ack');
    button(el).click();
    expect(await ack).to.include({ field: 'reboot', status: 'accepted' });
    expect(seen).to.have.length(1);
    expect(seen[0]).to.include({ field: 'reboot', value: null, rev: 0 });
    const sets = await sentSets(env);
    expect(sets.map((s) => [s.field, s.value, s.rev])).to.deep.equal([['reboot', null, 0]]);
    expect(await deviceWrites(env)).to.deep.include.members([
      { field: 'reboot', value: null, payload: { reboot: null }, published: true },
    ]);
    await el.updateComplete;
    expect(noteOf(el).matches('[part~=note-sent]')).to.equal(true);
    expect(noteOf(el).textContent!.trim()).to.equal('Sent.');
  });

  it('is aria-disabled while the device is offline: a click sends nothing; live again, it presses', async () => {
    const [el, env] = await live();
    const b = button(el);
    b.focus();
    await cmd(env, 'online', { online: false });
    await inState(el, 'offline');
    expect(b.getAttribute('aria-disabled')).to.equal('true');
    expect(getComputedStyle(b).opacity).to.equal('0.6');
    // aria-disabled, not disabled: focus stays where the user left it.
    expect(el.shadowRoot!.activeElement).to.equal(b);
    const seen = writes(el);
    b.click();
    await el.updateComplete;
    expect(seen).to.deep.equal([]);
    await cmd(env, 'online', { online: true });
    await inState(el, 'live');
    expect(b.getAttribute('aria-disabled')).to.equal('false');
    const ack = next(el, 'ldf-ack');
    b.click();
    await ack;
    expect((await sentSets(env)).map((s) => s.field)).to.deep.equal(['reboot']);
  });

  it('a refused press is reported as ldf-rejected with a note; a double click while in flight sends once', async () => {
    const [el, env] = await live();
    await cmd(env, 'behaviour', { behaviour: 'offline' });
    const rejected = next(el, 'ldf-rejected');
    button(el).click();
    button(el).click();
    expect(await rejected).to.include({ field: 'reboot', reason: 'offline' });
    await el.updateComplete;
    expect(noteOf(el).matches('[part~=note-rejected]')).to.equal(true);
    expect(noteOf(el).textContent!.trim()).to.equal('Not applied: the device is offline.');
    expect((await sentSets(env)).map((s) => s.field)).to.deep.equal(['reboot']);
  });

  it('a press whose socket dies is unconfirmed and never re-sent after the reconnect', async () => {
    const [el, env] = await live();
    await cmd(env, 'behaviour', { behaviour: 'hang' });
    const unconfirmed = next(el, 'ldf-unconfirmed');
    button(el).click();
    await cmd(env, 'wait', { frames: { count: 1, match: { type: 'set' } } });
    await cmd(env, 'net', { action: 'cut' });
    expect(await unconfirmed).to.include({ field: 'reboot', cause: 'disconnected' });
    await inState(el, 'live');
    await cmd(env, 'release');
    // A write on the new socket: a press re-sent at the reconnect would have gone out before it.
    typeInto(control(el, '#ldf-gain'), '2');
    await cmd(env, 'wait', { frames: { count: 2, match: { type: 'set' } } });
    expect((await sentSets(env)).map((s) => s.field)).to.deep.equal(['reboot', 'gain']);
    expect((await deviceWrites(env)).filter((w) => w.field === 'reboot')).to.have.length(1);
    await el.updateComplete;
    expect(noteOf(el).matches('[part~=note-unconfirmed]')).to.equal(true);
  });
});

describe('help text', () => {
  it('renders <small part="help"> under the field, the control described by it and by its note', async () => {
    const [el] = await live();
    for (const [field, text, selector] of [
      ['gain', 'Applied to both channels.', '#ldf-gain'],
      ['reboot', 'Restarts the device (about 10 s).', '[part~=action]'],
    ] as const) {
      const help = control<HTMLElement>(el, `#ldf-${field}-help`);
      expect(help.localName).to.equal('small');
      expect(help.getAttribute('part')).to.equal('help');
      expect(help.textContent!.trim()).to.equal(text);
      expect(help.closest('[part~=field]')).to.equal(control(el, selector).closest('[part~=field]'));
      expect(control(el, selector).getAttribute('aria-describedby')).to.equal(`ldf-${field}-help ldf-${field}-note`);
    }
    // The slider of gain is described the same way.
    expect(control(el, '#ldf-gain-slider').getAttribute('aria-describedby')).to.equal('ldf-gain-help ldf-gain-note');
  });

  it('a field without help has no help element, and is described by its note only', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    await waitUntil(() => el.shadowRoot!.querySelector('#ldf-gain'));
    expect(el.shadowRoot!.querySelector('[part~=help]')).to.equal(null);
    expect(control(el, '#ldf-gain').getAttribute('aria-describedby')).to.equal('ldf-gain-note');
  });
});

describe('accessibility of actions and help text', () => {
  it('axe-core finds no serious or critical violation, light and dark, live and offline', async () => {
    const [el, env] = await live();
    expect(await audit(el)).to.deep.equal({ light: [], dark: [] });
    await cmd(env, 'online', { online: false });
    await inState(el, 'offline');
    expect(await audit(el)).to.deep.equal({ light: [], dark: [] });
  });
});
