/**
 * Zero-config end to end in a real browser (docs/discovery.md, "Try it"): the bin as shipped with
 * `--discover homeassistant` and no device file, against a real Mosquitto 2 holding an ESPHome
 * node's retained discovery configs (the testkit's shared fixture: a number, a switch, a select, a
 * sensor and a button); a page on another origin with one `<script type="module">` from the bin and
 * one `<live-device-form device="ID">`, in Debian's Chromium. The page shows the discovered fields,
 * and what the user changes reaches the broker as ESPHome reads it (a plain mqtt.js witness).
 *
 * Runs whenever Mosquitto is installed, and always in CI (where a missing Mosquitto fails it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HA_ESPHOME,
  buildCliWithBundle,
  launchChromium,
  listeningUrl,
  runCli,
  runMosquittoTests,
  startMosquitto,
  startWitness,
  stopCliProcesses,
} from '@live-device-form/testkit';

beforeAll(buildCliWithBundle, 120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DEVICE = 'dc1ed51d797c';
const NODE = 'pac-1d797c';
/** The node's retained state and availability, beside its configs. */
const STATE: [string, string][] = [
  [`${NODE}/status`, 'online'],
  [`${NODE}/number/pac_fan_speed_limit/state`, '65'],
  [`${NODE}/state/mild_dry`, 'OFF'],
  [`${NODE}/state/vertical_swing_mode`, 'auto'],
  [`${NODE}/sensor/pac_outside_temperature/state`, '-3.5'],
];
/** Where the node reads each command, and where it echoes it (ESPHome publishes the new state). */
const ECHO: Record<string, string> = {
  [`${NODE}/number/pac_fan_speed_limit/command`]: `${NODE}/number/pac_fan_speed_limit/state`,
  [`${NODE}/command/mild_dry`]: `${NODE}/state/mild_dry`,
  [`${NODE}/command/vertical_swing_mode`]: `${NODE}/state/vertical_swing_mode`,
};

describe.runIf(runMosquittoTests)('live-device-server --discover homeassistant, a page in Chromium', () => {
  it('shows the discovered fields of an ESPHome node, and the number, switch, select and button the user works reach the broker', async () => {
    const mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.close());
    const witness = await startWitness(mosquitto.url, [`${NODE}/+/+/command`, `${NODE}/command/+`]);
    cleanups.push(() => witness.close());
    for (const { topic, payload } of HA_ESPHOME) await witness.publish(topic, payload, { retain: true });
    for (const [topic, payload] of STATE) await witness.publish(topic, payload, { retain: true });
    // The node: every command it reads, it applies and publishes as its state.
    witness.client.on('message', (topic, payload) => {
      const state = ECHO[topic];
      if (state) void witness.publish(state, payload.toString(), { retain: true });
    });

    // The page's server first: the bin must allow its origin.
    let base = '';
    const pages = http.createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><meta charset="utf-8">` +
            `<script type="module" src="${base}/live-device-form.bundle.js"></script>` +
            `<live-device-form device="${DEVICE}" src="${base.replace('http:', 'ws:')}/live"></live-device-form>`,
        );
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => pages.close(() => resolve())));
    const pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

    const cli = runCli(['--mqtt', mosquitto.url, '--discover', 'homeassistant', '--port', '0', '--origin', pageOrigin]);
    expect(await cli.line(/^discovered /)).toBe(`discovered homeassistant device "${DEVICE}" with 5 fields`);
    base = `http://127.0.0.1:${new URL(await listeningUrl(cli)).port}`;

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(pageOrigin);
    const form = (selector: string) => page.locator(`live-device-form ${selector}`);

    // The discovered fields, with their labels, limits and values.
    const speed = form(`#ldf-pac_fan_speed_limit`);
    await expect.poll(() => speed.inputValue(), { timeout: 15_000, message: problems.join('\n') }).toBe('65');
    expect(await form('[part~=label]').allTextContents()).toEqual([
      'pac fan speed limit',
      'pac vertical swing mode',
      'pac outside temperature',
      'pac mild dry switch',
    ]);
    expect(await speed.evaluate((el: { min: string; max: string; step: string }) => [el.min, el.max, el.step])).toEqual(
      ['20', '100', '5'],
    );
    expect(await form('#ldf-pac_outside_temperature').textContent()).toContain('-3.5');
    expect(await form('#ldf-pac_vertical_swing_mode').inputValue()).toBe('auto');
    const restart = form('#ldf-pac_restart');
    expect(
      await restart.evaluate((el: { tagName: string; textContent: string | null }) => [el.tagName, el.textContent]),
    ).toEqual(['BUTTON', 'pac restart']);
    const dry = form('#ldf-pac_mild_dry_switch');
    expect(await dry.isChecked()).toBe(false);

    // The user sets the number, toggles the switch, picks an option, presses the button.
    let mark = witness.mark();
    await speed.fill('75');
    await speed.press('Enter');
    expect(
      await witness.waitFor((m) => m.topic === `${NODE}/number/pac_fan_speed_limit/command`, 'the number', {
        from: mark,
      }),
    ).toMatchObject({ payload: '75', retain: false });

    mark = witness.mark();
    await dry.click();
    expect(
      await witness.waitFor((m) => m.topic === `${NODE}/command/mild_dry`, 'the switch', { from: mark }),
    ).toMatchObject({
      payload: 'ON',
    });
    // The node's echo shows in the page.
    await expect.poll(() => dry.isChecked(), { timeout: 10_000 }).toBe(true);

    mark = witness.mark();
    await form('#ldf-pac_vertical_swing_mode').selectOption('down');
    expect(
      await witness.waitFor((m) => m.topic === `${NODE}/command/vertical_swing_mode`, 'the select', { from: mark }),
    ).toMatchObject({ payload: 'down' });

    mark = witness.mark();
    await restart.click();
    expect(
      await witness.waitFor((m) => m.topic === `${NODE}/button/pac_restart/command`, 'the button', { from: mark }),
    ).toMatchObject({ payload: 'PRESS' });

    // Exactly those four commands, each once.
    expect(witness.messages.map((m) => `${m.topic} ${m.payload}`)).toEqual([
      `${NODE}/number/pac_fan_speed_limit/command 75`,
      `${NODE}/command/mild_dry ON`,
      `${NODE}/command/vertical_swing_mode down`,
      `${NODE}/button/pac_restart/command PRESS`,
    ]);
    expect(problems).toEqual([]);
  }, 90_000);
});
