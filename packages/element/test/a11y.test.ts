/**
 * Accessibility in Chromium. axe-core (run in the page) finds no serious or critical violation
 * inside the element in any state — live, pending, stale conflict, saving, rejected, not confirmed,
 * out of range, reconnecting, catching up, device offline, failed — in the light and the dark theme
 * (`prefers-color-scheme`, emulated), with fields rendered from the schema and with the page's own
 * controls bound. Bound mode: a note is the description of the page's control in Chromium's
 * accessibility tree, the page's own `aria-describedby` stays, and the conflict buttons come right
 * after their field in Tab order (fields/bound-notes.ts).
 *
 * States are reached as the other suites reach them: a real server with its fault proxy, except
 * "Catching up", which a real server cannot be made to say on cue (its server side is played by
 * hand, as in catching-up.test.ts).
 */
import { expect, waitUntil } from '@open-wc/testing';
import { a11ySnapshot, emulateMedia, sendKeys } from '@web/test-runner-commands';
import type { FieldSchema } from '@live-device-form/protocol';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { audit } from './audit.js';
import { socketFactory } from './fakes.js';
import { type Env, FAST, cmd, inState, makeEnv, mount, next, typeInto } from './helpers.js';

/** The page's own controls for bound mode, each labelled as a page should. */
const PAGE_CONTROLS = `
  <form>
    <label>Phase H <input name="genlock_phase_h" type="range" min="-512" max="511"></label>
    <label>Phase V <input name="genlock_phase_v" type="number"> px</label>
    <label>Gain <input name="gain" type="number" step="0.5"> dB</label>
    <label><input name="enabled" type="checkbox"> Output enabled</label>
    <label>Standard <select name="standard"><option value="ntsc">NTSC</option><option value="pal">PAL</option></select></label>
    <label>Name <input name="name" type="text"></label>
  </form>`;

type Mode = 'rendered' | 'bound';

/** The box a user types a field's value into, in either mode. */
function box(el: LiveDeviceForm, mode: Mode, field: string): HTMLInputElement {
  const c =
    mode === 'bound'
      ? el.querySelector<HTMLInputElement>(`input[name=${field}]`)
      : el.shadowRoot!.querySelector<HTMLInputElement>(`#ldf-${field}`);
  if (!c) throw new Error(`no box for ${field}`);
  return c;
}

/** A field's note, in either mode: below the rendered field, or in the note placed beside the page's control. */
function noteOf(el: LiveDeviceForm, mode: Mode, field: string): HTMLElement {
  const n =
    mode === 'bound'
      ? el.querySelector(`[data-ldf-note=${field}]`)?.shadowRoot?.querySelector<HTMLElement>('[part~=note]')
      : el.shadowRoot!.querySelector<HTMLElement>(`#ldf-${field}-note`);
  if (!n) throw new Error(`no note for ${field}`);
  return n;
}

const words = (n: Element) => n.textContent!.replace(/\s+/g, ' ').trim();
const statusText = (el: LiveDeviceForm) => words(el.shadowRoot!.querySelector('[part~=status-text]')!);

/** Puts an element into one state and says how to recognise it. */
interface Scene {
  state: string;
  reach(mode: Mode): Promise<LiveDeviceForm>;
}

/** An element on a fresh real server, live. */
async function liveOn(mode: Mode, env?: Env): Promise<[LiveDeviceForm, Env]> {
  const e = env ?? (await makeEnv());
  const el = mount(e, mode === 'bound' ? { children: PAGE_CONTROLS } : {});
  await inState(el, 'live');
  return [el, e];
}

/** The user types into Phase V while the device changes it: the change is held back as pending. */
async function holdWhileDeviceChanges(mode: Mode): Promise<[LiveDeviceForm, Env]> {
  const [el, env] = await liveOn(mode);
  const b = box(el, mode, 'genlock_phase_v');
  b.focus();
  b.value = '';
  await sendKeys({ type: '50' });
  const changed = next(el, 'ldf-update', (d) => d.value === 77);
  await cmd(env, 'status', { values: { genlock_phase_v: 77 } });
  await changed;
  await el.updateComplete;
  return [el, env];
}

/** …and commits it with Enter: refused as stale, the user is offered Keep / Apply. */
async function conflict(mode: Mode): Promise<LiveDeviceForm> {
  const [el] = await holdWhileDeviceChanges(mode);
  const rejected = next(el, 'ldf-rejected');
  await sendKeys({ press: 'Enter' });
  await rejected;
  await el.updateComplete;
  return el;
}

const CATCHING_UP_SCHEMA: FieldSchema[] = [
  { name: 'gain', label: 'Gain', type: 'integer', min: 0, max: 100, writable: true },
  { name: 'name', label: 'Name', type: 'text', writable: true },
];

const SCENES: Scene[] = [
  {
    state: 'live',
    async reach(mode) {
      const [el] = await liveOn(mode);
      expect(statusText(el)).to.equal('Live');
      return el;
    },
  },
  {
    state: 'pending (the device changed while the user holds the control)',
    async reach(mode) {
      const [el] = await holdWhileDeviceChanges(mode);
      expect(noteOf(el, mode, 'genlock_phase_v').matches('[part~=note-pending]')).to.equal(true);
      return el;
    },
  },
  {
    state: 'stale conflict (Keep device value / Apply mine)',
    async reach(mode) {
      const el = await conflict(mode);
      const note = noteOf(el, mode, 'genlock_phase_v');
      expect(note.matches('[part~=note-conflict]')).to.equal(true);
      expect(note.querySelectorAll('button')).to.have.length(2);
      // The note's own look in both modes: danger colour, "Apply mine" on the accent colour.
      expect(getComputedStyle(note).color).to.equal('rgb(192, 38, 45)'); // #c0262d
      expect(getComputedStyle(note.querySelector('[part~=apply-button]')!).backgroundColor).to.equal(
        'rgb(37, 99, 235)', // #2563eb
      );
      return el;
    },
  },
  {
    state: 'saving',
    async reach(mode) {
      const env = await makeEnv();
      await cmd(env, 'behaviour', { behaviour: 'hang' });
      const [el] = await liveOn(mode, env);
      typeInto(box(el, mode, 'name'), 'Studio B');
      await el.updateComplete;
      expect(noteOf(el, mode, 'name').matches('[part~=note-saving]')).to.equal(true);
      return el;
    },
  },
  {
    state: 'rejected',
    async reach(mode) {
      const env = await makeEnv();
      await cmd(env, 'behaviour', { behaviour: 'offline' });
      const [el] = await liveOn(mode, env);
      const rejected = next(el, 'ldf-rejected');
      typeInto(box(el, mode, 'name'), 'Nope');
      await rejected;
      await el.updateComplete;
      expect(noteOf(el, mode, 'name').matches('[part~=note-rejected]')).to.equal(true);
      return el;
    },
  },
  {
    state: 'not confirmed',
    async reach(mode) {
      const env = await makeEnv({ echo: false });
      await cmd(env, 'behaviour', { behaviour: 'unknown' });
      const [el] = await liveOn(mode, env);
      const unconfirmed = next(el, 'ldf-unconfirmed');
      typeInto(box(el, mode, 'name'), 'Maybe');
      await unconfirmed;
      await el.updateComplete;
      expect(noteOf(el, mode, 'name').matches('[part~=note-unconfirmed]')).to.equal(true);
      return el;
    },
  },
  {
    state: 'out of range',
    async reach(mode) {
      const [el] = await liveOn(mode);
      typeInto(box(el, mode, 'gain'), '30');
      await el.updateComplete;
      expect(noteOf(el, mode, 'gain').matches('[part~=note-invalid]')).to.equal(true);
      return el;
    },
  },
  {
    state: 'reconnecting (with its countdown)',
    async reach(mode) {
      const env = await makeEnv();
      const options = { ...FAST, backoff: { initialMs: 30_000, maxMs: 30_000, random: () => 1 } };
      const el = mount(env, mode === 'bound' ? { children: PAGE_CONTROLS, options } : { options });
      await inState(el, 'live');
      const waiting = next(el, 'ldf-state', (d) => d.state === 'reconnecting' && d.retryIn > 0);
      await cmd(env, 'net', { action: 'refuse' });
      await waiting;
      await el.updateComplete;
      expect(el.shadowRoot!.querySelector('[part~=countdown]')).to.not.equal(null);
      return el;
    },
  },
  {
    state: 'catching up (device lagging)',
    async reach(mode) {
      const factory = socketFactory();
      const options = { ...FAST, socket: factory.make };
      const fake = { env: 'fake', device: 'dev', src: 'ws://127.0.0.1:9/live' };
      const el = mount(fake, mode === 'bound' ? { children: PAGE_CONTROLS, options } : { options });
      await el.updateComplete;
      const socket = factory.last();
      socket.open();
      socket.receive({
        type: 'resync',
        epoch: 'e1',
        device: 'lagging',
        schema: CATCHING_UP_SCHEMA,
        fields: { gain: { value: 10, rev: 1 }, name: { value: 'cam', rev: 2 } },
      });
      await inState(el, 'lagging');
      expect(statusText(el)).to.equal('Catching up');
      return el;
    },
  },
  {
    state: 'device offline',
    async reach(mode) {
      const [el, env] = await liveOn(mode);
      await cmd(env, 'online', { online: false });
      await inState(el, 'offline');
      return el;
    },
  },
  {
    state: 'failed (fatal close 4404)',
    async reach(mode) {
      const env = await makeEnv();
      const el = mount({ ...env, device: 'no-such-device' }, mode === 'bound' ? { children: PAGE_CONTROLS } : {});
      await inState(el, 'failed');
      expect(statusText(el)).to.match(/^Unknown device/);
      return el;
    },
  },
];

afterEach(async () => {
  await emulateMedia({ colorScheme: 'light' });
});

describe('accessibility: axe-core finds no serious or critical violation, light and dark', () => {
  for (const mode of ['rendered', 'bound'] as const) {
    describe(mode === 'bound' ? 'the page’s own controls bound' : 'fields rendered from the schema', () => {
      for (const scene of SCENES) {
        it(scene.state, async () => {
          const el = await scene.reach(mode);
          expect(await audit(el)).to.deep.equal({ light: [], dark: [] });
        });
      }
    });
  }
});

/** A node of Chromium's accessibility tree, as `a11ySnapshot` gives it. */
interface AXNode {
  role: string;
  name?: string;
  description?: string;
}

/** The accessible description Chromium computes for the element `selector` finds in the page. */
async function description(selector: string): Promise<string> {
  const node = (await a11ySnapshot({ selector })) as unknown as AXNode;
  return (node.description ?? '').replace(/\s+/g, ' ').trim();
}

describe('accessibility: bound mode', () => {
  it('a note is the accessible description of the page’s control, beside the page’s own description', async () => {
    const env = await makeEnv();
    const el = mount(env, {
      children: `<label>Gain <input name="gain" type="number" aria-describedby="gain-hint"></label>
        <small id="gain-hint">From -12 to 12 dB.</small>`,
    });
    await inState(el, 'live');
    const gain = el.querySelector<HTMLInputElement>('[name=gain]')!;
    const note = el.querySelector<HTMLElement>('[data-ldf-note=gain]')!;
    expect(gain.getAttribute('aria-describedby')).to.equal(`gain-hint ${note.id}`);
    expect(await description('input[name=gain]')).to.equal('From -12 to 12 dB.');

    typeInto(gain, '30');
    await el.updateComplete;
    expect(await description('input[name=gain]')).to.equal('From -12 to 12 dB. Out of range: above the maximum 12.');

    // The page sets its attribute again (as a framework re-rendering would): our token comes back.
    gain.setAttribute('aria-describedby', 'gain-hint');
    await waitUntil(() => gain.getAttribute('aria-describedby') === `gain-hint ${note.id}`, 'our token is back');

    // The control is no field any more: our note and token go, the page's token stays.
    gain.name = 'gain_elsewhere';
    await waitUntil(() => !el.querySelector('[data-ldf-note]'), 'the note is gone');
    expect(gain.getAttribute('aria-describedby')).to.equal('gain-hint');
  });

  it('in a table cell that holds only its control, the note goes after the unit, at the end of the cell', async () => {
    const env = await makeEnv();
    const el = mount(env, {
      children: `<table><tr><th><label for="v">Phase V</label></th>
        <td><input id="v" name="genlock_phase_v" type="number"> <span class="u">lines</span></td></tr>
        <tr><th><label for="g">Gain</label></th><td><input id="g" name="gain" type="number"></td></tr></table>`,
    });
    await inState(el, 'live');
    const v = el.querySelector<HTMLInputElement>('#v')!;
    typeInto(v, '9000');
    await el.updateComplete;
    const cell = v.parentElement!;
    expect((cell.lastChild as HTMLElement).dataset.ldfNote).to.equal('genlock_phase_v');
    expect(cell.lastChild!.previousSibling).to.equal(cell.querySelector('.u'));
    expect(await description('#v')).to.equal('Out of range: above the maximum 511.');
  });

  it('the conflict note is the description of the page’s control, and Keep / Apply follow it in Tab order', async () => {
    const el = await conflict('bound');
    const note = el.querySelector<HTMLElement>('[data-ldf-note=genlock_phase_v]')!;
    /** What has focus, in words (a DOM node in a failed assertion's diff can hang the reporter). */
    const focused = (): string => {
      const a = document.activeElement;
      if (a === note) return `note ${note.shadowRoot!.activeElement?.getAttribute('part')}`;
      return a instanceof HTMLInputElement ? `input ${a.name}` : String(a?.nodeName);
    };
    expect(focused()).to.equal('input genlock_phase_v');
    expect(await description('input[name=genlock_phase_v]')).to.match(
      /^Not applied: the device changed to 77 px before your change arrived\. Yours: 50 px\./,
    );

    await sendKeys({ press: 'Tab' });
    expect(focused()).to.equal('note button keep-button');
    await sendKeys({ press: 'Tab' });
    expect(focused()).to.equal('note button apply-button');
    await sendKeys({ press: 'Tab' });
    expect(focused()).to.equal('input gain');
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    expect(focused()).to.equal('note button apply-button');
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(focused()).to.equal('input genlock_phase_v');
  });

  it('a rendered field’s note is its control’s description too', async () => {
    await conflict('rendered');
    expect(await description('pierce/#ldf-genlock_phase_v')).to.match(
      /^Not applied: the device changed to 77 px before your change arrived\./,
    );
  });
});
