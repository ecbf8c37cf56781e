/**
 * Editing against the real server SDK: both modes (rendered from the schema, bound light-DOM
 * controls), held controls, echoes, stale choices, local and server refusals. Real mouse and
 * keyboard where a user's gesture is the point.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { resetMouse, sendKeys, sendMouse } from '@web/test-runner-commands';
import type { UpdateDetail } from '../src/events.js';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { cmd, control, deviceWrites, inState, makeEnv, mount, next, sentSets, typeInto } from './helpers.js';

/** Page coordinates of a range input's thumb at `value` (Chromium's default 16 px thumb). */
function thumb(slider: HTMLInputElement, value: number): [number, number] {
  const r = slider.getBoundingClientRect();
  const min = Number(slider.min);
  const max = Number(slider.max);
  return [Math.round(r.left + 8 + ((value - min) / (max - min)) * (r.width - 16)), Math.round(r.top + r.height / 2)];
}

function note(el: LiveDeviceForm, field: string): string {
  return el.shadowRoot!.querySelector(`#ldf-${field}-note`)!.textContent!.replace(/\s+/g, ' ').trim();
}

function collect(el: LiveDeviceForm): UpdateDetail[] {
  const seen: UpdateDetail[] = [];
  el.addEventListener('ldf-update', (e) => seen.push(e.detail));
  return seen;
}

afterEach(async () => {
  await resetMouse();
});

describe('editing (real server)', () => {
  describe('rendered from the schema', () => {
    it('renders every field type with labels tied to its controls', async () => {
      const env = await makeEnv();
      const el = mount(env);
      await inState(el, 'live');
      const root = el.shadowRoot!;
      const labels = [...root.querySelectorAll('label')].map((l) => [l.textContent, l.htmlFor]);
      expect(labels).to.deep.equal([
        ['Phase horizontal', 'ldf-genlock_phase_h'],
        ['Phase vertical', 'ldf-genlock_phase_v'],
        ['Gain', 'ldf-gain'],
        ['Output enabled', 'ldf-enabled'],
        ['Video standard', 'ldf-standard'],
        ['Name', 'ldf-name'],
        ['Temperature', 'ldf-temperature'],
      ]);
      const slider = control(el, '#ldf-genlock_phase_h-slider');
      expect([slider.type, slider.min, slider.max, slider.step, slider.value]).to.deep.equal([
        'range',
        '-512',
        '511',
        '1',
        '-25',
      ]);
      expect(slider.getAttribute('aria-labelledby')).to.equal('ldf-genlock_phase_h-label');
      const box = control(el, '#ldf-genlock_phase_h');
      expect([box.type, box.value, box.labels?.[0]?.textContent]).to.deep.equal(['number', '-25', 'Phase horizontal']);
      expect(root.querySelector('#ldf-genlock_phase_h ~ [part=unit]')?.textContent).to.equal('px');
      expect(control(el, '#ldf-gain-slider').step).to.equal('0.5');
      const sw = control(el, '#ldf-enabled');
      expect([sw.type, sw.getAttribute('role'), sw.checked]).to.deep.equal(['checkbox', 'switch', true]);
      const select = control<HTMLSelectElement>(el, '#ldf-standard');
      expect([select.value, [...select.options].map((o) => o.text)]).to.deep.equal(['pal', ['NTSC', 'PAL']]);
      expect(control(el, '#ldf-name').value).to.equal('Studio A');
      const temp = control<HTMLOutputElement>(el, '#ldf-temperature');
      expect([temp.tagName, temp.textContent]).to.deep.equal(['OUTPUT', '41.5 °C']);
      expect(temp.labels?.[0]?.textContent).to.equal('Temperature');
    });

    it('writes from the revision the user edited from, and recognises the echo as its own', async () => {
      const env = await makeEnv();
      const el = mount(env);
      const resync = next(el, 'ldf-resync');
      await inState(el, 'live');
      const { fields } = await resync;
      const updates = collect(el);
      const acked = next(el, 'ldf-ack');
      const echoed = next(el, 'ldf-update', (d) => d.field === 'name');
      typeInto(control(el, '#ldf-name'), 'Studio B');
      expect(await acked).to.include({ field: 'name', value: 'Studio B', rev: fields.name!.rev, status: 'accepted' });
      expect(await echoed).to.include({ value: 'Studio B', echo: true });
      await el.updateComplete;
      expect(note(el, 'name')).to.equal('');
      expect(control(el, '#ldf-name').getAttribute('aria-busy')).to.equal('false');
      expect(updates.every((u) => u.echo)).to.equal(true);
      expect(await deviceWrites(env)).to.deep.include({
        field: 'name',
        value: 'Studio B',
        payload: { name: 'Studio B' },
        published: true,
      });
    });

    it('a switch and a select write on change; keyboard works', async () => {
      const env = await makeEnv();
      const el = mount(env);
      await inState(el, 'live');
      const sw = control(el, '#ldf-enabled');
      sw.focus();
      const flipped = next(el, 'ldf-write');
      await sendKeys({ press: 'Space' });
      expect(await flipped).to.include({ field: 'enabled', value: false });
      const slider = control(el, '#ldf-genlock_phase_v-slider');
      slider.focus();
      const nudged = next(el, 'ldf-write');
      await sendKeys({ press: 'ArrowRight' });
      expect(await nudged).to.include({ field: 'genlock_phase_v', value: 11 });
      const select = control<HTMLSelectElement>(el, '#ldf-standard');
      select.value = 'ntsc';
      const picked = next(el, 'ldf-write');
      select.dispatchEvent(new Event('change', { bubbles: true }));
      expect(await picked).to.include({ field: 'standard', value: 'ntsc' });
    });

    it('refuses an out-of-range or off-step value before sending, and says so', async () => {
      const env = await makeEnv();
      const el = mount(env);
      await inState(el, 'live');
      const box = control(el, '#ldf-genlock_phase_h');
      box.focus();
      typeInto(box, '600');
      await el.updateComplete;
      expect(note(el, 'genlock_phase_h')).to.equal('Out of range: above the maximum 511.');
      expect(box.getAttribute('aria-invalid')).to.equal('true');
      expect(box.value).to.equal('600'); // kept for the user to fix
      box.blur(); // abandoned: the box shows the device's value again, which is valid
      await el.updateComplete;
      expect([box.value, box.getAttribute('aria-invalid'), note(el, 'genlock_phase_h')]).to.deep.equal([
        '-25',
        'false',
        '',
      ]);
      typeInto(control(el, '#ldf-gain'), '0.3');
      await el.updateComplete;
      expect(note(el, 'gain')).to.equal('Not sent: not on a step of 0.5.');
      expect(await sentSets(env)).to.deep.equal([]);
    });

    it('shows a refusal by the server with its reason in words, and the device value again', async () => {
      const env = await makeEnv();
      await cmd(env, 'behaviour', { behaviour: 'offline' });
      const el = mount(env);
      await inState(el, 'live');
      const rejected = next(el, 'ldf-rejected');
      typeInto(control(el, '#ldf-name'), 'Nope');
      expect(await rejected).to.include({
        field: 'name',
        value: 'Nope',
        reason: 'offline',
        message: 'Not applied: the device is offline.',
      });
      await el.updateComplete;
      expect(note(el, 'name')).to.equal('Not applied: the device is offline.');
      expect(control(el, '#ldf-name').value).to.equal('Studio A');
    });
  });

  describe('held controls', () => {
    it('a held slider is not yanked by a live update; the update is applied on release', async () => {
      const env = await makeEnv();
      const el = mount(env, { throttle: 0 });
      await inState(el, 'live');
      const updates = collect(el);
      const slider = control(el, '#ldf-genlock_phase_h-slider');
      await sendMouse({ type: 'move', position: thumb(slider, -25) });
      await sendMouse({ type: 'down' });
      await sendMouse({ type: 'move', position: thumb(slider, 100) });
      const held = slider.value;
      expect(Number(held)).to.be.within(90, 110);
      // Every write of the drag has echoed before the device changes by itself.
      await waitUntil(() => updates.some((u) => u.echo && u.value === Number(held)), 'the drag’s last write echoed');

      const changed = next(el, 'ldf-update', (d) => d.value === -300);
      await cmd(env, 'status', { values: { genlock_phase_h: -300 } });
      expect((await changed).echo).to.equal(false);
      await el.updateComplete;
      expect(slider.value).to.equal(held);
      expect(control(el, '#ldf-genlock_phase_h').value).to.equal(held);
      expect(note(el, 'genlock_phase_h')).to.equal('Device changed to -300 px');

      await sendMouse({ type: 'up' });
      await el.updateComplete;
      expect(slider.value).to.equal('-300');
      expect(note(el, 'genlock_phase_h')).to.equal('');
      // Released where it was: the value already sent is not sent again.
      const sets = await sentSets(env);
      expect(sets[sets.length - 1]!.value).to.equal(Number(held));
    });

    it('sends while dragging, throttled, and always the value at release; echoes are never “device changed”', async () => {
      const env = await makeEnv();
      const el = mount(env, { throttle: 60_000 }); // one write per drag, plus the final one
      await inState(el, 'live');
      const updates = collect(el);
      const slider = control(el, '#ldf-genlock_phase_h-slider');
      await sendMouse({ type: 'move', position: thumb(slider, 0) });
      await sendMouse({ type: 'down' });
      const first = Number(slider.value);
      for (const v of [50, 100, 150, 200]) await sendMouse({ type: 'move', position: thumb(slider, v) });
      await sendMouse({ type: 'up' });
      const final = Number(slider.value);
      expect(final).to.be.within(190, 210);
      await waitUntil(() => updates.some((u) => u.value === final), 'the final write echoed');
      expect((await sentSets(env)).map((s) => s.value)).to.deep.equal([first, final]);
      expect((await deviceWrites(env)).map((w) => w.value)).to.deep.equal([first, final]);
      expect(updates.every((u) => u.echo)).to.equal(true);
      await el.updateComplete;
      expect(note(el, 'genlock_phase_h')).to.equal('');
      expect(slider.value).to.equal(String(final));
    });

    it('the device changes during a drag: later writes are refused as stale, and “Apply mine” writes from the fresh revision', async () => {
      const env = await makeEnv();
      const el = mount(env, { throttle: 0 });
      await inState(el, 'live');
      const updates = collect(el);
      const slider = control(el, '#ldf-genlock_phase_h-slider');
      await sendMouse({ type: 'move', position: thumb(slider, 0) });
      await sendMouse({ type: 'down' });
      await waitUntil(() => updates.some((u) => u.echo), 'the first write echoed');
      const external = next(el, 'ldf-update', (d) => d.value === -400);
      await cmd(env, 'status', { values: { genlock_phase_h: -400 } });
      const { rev } = await external;
      const rejected = next(el, 'ldf-rejected');
      await sendMouse({ type: 'move', position: thumb(slider, 200) });
      const mine = Number(slider.value);
      expect(await rejected).to.include({ reason: 'stale', value: mine });
      await sendMouse({ type: 'up' });
      await el.updateComplete;
      expect(slider.value).to.equal('-400');
      expect(note(el, 'genlock_phase_h')).to.equal(
        `Not applied: the device changed to -400 px before your change arrived. Yours: ${mine} px. Keep device value Apply mine`,
      );
      expect((await deviceWrites(env)).map((w) => w.value)).to.not.include(mine);

      const wrote = next(el, 'ldf-write');
      const acked = next(el, 'ldf-ack');
      const echoed = next(el, 'ldf-update', (d) => d.value === mine && d.echo);
      el.shadowRoot!.querySelector<HTMLButtonElement>('[part~=apply-button]')!.click();
      expect(await wrote).to.include({ field: 'genlock_phase_h', value: mine, rev });
      expect(await acked).to.include({ value: mine, status: 'accepted' });
      await echoed;
      await el.updateComplete;
      expect(slider.value).to.equal(String(mine));
      expect(note(el, 'genlock_phase_h')).to.equal('');
      expect(el.shadowRoot!.activeElement?.id).to.equal('ldf-genlock_phase_h');
    });

    it('a box being typed in is not overwritten; a stale commit offers the choice, and “Keep device value” writes nothing', async () => {
      const env = await makeEnv();
      const el = mount(env);
      await inState(el, 'live');
      const box = control(el, '#ldf-genlock_phase_v');
      box.focus();
      box.value = '';
      await sendKeys({ type: '50' });
      const changed = next(el, 'ldf-update', (d) => d.value === 77);
      await cmd(env, 'status', { values: { genlock_phase_v: 77 } });
      await changed;
      await el.updateComplete;
      expect(box.value).to.equal('50');
      expect(note(el, 'genlock_phase_v')).to.equal('Device changed to 77 px');
      const rejected = next(el, 'ldf-rejected');
      await sendKeys({ press: 'Enter' });
      expect(await rejected).to.include({ reason: 'stale', value: 50 });
      await el.updateComplete;
      expect(box.value).to.equal('77');
      expect(note(el, 'genlock_phase_v')).to.match(
        /^Not applied: the device changed to 77 px before your change arrived\. Yours: 50 px\./,
      );
      el.shadowRoot!.querySelector<HTMLButtonElement>('[part~=keep-button]')!.click();
      await el.updateComplete;
      expect(note(el, 'genlock_phase_v')).to.equal('');
      expect(box.value).to.equal('77');
      expect(await deviceWrites(env)).to.deep.equal([]);
      expect(await sentSets(env)).to.have.length(1);
    });
  });

  describe('bound to the page’s own controls', () => {
    const children = `
      <form id="vendor">
        <label>H <input name="genlock_phase_h" type="number" class="vendor"></label>
        <label>V <input name="genlock_phase_v" type="range" min="-512" max="511"></label>
        <label><input name="enabled" type="checkbox"> Enabled</label>
        <select name="standard"><option value="ntsc">NTSC</option><option value="pal">PAL</option></select>
        <input name="unrelated" value="left alone">
      </form>`;

    it('manages value, read-only state and aria-* of the inputs by name; adds only a note beside each', async () => {
      const env = await makeEnv();
      const el = mount(env, { children });
      const h = el.querySelector<HTMLInputElement>('[name=genlock_phase_h]')!;
      const v = el.querySelector<HTMLInputElement>('[name=genlock_phase_v]')!;
      const en = el.querySelector<HTMLInputElement>('[name=enabled]')!;
      const std = el.querySelector<HTMLSelectElement>('[name=standard]')!;
      const unrelated = el.querySelector<HTMLInputElement>('[name=unrelated]')!;
      const before = [...el.querySelectorAll('*')];
      const attrs = new Map(before.map((n) => [n, n.getAttributeNames()]));
      await el.updateComplete;
      expect(h.readOnly).to.equal(true); // before the first resync
      expect(h.getAttribute('aria-readonly')).to.equal('true');

      await inState(el, 'live');
      expect(el.shadowRoot!.querySelector('[part=fields]')).to.equal(null);
      // One note per bound field, right after the label that wraps its control; none for `unrelated`.
      const notes = [...el.querySelectorAll<HTMLElement>('[data-ldf-note]')];
      expect(notes.map((n) => [n.dataset.ldfNote, n.previousElementSibling])).to.deep.equal([
        ['genlock_phase_h', h.closest('label')],
        ['genlock_phase_v', v.closest('label')],
        ['enabled', en.closest('label')],
        ['standard', std],
      ]);
      expect([h.value, v.value, en.checked, std.value]).to.deep.equal(['-25', '10', true, 'pal']);
      expect([h.readOnly, h.getAttribute('aria-readonly'), v.getAttribute('aria-readonly')]).to.deep.equal([
        false,
        'false',
        'false',
      ]);
      expect(unrelated.hasAttribute('aria-readonly')).to.equal(false);
      expect(unrelated.value).to.equal('left alone');
      // Same nodes besides the notes; attributes only ever gain aria-readonly/busy/invalid/describedby.
      expect([...el.querySelectorAll('*')].filter((n) => !notes.includes(n as HTMLElement))).to.deep.equal(before);
      for (const [n, names] of attrs) {
        const added = n.getAttributeNames().filter((a) => !names.includes(a));
        expect(
          added.every((a) => ['aria-readonly', 'aria-busy', 'aria-invalid', 'aria-describedby'].includes(a)),
          `${n.outerHTML}`,
        ).to.equal(true);
      }

      // A commit with Enter writes (and does not submit the vendor's form).
      let submitted = false;
      el.querySelector('form')!.addEventListener('submit', (e) => {
        submitted = true;
        e.preventDefault();
      });
      h.focus();
      h.value = '';
      await sendKeys({ type: '33' });
      const wrote = next(el, 'ldf-write');
      await sendKeys({ press: 'Enter' });
      expect(await wrote).to.include({ field: 'genlock_phase_h', value: 33 });
      expect(submitted).to.equal(false);
      const clicked = next(el, 'ldf-write');
      en.click();
      expect(await clicked).to.include({ field: 'enabled', value: false });

      // A live update reaches the bound input.
      const changed = next(el, 'ldf-update', (d) => d.field === 'genlock_phase_v' && d.value === -7);
      await cmd(env, 'status', { values: { genlock_phase_v: -7 } });
      await changed;
      await el.updateComplete;
      expect(v.value).to.equal('-7');

      // Link loss: read-only again, and the checkbox cannot be flipped.
      await cmd(env, 'net', { action: 'refuse' });
      await inState(el, 'reconnecting');
      expect([h.readOnly, v.getAttribute('aria-readonly'), en.getAttribute('aria-readonly')]).to.deep.equal([
        true,
        'true',
        'true',
      ]);
      en.click();
      expect(en.checked).to.equal(false);
      expect((await sentSets(env)).map((s) => s.field)).to.deep.equal(['genlock_phase_h', 'enabled']);
    });

    it('shows a bound field’s note beside its control', async () => {
      const env = await makeEnv();
      const el = mount(env, { children });
      await inState(el, 'live');
      const h = el.querySelector<HTMLInputElement>('[name=genlock_phase_h]')!;
      typeInto(h, '9000');
      await el.updateComplete;
      expect(h.getAttribute('aria-invalid')).to.equal('true');
      const note = h.closest('label')!.nextElementSibling!;
      expect(note.getAttribute('data-ldf-note')).to.equal('genlock_phase_h');
      expect(h.getAttribute('aria-describedby')).to.equal(note.id);
      expect(note.shadowRoot!.querySelector('[part~=note-invalid]')!.textContent!.trim()).to.equal(
        'Out of range: above the maximum 511.',
      );
    });
  });
});
