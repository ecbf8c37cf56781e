/**
 * The vendor page (vendor.html): the element dropped around an existing form. Nothing here but
 * pointing the element at the server; the page's own inputs are bound by `name`.
 * @module
 */
import '@live-device-form/element';
import type { LiveDeviceForm } from '@live-device-form/element';
import { socketUrl } from './page-id.js';

const form = document.querySelector<LiveDeviceForm>('live-device-form')!;
form.src = socketUrl('element');
