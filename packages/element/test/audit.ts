/**
 * axe-core in the page: the accessibility audit of the element's suites (a11y.test.ts, and the
 * suites of field types that a11y.test.ts's default device does not have).
 */
import { emulateMedia } from '@web/test-runner-commands';
import type * as Axe from 'axe-core';
import 'axe-core/axe.min.js'; // a UMD script: registers `window.axe`
import type { LiveDeviceForm } from '../src/live-device-form.js';

declare const axe: typeof Axe;

/** axe's serious and critical violations inside `el`, in the light and then the dark theme. */
export async function audit(el: LiveDeviceForm): Promise<Record<'light' | 'dark', string[]>> {
  const found = { light: [] as string[], dark: [] as string[] };
  for (const colorScheme of ['light', 'dark'] as const) {
    await emulateMedia({ colorScheme });
    const { violations } = await axe.run(el, { resultTypes: ['violations'] });
    for (const v of violations) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue;
      for (const n of v.nodes) found[colorScheme].push(`${v.id} (${v.impact}) ${n.html}: ${n.failureSummary}`);
    }
  }
  await emulateMedia({ colorScheme: 'light' });
  return found;
}
