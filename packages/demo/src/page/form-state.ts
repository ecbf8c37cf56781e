/**
 * A pill that shows a `<live-device-form>`'s connection state (`ldf-state`), coloured by tone:
 * `ok` when live, `bad` when reconnecting or failed, `wait` otherwise.
 * @module
 */
import type { LiveDeviceForm } from '@live-device-form/element';

/** Keeps `pill`'s text and `data-tone` in step with `form`'s state. */
export function showFormState(form: LiveDeviceForm, pill: HTMLElement): void {
  form.addEventListener('ldf-state', (e) => {
    const { state } = e.detail;
    pill.textContent = state;
    pill.dataset.tone = state === 'live' ? 'ok' : state === 'reconnecting' || state === 'failed' ? 'bad' : 'wait';
  });
}
