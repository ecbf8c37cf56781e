import { css } from 'lit';

/**
 * The look of a note and its conflict buttons, shared by the element's shadow root (rendered
 * fields) and the shadow root of each note it places beside a bound control in the page
 * (`fields/bound-notes.ts`). The `--_*` colours are set on the element's host and inherited.
 *
 * Every text colour of the light and dark defaults is at least 4.5:1 (WCAG AA, small text) on the
 * element's, an input's and a read-only box's background: muted 5.17:1, success 4.59:1, warning
 * 4.67:1 and danger 5.41:1 at worst (light, on `#f3f5f8`); the dark theme is higher. axe checks
 * it in every state (test/a11y.test.ts).
 */
export const noteStyles = css`
  [part~='note'] {
    margin-top: 6px;
    font-size: 0.86em;
    color: var(--_muted);
  }
  [part~='note']:empty {
    display: none;
  }
  .rejected,
  .conflict,
  .invalid {
    color: var(--_bad);
  }
  .unconfirmed,
  .pending {
    color: var(--_warn);
  }
  .choice {
    display: inline-flex;
    flex-wrap: wrap;
    gap: 8px;
    margin-left: 8px;
  }
  button {
    height: 28px;
    padding: 0 12px;
    font: inherit;
    font-size: 0.95em;
    color: var(--_fg);
    border: 1px solid var(--_border);
    border-radius: var(--_r);
    background: var(--_field);
    cursor: pointer;
  }
  [part~='apply-button'] {
    border-color: transparent;
    background: var(--_accent);
    color: var(--_on-accent);
  }
  :focus-visible {
    outline: 2px solid var(--ldf-focus-color, var(--_accent));
    outline-offset: 2px;
  }
`;

/**
 * The shadow root of a note beside a bound control: it adds no box of its own (`display:
 * contents`), so an empty note takes no room in the page's layout.
 */
export const boundNoteStyles = [
  css`
    :host {
      display: contents;
    }
  `,
  noteStyles,
];

/**
 * Default look: a quiet settings card. Each colour is an internal `--_*` variable taken from a
 * public `--ldf-*` custom property, falling back to a light or dark default by
 * `prefers-color-scheme`; every visible piece is also a `::part()`.
 *
 * Locked controls are dimmed by colour, never by opacity: boxes and selects show muted text on the
 * read-only background (5.17:1 light, 6.10:1 dark), so their value stays readable at WCAG AA;
 * sliders and switches, which show no text, fade to 60 %.
 */
export const styles = css`
  ${noteStyles}
  :host {
    --_fg: var(--ldf-color, #1b2330);
    --_muted: var(--ldf-muted-color, #5d6878);
    --_bg: var(--ldf-background, #fff);
    --_field: var(--ldf-field-background, #fff);
    --_ro: var(--ldf-readonly-background, #f3f5f8);
    --_line: var(--ldf-divider-color, #eef1f5);
    --_border: var(--ldf-border-color, #d4dae2);
    --_accent: var(--ldf-accent-color, #2563eb);
    --_on-accent: var(--ldf-accent-contrast, #fff);
    --_ok: var(--ldf-success-color, #16803c);
    --_warn: var(--ldf-warning-color, #9a6200);
    --_bad: var(--ldf-danger-color, #c0262d);
    --_r: var(--ldf-radius, 8px);
    --_h: var(--ldf-control-height, 32px);
    --_dot: var(--_warn);
    display: block;
    container-type: inline-size;
    padding: var(--ldf-padding, 14px 18px);
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_r) + 4px);
    font: var(--ldf-font, 14px/1.45 system-ui, sans-serif);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_fg: var(--ldf-color, #e5e9f0);
      --_muted: var(--ldf-muted-color, #9aa5b4);
      --_bg: var(--ldf-background, #161b22);
      --_field: var(--ldf-field-background, #0d1117);
      --_ro: var(--ldf-readonly-background, #21262d);
      --_line: var(--ldf-divider-color, #21262d);
      --_border: var(--ldf-border-color, #363e48);
      --_accent: var(--ldf-accent-color, #4c8dff);
      --_on-accent: var(--ldf-accent-contrast, #0d1117);
      --_ok: var(--ldf-success-color, #3fb950);
      --_warn: var(--ldf-warning-color, #e3b341);
      --_bad: var(--ldf-danger-color, #ff7b72);
    }
  }
  :host([hidden]) {
    display: none;
  }
  * {
    box-sizing: border-box;
  }

  [part~='status'] {
    display: flex;
    align-items: center;
    gap: 0 6px;
    margin-bottom: 6px;
    color: var(--_muted);
    font-size: 0.9em;
    font-weight: 500;
  }
  /*
   * The state is styled on the status line's own classes, never on a custom property of the host
   * or on [part]: a change of the host's state attribute then restyles the status line alone, not
   * every element of the form (which a state change on reconnect would otherwise cost in full).
   */
  :host([state='live']) .status {
    --_dot: var(--_ok);
    color: var(--_ok);
  }
  :host([state='failed']) .status {
    --_dot: var(--_bad);
    color: var(--_bad);
  }
  :host([state='offline']) .status,
  :host([state='gone']) .status,
  :host([state='closed']) .status {
    --_dot: var(--_muted);
  }
  [part~='status-dot'] {
    flex: none;
    width: 8px;
    height: 8px;
    border-radius: 50%;
    background: var(--_dot);
  }
  /* Empty, it takes no room; it stays in the tree so its words are announced when they appear. */
  [part~='hint']:not(:empty) {
    margin-bottom: 6px;
    font-size: 0.86em;
  }

  [part~='field'] {
    display: grid;
    grid-template-columns: minmax(7em, var(--ldf-label-width, 11em)) minmax(0, 1fr);
    gap: 0 var(--ldf-gap, 16px);
    align-items: center;
    padding: 10px 0;
    border-top: 1px solid var(--_line);
  }
  [part~='field']:first-child {
    border: 0;
  }
  [part~='label'] {
    font-weight: 500;
  }
  [part~='field'] [part~='note'],
  [part~='help'],
  .action [part~='control'] {
    grid-column: 2;
  }
  [part~='help'] {
    margin-top: 4px;
    font-size: 0.86em;
    color: var(--_muted);
  }
  [part~='control'] {
    display: flex;
    align-items: center;
    gap: 10px;
    min-height: var(--_h);
  }
  @container (max-width: 420px) {
    [part~='field'] {
      grid-template-columns: minmax(0, 1fr);
    }
    [part~='field'] [part~='note'],
    [part~='help'],
    .action [part~='control'] {
      grid-column: 1;
    }
  }

  input,
  select {
    font: inherit;
    color: var(--_fg);
    border: 1px solid var(--_border);
    border-radius: var(--_r);
    background: var(--_field);
    height: var(--_h);
    padding: 0 10px;
    min-width: 0;
  }
  [part~='number'] {
    width: 6.5em;
    flex: none;
    text-align: right;
  }
  [part~='number'],
  [part~='value'] {
    font-variant-numeric: tabular-nums;
  }
  [part~='text'],
  select {
    flex: 1;
    max-width: 22em;
  }
  [part~='slider'] {
    flex: 1;
    min-width: 6em;
    padding: 0;
    margin: 0;
    border: 0;
    background: none;
    accent-color: var(--_accent);
  }
  [part~='unit'] {
    min-width: 2ch;
    color: var(--_muted);
  }

  [part~='switch'] {
    appearance: none;
    position: relative;
    width: 40px;
    height: 22px;
    margin: 0;
    padding: 0;
    flex: none;
    border: 0;
    border-radius: 11px;
    background: var(--_border);
  }
  [part~='switch']::before {
    content: '';
    position: absolute;
    inset: 3px auto auto 3px;
    width: 16px;
    height: 16px;
    border-radius: 50%;
    background: #fff;
    box-shadow: 0 1px 2px #0004;
  }
  [part~='switch']:checked {
    background: var(--_accent);
  }
  [part~='switch']:checked::before {
    translate: 18px;
  }

  [aria-invalid='true'] {
    border-color: var(--_bad);
  }
  [aria-readonly='true'],
  [aria-disabled='true'] {
    cursor: not-allowed;
  }
  [readonly],
  select[aria-readonly='true'] {
    color: var(--_muted);
    background: var(--_ro);
  }
  [part~='slider'][aria-readonly='true'],
  [part~='switch'][aria-readonly='true'],
  [part~='action'][aria-disabled='true'] {
    opacity: 0.6;
  }
  [part~='action'] {
    height: var(--_h);
  }

  @media (prefers-reduced-motion: no-preference) {
    [part~='switch']::before {
      transition: translate 0.15s;
    }
    /* connecting, resyncing, reconnecting */
    :host([state$='ing']) .dot {
      animation: pulse 1.2s infinite;
    }
    @keyframes pulse {
      50% {
        opacity: 0.3;
      }
    }
  }
`;
