/**
 * Languages against the real server SDK (docs/element.md, "Languages"): German end to end, the
 * language following `lang` at run time, a page's partial locale falling back to English, numbers
 * in the locale's format, and the German module fetched only when German is shown.
 *
 * The first test must stay first: once a page has loaded the German module, it keeps it.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import type { FieldSchema } from '@live-device-form/protocol';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { registerLocale } from '../src/localize.js';
import { FAST, cmd, control, inState, makeEnv, mount, next } from './helpers.js';

const text = (node: Element | null | undefined): string => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const status = (el: LiveDeviceForm): string => text(el.shadowRoot!.querySelector('[part~=status]'));
const note = (el: LiveDeviceForm, field: string): string => text(el.shadowRoot!.querySelector(`#ldf-${field}-note`));
const shown = (el: LiveDeviceForm, field: string): string => text(el.shadowRoot!.querySelector(`#ldf-${field}`));

/** Resolves once the status line reads `words` (a locale module may still be on its way). */
async function statusIs(el: LiveDeviceForm, words: string): Promise<void> {
  await waitUntil(() => status(el) === words, `status "${status(el)}" never became "${words}"`, { timeout: 5000 });
}

const germanFetched = (): boolean =>
  performance.getEntriesByType('resource').some((e) => /\/locales\/de\.(js|ts)\b/.test(e.name));

const SCHEMA: FieldSchema[] = [
  { name: 'tilt', label: 'Neigung', type: 'number', min: -90, max: 90, step: 0.5, unit: '°', writable: true },
  { name: 'enabled', label: 'Ausgang', type: 'boolean', writable: false },
  { name: 'title', label: 'Titel', type: 'text', writable: false },
  { name: 'frames', label: 'Bilder', type: 'integer', writable: false },
];
const VALUES = { tilt: 10, enabled: true, title: 'Studio A', frames: 1234 };

/** A `<div lang=…>` in the page, removed after the test. */
const containers: HTMLElement[] = [];
function inLang(lang: string): HTMLElement {
  const div = document.createElement('div');
  div.lang = lang;
  document.body.append(div);
  containers.push(div);
  return div;
}

afterEach(() => {
  for (const c of containers.splice(0)) c.remove();
  document.documentElement.removeAttribute('lang');
});

describe('languages (real server)', () => {
  it('fetches the German module only once an element speaks German (lang set at run time)', async () => {
    const env = await makeEnv({ online: false });
    const el = mount(env);
    await inState(el, 'offline');
    expect(status(el)).to.equal('Device offline');
    expect(germanFetched(), 'German fetched by an English page').to.equal(false);
    el.lang = 'de';
    await statusIs(el, 'Gerät offline');
    expect(germanFetched()).to.equal(true);
  });

  it('keeps German out of the bundle: a dynamic import of ./locales/de.js beside it, which holds the words', async () => {
    const { base, de } = await executeServerCommand<{ base: string; de: string }, undefined>('ldf:bundle');
    // Booleans, not include(): a failure would print the whole bundle.
    expect(base.includes('import("./locales/de.js")'), 'the bundle imports ./locales/de.js').to.equal(true);
    // ASCII-only phrases: esbuild writes other characters as \u escapes.
    for (const phrase of ['Nicht gesendet', 'Zugriff verweigert', 'Nicht verbunden', 'Protokollfehler', 'Ganzzahl']) {
      expect(de.includes(phrase), `"${phrase}" in the German module`).to.equal(true);
      expect(base.includes(phrase), `"${phrase}" in the bundle`).to.equal(false);
    }
    expect(base.includes('Device offline'), 'English in the bundle').to.equal(true);
  });

  it('German end to end (from an ancestor’s lang): status, values, pending note, stale conflict with -55,5 °, buttons, aria-valuetext, event message', async () => {
    const env = await makeEnv({ schema: SCHEMA, values: VALUES });
    const el = mount(env, { parent: inLang('de') });
    await inState(el, 'live');
    await waitUntil(() => shown(el, 'enabled') === 'Ein', 'German never arrived');
    expect(shown(el, 'title')).to.equal('„Studio A“');
    expect(shown(el, 'frames')).to.equal('1.234');
    const slider = control(el, '#ldf-tilt-slider');
    expect(slider.getAttribute('aria-valuetext')).to.equal('10 °');

    const box = control(el, '#ldf-tilt');
    box.focus();
    box.value = '';
    await sendKeys({ type: '12.5' });
    const changed = next(el, 'ldf-update', (d) => d.value === -55.5);
    await cmd(env, 'status', { values: { tilt: -55.5 } });
    await changed;
    await el.updateComplete;
    expect(note(el, 'tilt')).to.equal('Gerät wurde auf -55,5 ° geändert');

    const rejected = next(el, 'ldf-rejected');
    await sendKeys({ press: 'Enter' });
    const detail = await rejected;
    expect(detail).to.include({ reason: 'stale', value: 12.5 });
    expect(detail.message).to.equal(
      'Nicht übernommen: Das Gerät wurde auf -55,5 ° geändert, bevor Ihre Änderung ankam.',
    );
    await el.updateComplete;
    expect(note(el, 'tilt')).to.equal(
      'Nicht übernommen: Das Gerät wurde auf -55,5 ° geändert, bevor Ihre Änderung ankam. Ihr Wert: 12,5 °. ' +
        'Gerätewert behalten Meinen Wert übernehmen',
    );
    expect(text(el.shadowRoot!.querySelector('[part~=keep-button]'))).to.equal('Gerätewert behalten');
    expect(text(el.shadowRoot!.querySelector('[part~=apply-button]'))).to.equal('Meinen Wert übernehmen');
    expect(slider.getAttribute('aria-valuetext')).to.equal('-55,5 °');

    // Out of range, said in German with the limit in German digits.
    box.focus();
    box.value = '';
    await sendKeys({ type: '90.5' });
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(note(el, 'tilt')).to.equal('Außerhalb des Bereichs: über dem Maximum 90.');

    const offline = next(el, 'ldf-state', (d) => d.state === 'offline');
    await cmd(env, 'online', { online: false });
    await offline;
    await el.updateComplete;
    expect(status(el)).to.equal('Gerät offline');
  });

  it('follows lang at run time: its own over its ancestors’, <html lang> last; English for a language it does not have', async () => {
    const env = await makeEnv({ online: false });
    const div = inLang('de');
    const el = mount(env, { parent: div });
    await inState(el, 'offline');
    await statusIs(el, 'Gerät offline');
    el.lang = 'en';
    await statusIs(el, 'Device offline');
    el.removeAttribute('lang');
    await statusIs(el, 'Gerät offline');
    div.lang = 'sv';
    await statusIs(el, 'Device offline');
    div.removeAttribute('lang');
    document.documentElement.lang = 'de-CH';
    await statusIs(el, 'Gerät offline');
  });

  it('follows lang inside other components’ shadow roots, and when moved to another container', async () => {
    const env = await makeEnv({ online: false });
    // <div lang=sv> → outer host → its shadow root → <section> → inner host → its shadow root → the element.
    const outer = document.createElement('div');
    inLang('sv').append(outer);
    const section = document.createElement('section');
    outer.attachShadow({ mode: 'open' }).append(section);
    const inner = document.createElement('div');
    section.append(inner);
    const holder = document.createElement('div');
    inner.attachShadow({ mode: 'open' }).append(holder);
    const el = mount(env, { parent: holder });
    await inState(el, 'offline');
    await statusIs(el, 'Device offline');
    // Neither in the document's tree nor in the element's own shadow root: in the one between.
    section.lang = 'de';
    await statusIs(el, 'Gerät offline');
    section.lang = 'sv';
    await statusIs(el, 'Device offline');
    // Moved (disconnected and connected again): the language of where it is now.
    inLang('de').append(el);
    await statusIs(el, 'Gerät offline');
    inLang('sv').append(el);
    await statusIs(el, 'Device offline');
  });

  it('the countdown in the locale’s words, and a page’s own messages at run time', async () => {
    document.documentElement.lang = 'de';
    const env = await makeEnv({ guardMs: 0 });
    const el = mount(env, { options: { ...FAST, backoff: { initialMs: 30_000, maxMs: 30_000, random: () => 1 } } });
    await inState(el, 'live');
    await cmd(env, 'net', { action: 'cut' });
    await inState(el, 'live', 5000);
    const backingOff = next(el, 'ldf-state', (d) => d.state === 'reconnecting' && d.retryIn > 0);
    await cmd(env, 'net', { action: 'refuse' });
    await backingOff;
    await statusIs(el, 'Neuer Verbindungsversuch in 30 s');
    el.messages = { reconnecting: 'Reconnexion', countdown: ({ seconds }) => `dans ${seconds} s` };
    await el.updateComplete;
    expect(status(el)).to.equal('Reconnexion dans 30 s');
  });

  it('a page’s partial locale: its messages where it has them, English for the rest, numbers in its format', async () => {
    registerLocale('fr', {
      offline: 'Appareil hors ligne',
      // A message of the wrong type is ignored, not rendered.
      on: 42 as never,
    });
    const env = await makeEnv({ schema: SCHEMA, values: VALUES, online: false });
    const el = mount(env, { parent: inLang('fr-FR') });
    await inState(el, 'offline');
    expect(status(el)).to.equal('Appareil hors ligne');
    expect(shown(el, 'enabled')).to.equal('On');
    expect(shown(el, 'title')).to.equal('“Studio A”');
    // Raw text: the French group separator is a narrow no-break space, which \s would fold.
    expect(el.shadowRoot!.querySelector('#ldf-frames')!.textContent!.trim()).to.equal('1\u202f234');
    // A registration later re-renders the elements that speak it.
    registerLocale('fr', { offline: 'Hors ligne', on: 'Activé' });
    await waitUntil(() => shown(el, 'enabled') === 'Activé');
    expect(status(el)).to.equal('Hors ligne');
  });

  it('registerLocale refuses what is no language tag, and messages that are neither object nor loader', () => {
    for (const [lang, messages] of [
      ['not a tag!', {}],
      ['de', 'Gerät offline'],
      ['de', null],
    ] as const) {
      expect(() => registerLocale(lang, messages as never))
        .to.throw(TypeError)
        .with.property('code', 'bad-option');
    }
  });
});
