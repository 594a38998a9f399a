/**
 * One tooltip for every chart: a positioned box of text lines (a trial's number, score and
 * parameters). Lines are set with `textContent`, so parameter values and error messages are
 * shown as typed, never interpreted.
 */
import { el } from './dom';

let tip: HTMLElement | null = null;

function box(): HTMLElement {
  if (!tip) {
    tip = el('div', 'chart-tip');
    tip.setAttribute('role', 'tooltip');
    tip.hidden = true;
    document.body.append(tip);
  }
  return tip;
}

/** Shows `lines` (the first in bold) near the page point (clientX, clientY). */
export function showTip(lines: string[], clientX: number, clientY: number): void {
  const t = box();
  t.replaceChildren(...lines.map((l, i) => el(i === 0 ? 'strong' : 'div', undefined, l)));
  t.hidden = false;
  const w = t.offsetWidth;
  const h = t.offsetHeight;
  const x = clientX + 14 + w > window.innerWidth ? clientX - 14 - w : clientX + 14;
  const y = Math.min(window.innerHeight - h - 4, Math.max(4, clientY - h / 2));
  t.style.transform = `translate(${Math.max(4, x) + window.scrollX}px, ${y + window.scrollY}px)`;
}

export function hideTip(): void {
  if (tip) tip.hidden = true;
}
