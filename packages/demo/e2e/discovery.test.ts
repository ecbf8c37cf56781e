/**
 * The demo's discovered devices (docs/discovery.md), in Chromium: the page lists what the server's
 * discovery found (the cy-vp4 once more, from its Home Assistant discovery config; the Zigbee2MQTT
 * lamp) and shows a form for each below the main demo; a change in the lamp's form reaches the
 * lamp, and the lamp's wall switch shows in the form. Also the control API's lamp endpoint.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { HA_DEVICE, HA_DISCOVERY_TOPIC, videoprocDiscoveryConfig } from '../src/ha-discovery.js';
import { type Stack, startStack } from './stack.js';

const LAMP = 'living_room_lamp';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Waits until the discovered device's form is live. */
async function discoveredLive(page: Page, id: string): Promise<void> {
  await page.waitForFunction(
    (d) =>
      document.querySelector<HTMLElementTagNameMap['live-device-form']>(
        `#discovered-forms live-device-form[device="${d}"]`,
      )?.state === 'live',
    id,
    { timeout: 20_000, polling: 50 },
  );
}

/** The field controls a discovered device's form renders, by field name (value, or checked for a switch). */
function formFields(page: Page, id: string): Promise<Record<string, string | boolean>> {
  return page.evaluate((d) => {
    const form = document.querySelector(`#discovered-forms live-device-form[device="${d}"]`)!;
    const out: Record<string, string | boolean> = {};
    for (const c of form.shadowRoot!.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLOutputElement>(
      'input:not([type="range"]), select, output',
    )) {
      const name = c.id.replace(/^ldf-/, '');
      out[name] = c instanceof HTMLInputElement && c.type === 'checkbox' ? c.checked : c.value;
    }
    return out;
  }, id);
}

/** Waits until a field of a discovered device's form shows `value`. */
async function waitForField(page: Page, id: string, field: string, value: string | boolean): Promise<void> {
  await page.waitForFunction(
    ([d, f, v]) => {
      const el = document
        .querySelector(`#discovered-forms live-device-form[device="${d}"]`)
        ?.shadowRoot?.querySelector<HTMLInputElement>(`#ldf-${f}`);
      if (!el) return false;
      return typeof v === 'boolean' ? el.checked === v : el.value === v;
    },
    [id, field, value] as const,
    { timeout: 20_000, polling: 50 },
  );
}

/** Resolves when the lamp reports a state matching `pred`. */
function lampReaches(stack: Stack, pred: (s: { state: string; brightness: number }) => boolean): Promise<void> {
  if (pred(stack.demo.lamp.state)) return Promise.resolve();
  return new Promise((resolve) => {
    const off = stack.demo.lamp.subscribe((s) => {
      if (!pred(s)) return;
      off();
      resolve();
    });
  });
}

describe('the demo: discovered devices', () => {
  it('lists the discovered cy-vp4 (Home Assistant) and lamp (Zigbee2MQTT) below the demo, each with its form and fields', async () => {
    stack = await startStack();
    const page = await stack.open('/');
    // The main demo comes first and is what it was.
    expect(await page.evaluate(() => document.querySelector('live-device-form')!.device)).toBe('videoproc');
    await discoveredLive(page, HA_DEVICE.id);
    await discoveredLive(page, LAMP);

    const list = await page.$$eval('#discovered-list li', (lis) =>
      lis.map((li) => [li.dataset.device, li.dataset.source, li.dataset.fields, li.textContent]),
    );
    expect(list).toEqual([
      [HA_DEVICE.id, 'homeassistant', '5', `${HA_DEVICE.id}Home Assistant discovery5 fields`],
      [LAMP, 'zigbee2mqtt', '4', `${LAMP}Zigbee2MQTT4 fields`],
    ]);
    const headings = await page.$$eval('#discovered-forms .discovered-card', (cards) =>
      cards.map((c) => [(c as HTMLElement).dataset.device, c.querySelector('h3')!.textContent]),
    );
    expect(headings).toEqual([
      [HA_DEVICE.id, 'CY-VP4 video processor'],
      [LAMP, 'IKEA TRÅDFRI bulb LED1545G12'],
    ]);
    // The discovered section is below the main demo.
    const [mainBottom, discoveredTop] = await page.evaluate(() => [
      document.querySelector('main.grid')!.getBoundingClientRect().bottom,
      document.querySelector('#discovered')!.getBoundingClientRect().top,
    ]);
    expect(discoveredTop).toBeGreaterThanOrEqual(mainBottom);

    const { simulator } = stack.demo;
    expect(await formFields(page, HA_DEVICE.id)).toEqual({
      audio_delay: String(simulator.values.audio_delay),
      brightness: String(simulator.values.brightness),
      freeze: simulator.values.freeze,
      input_signal: `“${String(simulator.values.input_signal)}”`,
      output_format: simulator.values.output_format,
    });
    expect(await formFields(page, LAMP)).toEqual({
      state: true,
      brightness: '180',
      color_temp: '370',
      linkquality: '142 lqi',
    });
  });

  it("a change in the lamp's form reaches the lamp; its wall switch shows in the form", async () => {
    stack = await startStack();
    const page = await stack.open('/', { naive: '0' });
    await discoveredLive(page, LAMP);

    // The page → the lamp: its brightness box, then its switch.
    const box = page.locator(`#discovered-forms live-device-form[device="${LAMP}"] #ldf-brightness`);
    await box.fill('60');
    await box.press('Enter');
    await lampReaches(stack, (s) => s.brightness === 60);
    await page.locator(`#discovered-forms live-device-form[device="${LAMP}"] #ldf-state`).click();
    await lampReaches(stack, (s) => s.state === 'OFF');
    expect(stack.demo.lamp.state).toMatchObject({ state: 'OFF', brightness: 60 });

    // The wall switch (the lamp itself, not the server) → the form.
    await page.click('[data-lamp-switch] [data-lamp="toggle"]');
    await lampReaches(stack, (s) => s.state === 'ON');
    await waitForField(page, LAMP, 'state', true);
    await page.fill('#lamp-brightness', '200');
    await page.click('[data-lamp-switch] [data-lamp="brightness"]');
    await waitForField(page, LAMP, 'brightness', '200');
    expect(stack.demo.lamp.state).toMatchObject({ state: 'ON', brightness: 200 });

    // The MQTT log shows the lamp's write and state by their roles.
    await page.locator('#log .row.action[data-topic="zigbee2mqtt/living_room_lamp/set"]').first().waitFor();
    await page.locator('#log .row.status[data-topic="zigbee2mqtt/living_room_lamp"]').first().waitFor();
    await page.locator('#log .row.discovery[data-topic="homeassistant/device/cy-vp4-0042/config"]').first().waitFor();
  });

  it('follows devices as they go and come back: the list drops one, its form says so, and both come back', async () => {
    stack = await startStack({ viaProxy: false });
    const page = await stack.open('/', { naive: '0' });
    await discoveredLive(page, HA_DEVICE.id);
    const listed = () => page.$$eval('#discovered-list li', (lis) => lis.map((li) => li.dataset.device));

    // The firmware withdraws its config (an empty retained message): the device is gone.
    await stack.witness.publish(HA_DISCOVERY_TOPIC, '', { retain: true });
    await page.waitForFunction(
      (d) => document.querySelector<HTMLElement>(`.discovered-card[data-device="${d}"]`)?.dataset.gone === 'true',
      HA_DEVICE.id,
      { timeout: 20_000, polling: 50 },
    );
    expect(await listed()).toEqual([LAMP]);
    const form = `#discovered-forms live-device-form[device="${HA_DEVICE.id}"]`;
    await page.waitForFunction(
      (sel) => document.querySelector<HTMLElementTagNameMap['live-device-form']>(sel)?.state === 'gone',
      form,
      {
        timeout: 20_000,
        polling: 50,
      },
    );

    // It announces itself again: listed again, and the same form is live again.
    const config = JSON.stringify(videoprocDiscoveryConfig(stack.demo.simulator.device));
    await stack.witness.publish(HA_DISCOVERY_TOPIC, config, { retain: true });
    await discoveredLive(page, HA_DEVICE.id);
    await page.waitForFunction(
      (d) => document.querySelector<HTMLElement>(`.discovered-card[data-device="${d}"]`)?.dataset.gone === undefined,
      HA_DEVICE.id,
      { timeout: 20_000, polling: 50 },
    );
    expect(await listed()).toEqual([LAMP, HA_DEVICE.id]);
    expect(await page.locator('#discovered-forms live-device-form').count()).toBe(2);
  });

  it("the control API's lamp endpoint refuses what the lamp cannot take, with a reason", async () => {
    stack = await startStack({ viaProxy: false });
    const post = (body: unknown) =>
      fetch(new URL('/demo/api/lamp', stack!.demo.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    expect(await post({ state: 'DIM' })).toEqual({
      status: 400,
      body: { error: 'state must be "ON", "OFF" or "TOGGLE", got "DIM"' },
    });
    expect(await post({ brightness: '100' })).toMatchObject({ status: 400 });
    expect(await post({ linkquality: 3 })).toMatchObject({ status: 400 });
    expect(stack.demo.lamp.state).toMatchObject({ state: 'ON', brightness: 180 });
    expect(await post({ state: 'OFF', brightness: 20 })).toMatchObject({
      status: 200,
      body: { state: 'OFF', brightness: 20 },
    });
  });
});
