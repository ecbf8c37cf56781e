/**
 * What a render touches (real server): a device change re-renders its own field and leaves the
 * others' DOM and attributes alone (their controls too, until a render for anything else), and the
 * fields still follow every change of their list — a schema in another order, the page's own
 * controls coming and going.
 */
import { expect, waitUntil } from '@open-wc/testing';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { type FakeSocket, socketFactory } from './fakes.js';
import { FAST, cmd, control, inState, makeEnv, mount, next } from './helpers.js';

/** Counts the numbers formatted for display (`Intl.NumberFormat#format`) while `fn` runs. */
async function formatsDuring(fn: () => Promise<void>): Promise<number> {
  const proto = Intl.NumberFormat.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, 'format')!;
  let count = 0;
  Object.defineProperty(proto, 'format', {
    ...own,
    get(this: Intl.NumberFormat) {
      const format = own.get!.call(this) as (n: number) => string;
      return (n: number) => {
        count++;
        return format(n);
      };
    },
  });
  try {
    await fn();
  } finally {
    Object.defineProperty(proto, 'format', own);
  }
  return count;
}

/** Every rendered control with its name, value and lock. */
function controls(el: LiveDeviceForm): string[] {
  return [
    ...el.shadowRoot!.querySelectorAll<HTMLInputElement>('[part=fields] input[name], [part=fields] select[name]'),
  ].map(
    (c) =>
      `${c.name}=${c.type === 'checkbox' ? c.checked : c.value}${c.getAttribute('aria-readonly') === 'true' ? ' (locked)' : ''}`,
  );
}

describe('rendering (real server)', () => {
  it('a device change re-renders its own field only: no other field is formatted, no other attribute rewritten', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    const root = el.shadowRoot!;
    const before = [...root.querySelectorAll('[part=field]')];
    const records: MutationRecord[] = [];
    const observer = new MutationObserver((r) => records.push(...r));
    observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
    // A text field: nothing of it is a number, so no number anywhere should be formatted.
    const formatted = await formatsDuring(async () => {
      const updated = next(el, 'ldf-update', (d) => d.field === 'name');
      await cmd(env, 'status', { values: { name: 'Studio B' } });
      await updated;
      await el.updateComplete;
    });
    records.push(...observer.takeRecords());
    observer.disconnect();
    expect(control(el, '#ldf-name').value).to.equal('Studio B');
    expect(formatted, 'numbers formatted while only the name changed').to.equal(0);
    // `value` is a property: the text box changes without a mutation record, and nothing else does.
    expect(records.map((r) => `${r.type} ${(r.target as Element).id ?? ''} ${r.attributeName ?? ''}`)).to.deep.equal(
      [],
    );
    expect([...root.querySelectorAll('[part=field]')]).to.deep.equal(before);

    // A number field: its own slider's aria-valuetext and box change, nothing of the other fields.
    records.length = 0;
    observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
    const updated = next(el, 'ldf-update', (d) => d.field === 'gain');
    await cmd(env, 'status', { values: { gain: 3.5 } });
    await updated;
    await el.updateComplete;
    records.push(...observer.takeRecords());
    observer.disconnect();
    const changed = records.map((r) => `${(r.target as Element).id} ${r.attributeName}`);
    expect(changed).to.deep.equal(['ldf-gain-slider aria-valuetext']);
    expect(control(el, '#ldf-gain-slider').getAttribute('aria-valuetext')).to.equal('3.5 dB');
    expect([control(el, '#ldf-gain').value, control(el, '#ldf-gain-slider').value]).to.deep.equal(['3.5', '3.5']);
  });

  it('a device change of a read-only field rewrites its text alone, in the same text node', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    const root = el.shadowRoot!;
    const out = control<HTMLOutputElement>(el, 'output#ldf-temperature');
    const node = out.firstChild;
    expect(out.textContent).to.equal('41.5 °C');
    const records: MutationRecord[] = [];
    const observer = new MutationObserver((r) => records.push(...r));
    observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
    const updated = next(el, 'ldf-update', (d) => d.field === 'temperature');
    await cmd(env, 'status', { values: { temperature: 43.25 } });
    await updated;
    await el.updateComplete;
    expect(out.textContent).to.equal('43.25 °C');
    records.push(...observer.takeRecords());
    observer.disconnect();
    expect(out.firstChild).to.equal(node);
    expect(records.map((r) => `${r.type} ${(r.target.parentNode as Element | null)?.id}`)).to.deep.equal([
      'characterData ldf-temperature',
    ]);
  });

  it('a resync whose schema comes in another order shows the fields in that order, each with its own value', async () => {
    const first = await makeEnv();
    const el = mount(first);
    const resync = next(el, 'ldf-resync');
    await inState(el, 'live');
    const { schema } = await resync;
    const reversed = await makeEnv({
      schema: [...schema].reverse(),
      values: {
        genlock_phase_h: 1,
        genlock_phase_v: 2,
        gain: 3,
        enabled: false,
        standard: 'ntsc',
        name: 'Other',
        temperature: 20,
      },
    });
    const resynced = next(el, 'ldf-resync');
    el.src = reversed.src;
    el.device = reversed.device;
    await resynced;
    await inState(el, 'live');
    const labels = [...el.shadowRoot!.querySelectorAll('label')].map((l) => l.textContent);
    expect(labels).to.deep.equal([
      'Temperature',
      'Name',
      'Video standard',
      'Output enabled',
      'Gain',
      'Phase vertical',
      'Phase horizontal',
    ]);
    expect(control<HTMLOutputElement>(el, '#ldf-temperature').textContent).to.equal('20 °C');
    expect(controls(el)).to.deep.equal([
      'name=Other',
      'standard=ntsc',
      'enabled=false',
      'gain=3',
      'gain=3',
      'genlock_phase_v=2',
      'genlock_phase_v=2',
      'genlock_phase_h=1',
      'genlock_phase_h=1',
    ]);
  });

  it('an update brings only its own field’s controls in line; any other render puts back every control', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    // Changed behind the element's back, without events (as a page script could).
    control(el, '#ldf-gain').value = '9';
    control(el, '#ldf-enabled').checked = false;
    const named = next(el, 'ldf-update', (d) => d.field === 'name');
    await cmd(env, 'status', { values: { name: 'Studio B' } });
    await named;
    await el.updateComplete;
    expect(controls(el)).to.include.members(['name=Studio B', 'gain=9', 'enabled=false']);
    const gained = next(el, 'ldf-update', (d) => d.field === 'gain');
    await cmd(env, 'status', { values: { gain: 3.5 } });
    await gained;
    await el.updateComplete;
    expect(controls(el).filter((c) => /^(gain|enabled)=/.test(c))).to.deep.equal([
      'gain=3.5',
      'gain=3.5',
      'enabled=false',
    ]);
    // A render for anything else (here a property) puts back what changed behind its back.
    el.throttle = 60;
    await el.updateComplete;
    expect(controls(el)).to.include.members(['enabled=true']);
  });

  it('bound: an update leaves the page’s other controls alone until a render for anything else', async () => {
    const env = await makeEnv();
    const el = mount(env, { children: '<input name="gain" type="number"><input name="name">' });
    await inState(el, 'live');
    const [gain, name] = [...el.querySelectorAll('input')] as [HTMLInputElement, HTMLInputElement];
    await waitUntil(() => gain.value === '0' && name.value === 'Studio A', 'the page’s controls show the values');
    gain.value = '7';
    const named = next(el, 'ldf-update', (d) => d.field === 'name');
    await cmd(env, 'status', { values: { name: 'Studio B' } });
    await named;
    await el.updateComplete;
    expect([gain.value, name.value]).to.deep.equal(['7', 'Studio B']);
    const offline = next(el, 'ldf-state', (d) => d.state === 'offline');
    await cmd(env, 'online', { online: false });
    await offline;
    await el.updateComplete;
    expect([gain.value, gain.readOnly]).to.deep.equal(['0', true]);
  });

  it('renders and drives its fields again when the page’s own controls are taken away', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    expect(controls(el)).to.have.length(9);
    // The page puts its own control in: bound mode, no rendered fields.
    const own = document.createElement('input');
    own.name = 'name';
    el.append(own);
    await waitUntil(() => !el.shadowRoot!.querySelector('[part=fields]'), 'bound mode');
    await waitUntil(() => own.value === 'Studio A', 'the page’s control shows the value');
    // A change while bound: the rendered fields, when they come back, show it.
    const updated = next(el, 'ldf-update', (d) => d.field === 'gain');
    await cmd(env, 'status', { values: { gain: -2 } });
    await updated;
    own.remove();
    await waitUntil(() => el.shadowRoot!.querySelector('[part=fields]'), 'rendered mode again');
    await el.updateComplete;
    expect(controls(el)).to.deep.equal([
      'genlock_phase_h=-25',
      'genlock_phase_h=-25',
      'genlock_phase_v=10',
      'genlock_phase_v=10',
      'gain=-2',
      'gain=-2',
      'enabled=true',
      'standard=pal',
      'name=Studio A',
    ]);
    expect(control(el, '#ldf-temperature').textContent).to.equal('41.5 °C');
    expect(el.querySelectorAll('[data-ldf-note]').length, 'the bound control’s note goes with it').to.equal(0);
    // And they are driven: the link goes, every one of them is locked at once.
    const reconnecting = next(el, 'ldf-state', (d) => d.state === 'reconnecting');
    await cmd(env, 'net', { action: 'cut' });
    await reconnecting;
    expect(controls(el).every((c) => c.endsWith('(locked)'))).to.equal(true);
    expect(control(el, '#ldf-name').readOnly).to.equal(true);
  });
});

describe('rendering (server played by hand)', () => {
  // An update frame arriving in the same task as another render request cannot be arranged with a
  // real server: a fake socket delivers it exactly then.
  async function live(): Promise<{ el: LiveDeviceForm; socket: FakeSocket }> {
    const factory = socketFactory();
    const el = mount(
      { env: 'fake', device: 'dev', src: 'ws://127.0.0.1:9/live' },
      { options: { ...FAST, socket: factory.make } },
    );
    await el.updateComplete;
    const socket = factory.last();
    socket.open();
    socket.receive({
      type: 'resync',
      epoch: 'e1',
      device: 'online',
      schema: [
        { name: 'gain', label: 'Gain', type: 'integer', writable: true },
        { name: 'name', label: 'Name', type: 'text', writable: true },
        { name: 'level', label: 'Level', type: 'integer', writable: true },
      ],
      fields: { gain: { value: 10, rev: 1 }, name: { value: 'cam', rev: 1 }, level: { value: 1, rev: 1 } },
    });
    await inState(el, 'live');
    return { el, socket };
  }

  it('an update is shown by the time its event fires, and one that comes while a render is due waits for it', async () => {
    const { el, socket } = await live();
    const seen: string[] = [];
    const record = (e: Event) => {
      const shown = `${control(el, '#ldf-name').value} ${el.getAttribute('state')}`;
      seen.push(e.type === 'ldf-update' ? `update, shows ${shown}` : `state ${(e as CustomEvent).detail.state}`);
    };
    el.addEventListener('ldf-update', record);
    el.addEventListener('ldf-state', record);
    socket.receive({ type: 'update', field: 'name', value: 'x', rev: 5 });
    await el.updateComplete;
    // The device goes offline and a status follows in the same task: one render, events in order.
    socket.receive({ type: 'device', status: 'offline' });
    socket.receive({ type: 'update', field: 'name', value: 'y', rev: 6 });
    await el.updateComplete;
    expect(seen).to.deep.equal(['update, shows x live', 'state offline', 'update, shows y offline']);
  });

  it('an update together with another render request brings every control in line', async () => {
    const { el, socket } = await live();
    for (const updateFirst of [false, true]) {
      control(el, '#ldf-gain').value = '99';
      const update = () => socket.receive({ type: 'update', field: 'name', value: `n${updateFirst}`, rev: 5 });
      if (updateFirst) update();
      el.requestUpdate();
      if (!updateFirst) update();
      await el.updateComplete;
      expect([control(el, '#ldf-gain').value, control(el, '#ldf-name').value]).to.deep.equal(['10', `n${updateFirst}`]);
    }
    // Two updates before one render: both fields' controls, and only theirs.
    control(el, '#ldf-level').value = '99';
    control(el, '#ldf-gain').value = '98';
    socket.receive({ type: 'update', field: 'name', value: 'a', rev: 6 });
    socket.receive({ type: 'update', field: 'gain', value: 12, rev: 7 });
    await el.updateComplete;
    expect(['level', 'gain', 'name'].map((f) => control(el, `#ldf-${f}`).value)).to.deep.equal(['99', '12', 'a']);
  });
});

describe('rendering: what a state change restyles', () => {
  /** Every selector of the element's shadow styles that depends on the host's `state` attribute. */
  function stateSelectors(el: LiveDeviceForm): string[] {
    const sheets = el.shadowRoot!.adoptedStyleSheets;
    const rules = (list: CSSRuleList): CSSRule[] =>
      [...list].flatMap((r) => ('cssRules' in r ? [r, ...rules((r as CSSGroupingRule).cssRules)] : [r]));
    return sheets
      .flatMap((s) => rules(s.cssRules))
      .filter((r): r is CSSStyleRule => r instanceof CSSStyleRule)
      .flatMap((r) => r.selectorText.split(','))
      .map((s) => s.trim())
      .filter((s) => s.includes(':host([state'));
  }

  it('styles a state on the status line’s own classes: a state change restyles the status line, not the whole form', async () => {
    const el = mount(
      { env: 'fake', device: 'dev', src: 'ws://127.0.0.1:9/live' },
      { options: { ...FAST, socket: socketFactory().make } },
    );
    await el.updateComplete;
    const selectors = stateSelectors(el);
    expect(selectors.length, 'the state is styled at all').to.be.greaterThan(3);
    // A rule on the host itself (say, a custom property it sets for its descendants to inherit) or
    // one whose last compound is `[part~=…]` (which nearly every element has) makes a change of the
    // attribute restyle every element of the form: on each reconnect, three times.
    for (const s of selectors) expect(s, s).to.match(/\)\s+\.[\w-]+$/);
  });
});
