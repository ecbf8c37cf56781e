/**
 * Registers `<live-device-form>`. Importing this module is the side effect; it is safe to import
 * twice (a second definition, e.g. from another bundle, is left in place).
 * @module
 */
import { LiveDeviceForm } from './live-device-form.js';

if (!customElements.get('live-device-form')) customElements.define('live-device-form', LiveDeviceForm);

export { LiveDeviceForm };
