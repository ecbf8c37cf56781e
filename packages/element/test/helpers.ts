/**
 * Helpers of the browser integration tests: a fresh device + real server + fault proxy per test
 * (see harness/plugin.mjs), mounting the element, and waiting on its events.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import type { ClientFrame, FieldSchema, FieldValue } from '@live-device-form/protocol';
import type { ConnectionOptions, ConnectionState } from '../src/connection.js';
import type { LiveDeviceFormEventMap } from '../src/events.js';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import '../src/define.js';

export interface Env {
  env: string;
  device: string;
  src: string;
}

export interface EnvOptions {
  schema?: FieldSchema[];
  values?: Record<string, FieldValue>;
  guardMs?: number;
  online?: boolean;
  echo?: boolean;
  echoDelayMs?: number;
  token?: string;
  deny?: boolean;
  /** The one origin the server allows. Defaults to this page's. */
  origin?: string;
  /** Serve the device through a catalog, so that `cmd(env, 'catalog', { action })` can remove and re-add it. Defaults to `false`. */
  catalog?: boolean;
}

const made: Env[] = [];
const mounted: HTMLElement[] = [];

/** A fresh device, server SDK instance and proxy for this test. */
export async function makeEnv(options: EnvOptions = {}): Promise<Env> {
  const env = await executeServerCommand<Env, EnvOptions>('ldf:env', { origin: location.origin, ...options });
  made.push(env);
  return env;
}

/** Runs a harness command for `env`. */
export function cmd<T = unknown>(env: Env, command: string, payload: Record<string, unknown> = {}): Promise<T> {
  return executeServerCommand<T, Record<string, unknown>>(`ldf:${command}`, { env: env.env, ...payload });
}

/** What the element sent, as seen by the proxy on the wire. */
export async function sent(env: Env): Promise<{ conn: number; frame?: ClientFrame; close?: number }[]> {
  return cmd(env, 'sent');
}

/** The `set` frames the element sent. */
export async function sentSets(env: Env): Promise<Extract<ClientFrame, { type: 'set' }>[]> {
  return (await sent(env))
    .map((s) => s.frame)
    .filter((f): f is Extract<ClientFrame, { type: 'set' }> => f?.type === 'set');
}

/** What reached the device. */
export async function deviceWrites(env: Env): Promise<{ field: string; value: FieldValue }[]> {
  return cmd(env, 'writes');
}

/** Fast heartbeat, quick retries, so tests do not wait on production timings. */
export const FAST: ConnectionOptions = {
  pingIntervalMs: 2000,
  pingTimeoutMs: 2000,
  connectTimeoutMs: 3000,
  backoff: { initialMs: 50, maxMs: 200 },
};

/** Mounts `<live-device-form>` (with optional light-DOM children) connected to `env`, in `parent` (default `<body>`). */
export function mount(
  env: Env,
  init: { children?: string; options?: ConnectionOptions; throttle?: number; parent?: HTMLElement } = {},
): LiveDeviceForm {
  const el = document.createElement('live-device-form');
  el.connectionOptions = init.options ?? FAST;
  if (init.throttle !== undefined) el.throttle = init.throttle;
  if (init.children) el.innerHTML = init.children;
  el.src = env.src;
  el.device = env.device;
  (init.parent ?? document.body).append(el);
  mounted.push(el);
  return el;
}

/** Resolves with the next event of this type that satisfies `accept`. */
export function next<K extends keyof LiveDeviceFormEventMap>(
  el: EventTarget,
  type: K,
  accept: (detail: LiveDeviceFormEventMap[K]['detail']) => boolean = () => true,
  timeoutMs = 8000,
): Promise<LiveDeviceFormEventMap[K]['detail']> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      el.removeEventListener(type, on as EventListener);
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: LiveDeviceFormEventMap[K]) => {
      if (!accept(e.detail)) return;
      clearTimeout(timer);
      el.removeEventListener(type, on as EventListener);
      resolve(e.detail);
    };
    el.addEventListener(type, on as EventListener);
  });
}

/** Resolves once the element is in `state` and rendered (at once if it already is). */
export async function inState(el: LiveDeviceForm, state: ConnectionState, timeoutMs?: number): Promise<void> {
  if (el.state !== state) await next(el, 'ldf-state', (d) => d.state === state, timeoutMs);
  await el.updateComplete;
}

/** A control inside the element's shadow root. */
export function control<T extends HTMLElement = HTMLInputElement>(el: LiveDeviceForm, selector: string): T {
  const c = el.shadowRoot!.querySelector<T>(selector);
  if (!c) throw new Error(`no ${selector} in the element`);
  return c;
}

/** Types like a user does: sets the value and fires `input`, then `change` when `commit`. */
export function typeInto(input: HTMLInputElement, value: string, commit = true): void {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  if (commit) input.dispatchEvent(new Event('change', { bubbles: true }));
}

afterEach(async () => {
  for (const el of mounted.splice(0)) el.remove();
  for (const env of made.splice(0)) await executeServerCommand('ldf:dispose', { env: env.env });
});
