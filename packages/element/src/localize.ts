/**
 * The element's languages (docs/element.md, "Languages"): which locale an element speaks, where
 * its messages come from, and loading a locale's module the first time it is needed.
 *
 * - An element speaks the language of its own `lang` attribute, else of the nearest ancestor's
 *   (through shadow roots), else of `<html lang>`; English when none is set or the tag is unusable.
 * - Each message comes from the element's `messages` property, else the exact locale (`de-CH`),
 *   else its language (`de`), else English, one message at a time.
 * - English is built in. Other locales are registered (`registerLocale`) as a messages object or as
 *   a loader; the shipped ones (`SHIPPED_LOCALES`) as loaders of `./locales/<lang>.js`, which a
 *   bundler makes a chunk of its own. Until a loader has resolved, the element shows English.
 * - A change of any `lang` attribute in the document, or of the element's own, re-renders the
 *   elements whose language it changes.
 * @module
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type Messages, en } from './locales/en.js';

/** Some or all of the messages of one locale; what is left out comes from English. */
export type LocaleMessages = Partial<Messages>;

/** Loads a locale's messages on demand: a module whose default export is them, or the messages themselves. */
export type LocaleLoader = () => Promise<LocaleMessages | { default: LocaleMessages }>;

/** Everything a render needs to put words on the screen. @internal */
export interface Words {
  /** The canonical language tag the element speaks (`en` when none is set). */
  readonly lang: string;
  /** Every message: the element's own, the locale's, English for the rest. */
  readonly t: Messages;
  /** A number in the locale's digits and separators (`-55,5`, `1.234` in German). */
  number(n: number): string;
}

/**
 * The locales that ship with the package, each loaded from its own module the first time an
 * element needs it. The literal `import()` paths let bundlers split each into a chunk.
 */
export const SHIPPED_LOCALES: ReadonlyMap<string, LocaleLoader> = new Map<string, LocaleLoader>([
  ['de', () => import('./locales/de.js')],
]);

/** Locales registered by the page, by lower-case tag. */
const registered = new Map<string, LocaleMessages | LocaleLoader>();
/** Messages ready to use, by lower-case tag. */
const ready = new Map<string, LocaleMessages>();
/** Loads under way, by lower-case tag. */
const loading = new Map<string, Promise<void>>();
/** Bumped whenever a locale is registered or arrives: every element's words may have changed. */
let version = 0;
/** The controllers of connected elements. */
const connected = new Set<Localize>();

/** A `TypeError` with the element's stable `code` for a misused API. */
function badLocale(message: string): TypeError & { code: 'bad-option' } {
  return Object.assign(new TypeError(message), { code: 'bad-option' as const });
}

/**
 * Registers a locale's messages, or a loader for them, for every `<live-device-form>` on the
 * page; elements that speak it re-render. A partial set falls back to English message by message.
 * Registering a shipped language (`de`) replaces the shipped messages. Throws a `TypeError`
 * (`code: 'bad-option'`) for a tag that is not a language tag or messages that are neither an
 * object nor a function.
 *
 * @example
 * registerLocale('ja', { live: 'ライブ', offline: 'デバイスはオフライン' });
 * registerLocale('fr', () => import('./ldf-fr.js'));
 */
export function registerLocale(lang: string, messages: LocaleMessages | LocaleLoader): void {
  let tag: string | undefined;
  try {
    tag = Intl.getCanonicalLocales(lang)[0];
  } catch {
    // Not a language tag: refused below.
  }
  if (!tag) throw badLocale(`registerLocale: "${String(lang)}" is not a language tag like "de" or "pt-BR"`);
  if (messages === null || (typeof messages !== 'object' && typeof messages !== 'function')) {
    throw badLocale(`registerLocale: the messages of "${tag}" must be an object or a function that loads them`);
  }
  const key = tag.toLowerCase();
  registered.set(key, messages);
  loading.delete(key);
  if (typeof messages === 'function') ready.delete(key);
  else ready.set(key, messages);
  changed();
}

/** Tells every connected element that locales changed. */
function changed(): void {
  version++;
  for (const c of connected) c.refresh();
}

/** Starts loading a locale's messages unless they are ready, loading, or unknown. */
function load(key: string): void {
  if (ready.has(key) || loading.has(key)) return;
  const source = registered.get(key) ?? SHIPPED_LOCALES.get(key);
  if (typeof source !== 'function') return;
  const done = (messages: LocaleMessages) => {
    // A registration while loading wins over what this load brings.
    if (loading.get(key) !== promise) return;
    loading.delete(key);
    ready.set(key, messages);
    changed();
  };
  const promise: Promise<void> = Promise.resolve()
    .then(source)
    .then(
      (m) => done(m && typeof m === 'object' && 'default' in m ? m.default : (m as LocaleMessages)),
      // A module that cannot be loaded (not served beside the bundle, offline): English from now on.
      () => done({}),
    );
  loading.set(key, promise);
}

/** Copies the messages of `from` that have the right type (a string or a function, as in English). */
function overlay(into: Record<string, unknown>, from: LocaleMessages | undefined): void {
  if (!from || typeof from !== 'object') return;
  for (const key of Object.keys(en) as (keyof Messages)[]) {
    const value = from[key];
    if (typeof value === typeof en[key]) into[key] = value;
  }
}

/**
 * The language an element speaks: its own `lang`, else the nearest ancestor's (through shadow
 * roots), canonicalised; `en` when none is set, it is empty (unknown), or it is not a tag.
 */
export function resolveLang(el: Element): string {
  let lang: string | null = null;
  for (let n: Node | null = el; n && lang === null; n = n instanceof ShadowRoot ? n.host : n.parentNode) {
    if (n instanceof Element) lang = n.getAttribute('lang');
  }
  try {
    return (lang && Intl.getCanonicalLocales(lang)[0]) || 'en';
  } catch {
    return 'en';
  }
}

/** Builds the words of `lang` (canonical) over the element's own, starting loads of its locale modules. @internal */
export function wordsFor(lang: string, own: LocaleMessages | undefined): Words {
  const exact = lang.toLowerCase();
  const base = exact.split('-')[0]!;
  const t: Record<string, unknown> = { ...en };
  for (const key of base === exact ? [base] : [base, exact]) {
    load(key);
    overlay(t, ready.get(key));
  }
  overlay(t, own);
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(lang, { maximumFractionDigits: 20 });
  } catch {
    format = new Intl.NumberFormat('en', { maximumFractionDigits: 20 });
  }
  // `|| 0`: minus zero is shown as 0, as `String(-0)` does.
  return { lang, t: t as unknown as Messages, number: (n) => format.format(n || 0) };
}

/**
 * The words of one element, as a Lit reactive controller: watches `lang` attributes while the
 * host is connected and re-renders it when its language or its locale's messages change.
 *
 * The language is resolved once and kept while the host is connected (a render does not walk the
 * ancestors again): every `lang` attribute it can come from is watched — the document's, and those
 * in each shadow root the host is inside — and a change of one, a (re)connect or a locale arriving
 * resolves it again.
 * @internal
 */
export class Localize implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #own: () => LocaleMessages | undefined;
  #observer: MutationObserver | undefined;
  #words: Words | undefined;
  /** The resolved language while connected and no watched `lang` changed since; else undefined. */
  #lang: string | undefined;
  /** The words' language and locale version. */
  #wordsLang = '';
  #wordsVersion = -1;
  #ownSeen: LocaleMessages | undefined;

  /** `own` returns the element's `messages` property. */
  constructor(host: ReactiveControllerHost & HTMLElement, own: () => LocaleMessages | undefined) {
    this.#host = host;
    this.#own = own;
    host.addController(this);
  }

  /** The language the host speaks now; resolved again only after a change that may alter it. */
  #currentLang(): string {
    if (this.#lang !== undefined) return this.#lang;
    const lang = resolveLang(this.#host);
    // Kept only while connected: only then are the `lang` attributes it comes from watched.
    if (connected.has(this)) this.#lang = lang;
    return lang;
  }

  /** The words to render with now (cached until the language, the locales or `messages` change). */
  get words(): Words {
    const lang = this.#currentLang();
    const own = this.#own();
    if (!this.#words || lang !== this.#wordsLang || version !== this.#wordsVersion || own !== this.#ownSeen) {
      this.#words = wordsFor(lang, own);
      this.#wordsLang = lang;
      this.#wordsVersion = version;
      this.#ownSeen = own;
    }
    return this.#words;
  }

  /** Re-renders the host if its words are out of date. */
  refresh(): void {
    if (this.#currentLang() !== this.#wordsLang || version !== this.#wordsVersion) this.#host.requestUpdate();
  }

  hostConnected(): void {
    connected.add(this);
    this.#lang = undefined;
    this.#observer ??= new MutationObserver(() => {
      this.#lang = undefined;
      this.refresh();
    });
    const options = { attributes: true, attributeFilter: ['lang'], subtree: true };
    this.#observer.observe(document.documentElement, options);
    // Inside other components' shadow roots, the document's observer does not see the host or
    // its ancestors there: each shadow root up to the document is watched too.
    for (let root = this.#host.getRootNode(); root instanceof ShadowRoot; root = root.host.getRootNode()) {
      this.#observer.observe(root, options);
    }
    this.refresh();
  }

  hostDisconnected(): void {
    connected.delete(this);
    this.#lang = undefined;
    this.#observer?.disconnect();
  }
}
