import { CUSTOM_ELEMENTS_SCHEMA, Component, signal } from '@angular/core';
import type { AckDetail } from '@live-device-form/element';

const params = new URLSearchParams(location.search);

/**
 * One device form rendered from the schema, and one of your own inputs in bound mode.
 * `CUSTOM_ELEMENTS_SCHEMA` lets the template use <live-device-form>; with strict templates,
 * `$event` of `(ldf-ack)` is typed `CustomEvent<AckDetail>` from the element's own typings
 * (HTMLElementTagNameMap and HTMLElementEventMap), so the handler needs no cast.
 */
@Component({
  selector: 'app-root',
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  template: `
    <main>
      <h1>Video processor</h1>

      <!-- Rendered from the device's schema. -->
      <live-device-form id="auto" [src]="src" device="videoproc" (ldf-ack)="onAck($event)"></live-device-form>
      <p>
        Last write: <span id="last-ack">{{ lastAck() }}</span>
      </p>

      <!-- Bound mode: your own input, with no [value] and no [(ngModel)]. The element owns its value;
           read the device's values from (ldf-update) / (ldf-ack). -->
      <live-device-form id="bound" [src]="src" device="videoproc">
        <label>Phase H <input name="genlock_phase_h" type="number" /></label>
      </live-device-form>

      <button type="button" id="rerender" (click)="renders.set(renders() + 1)">Re-render</button>
      <span id="renders">{{ renders() }}</span>
    </main>
  `,
})
export class App {
  /** The CLI's WebSocket endpoint; `?src=` overrides it (the example's test uses its own port). */
  readonly src = params.get('src') ?? 'ws://127.0.0.1:8080/live';
  readonly lastAck = signal<AckDetail['status'] | ''>('');
  readonly renders = signal(1);

  onAck(e: CustomEvent<AckDetail>): void {
    this.lastAck.set(e.detail.status);
  }
}
