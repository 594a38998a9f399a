/**
 * The panel's UI components, behind one thin module. @vscode/webview-ui-toolkit is archived;
 * its successor @vscode-elements/elements offers the same kinds of elements under other tag
 * names, so swapping it means changing this file only — nothing else imports the toolkit or
 * names its tags.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Registers the custom elements once (before the first component is created). */
export function registerUi(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeDivider(), vsCodeProgressRing());
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary' | 'icon';
  title?: string;
  onClick: () => void;
}

/** A button in the editor's style. */
export function button(label: string, o: ButtonOptions): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', o.appearance ?? 'secondary');
  if (o.title) b.title = o.title;
  b.addEventListener('click', (ev) => {
    ev.stopPropagation();
    o.onClick();
  });
  return b;
}

/** Enables or disables a component created here. */
export function setDisabled(el: HTMLElement, disabled: boolean): void {
  el.toggleAttribute('disabled', disabled);
}

export interface DropdownOption {
  value: string;
  label: string;
}

/** A dropdown; `onChange` gets the chosen value. The returned element keeps its options replaceable via {@link setDropdownOptions}. */
export function dropdown(options: DropdownOption[], value: string, onChange: (value: string) => void, ariaLabel: string): HTMLElement {
  const d = document.createElement('vscode-dropdown');
  d.setAttribute('aria-label', ariaLabel);
  d.addEventListener('change', () => onChange((d as unknown as { value: string }).value));
  setDropdownOptions(d, options, value);
  return d;
}

/** Replaces a dropdown's options (when new parameters or metrics appear mid-run). */
export function setDropdownOptions(d: HTMLElement, options: DropdownOption[], value: string): void {
  const key = JSON.stringify([options, value]);
  if (d.dataset['key'] === key) return;
  d.dataset['key'] = key;
  d.replaceChildren(
    ...options.map((o) => {
      const opt = document.createElement('vscode-option');
      opt.setAttribute('value', o.value);
      opt.textContent = o.label;
      if (o.value === value) opt.setAttribute('selected', '');
      return opt;
    }),
  );
  (d as unknown as { value: string }).value = value;
}

/**
 * A small count or state badge. Ours rather than the toolkit's: `<vscode-badge>` renders an
 * inline `style` attribute, which the panel's CSP (no 'unsafe-inline') blocks.
 */
export function badge(text: string, title?: string): HTMLElement {
  const b = document.createElement('span');
  b.className = 'badge';
  b.textContent = text;
  if (title) b.title = title;
  return b;
}

/** A horizontal rule in the editor's style. */
export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

/** An indeterminate spinner (a run starting, a trial being re-run). */
export function spinner(): HTMLElement {
  const s = document.createElement('vscode-progress-ring');
  s.classList.add('spinner');
  return s;
}
