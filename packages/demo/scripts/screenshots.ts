/**
 * Refreshes the README's images in docs/images/ from a real run of the demo (embedded broker,
 * simulator, server, headless Debian Chromium through the testkit):
 *
 *   npx -y pnpm@10.34.9 --filter live-device-form-demo run screenshots
 *
 * Look at them before committing: they are what an evaluator sees first.
 */
import { fileURLToPath } from 'node:url';
import { captureStates } from '../e2e/capture.js';

const out = fileURLToPath(new URL('../../../docs/images/', import.meta.url));
// Laid out at 1360×860 CSS pixels, stored at 0.7 of that: about what a README column shows anyway.
const files = await captureStates(out, { viewport: { width: 1360, height: 860 }, scale: 0.7 });
for (const f of files) console.log(`wrote ${f}`);
