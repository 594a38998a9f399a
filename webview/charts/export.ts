/**
 * "Save as PNG / SVG" on every chart card. PNG: the card's canvases composed at their places,
 * at the screen's resolution, on the card's background. SVG: the same charts re-drawn as
 * vectors through {@link SvgContext} — Chart.js charts by a second, off-screen Chart on the same
 * data, the panel's own canvases by their draw function with the context swapped in. The
 * extension asks where to save (`saveImage`).
 */
import type { Card } from '../dom';
import { readPalette } from '../theme';
import { post } from '../vscode-api';
import { drawInto } from './canvas';
import { Chart } from './chartjs';
import { SvgContext } from './svg-context';
import { BasicPlatform, type ChartConfiguration } from 'chart.js';

/** Canvases shown in a card, with their offsets from the card body's top-left corner. */
function canvases(card: Card): { canvas: HTMLCanvasElement; x: number; y: number; w: number; h: number }[] {
  const origin = card.body.getBoundingClientRect();
  return [...card.body.querySelectorAll('canvas')]
    .filter((c) => c.offsetParent !== null && c.width > 0)
    .map((canvas) => {
      const r = canvas.getBoundingClientRect();
      return { canvas, x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height };
    });
}

function fileName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart';
}

/** The card's canvases as one PNG (base64, no `data:` prefix). */
export function cardPng(card: Card): string {
  const parts = canvases(card);
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, ...parts.map((p) => p.x + p.w));
  const h = Math.max(1, ...parts.map((p) => p.y + p.h));
  const out = document.createElement('canvas');
  out.width = Math.round(w * dpr);
  out.height = Math.round(h * dpr);
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = readPalette().bg;
  ctx.fillRect(0, 0, out.width, out.height);
  for (const p of parts) ctx.drawImage(p.canvas, Math.round(p.x * dpr), Math.round(p.y * dpr), Math.round(p.w * dpr), Math.round(p.h * dpr));
  return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

/** A Chart.js chart re-drawn into a recording context (off-screen, no events, no animation); its SVG body. */
function chartSvg(chart: Chart, svg: SvgContext): { defs: string; content: string } {
  const cfg = chart.config as unknown as ChartConfiguration;
  const data = {
    ...cfg.data,
    // Fresh dataset objects: decimation rewrites a dataset's data in place for its own chart.
    datasets: cfg.data.datasets.map((d) => {
      const { _data, ...rest } = d as typeof d & { _data?: unknown[] };
      return { ...rest, data: [...((_data ?? d.data) as unknown[])] };
    }),
  } as ChartConfiguration['data'];
  const copy = new Chart(svg as unknown as CanvasRenderingContext2D, {
    type: cfg.type,
    data,
    options: { ...cfg.options, responsive: false, animation: false, devicePixelRatio: 1, events: [] },
    plugins: (cfg.plugins ?? []).filter((p) => !/^probe-|^optstudy-tip$/.test(p.id)),
    platform: BasicPlatform,
  } as ChartConfiguration);
  // Read before destroy(): destroying a chart clears its canvas.
  const body = svg.body();
  copy.destroy();
  return body;
}

/** The card's charts as one SVG document. `redraw` re-draws the card's own (non-Chart.js) canvases. */
export function cardSvg(card: Card, redraw?: () => void): string {
  const parts = canvases(card);
  const w = Math.ceil(Math.max(1, ...parts.map((p) => p.x + p.w)));
  const h = Math.ceil(Math.max(1, ...parts.map((p) => p.y + p.h)));
  const defs: string[] = [];
  const groups: string[] = [];
  for (const p of parts) {
    const svg = new SvgContext(Math.round(p.w), Math.round(p.h));
    const chart = Chart.getChart(p.canvas);
    if (!chart && redraw) drawInto(p.canvas.parentElement!, svg as unknown as CanvasRenderingContext2D, Math.round(p.w), Math.round(p.h), redraw);
    const b = chart ? chartSvg(chart, svg) : svg.body();
    defs.push(b.defs);
    groups.push(`<g transform="translate(${Math.round(p.x)} ${Math.round(p.y)})">${b.content}</g>`);
  }
  const bg = readPalette().bg;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><defs>${defs.join('')}</defs><rect width="100%" height="100%" fill="${bg}"/>${groups.join('')}</svg>`;
}

/** Adds "PNG" and "SVG" buttons to a chart card's tools. */
export function addSaveTools(card: Card, name: string, redraw?: () => void): void {
  card.tools.append(saveTools(card, name, redraw));
}

/** The "PNG" and "SVG" buttons of a card (for cards that rebuild their tools). */
export function saveTools(card: Card, name: string, redraw?: () => void): HTMLElement {
  const mk = (format: 'png' | 'svg') => {
    const b = document.createElement('button');
    b.className = 'tool-button save';
    b.textContent = format.toUpperCase();
    b.title = `Save this chart as ${format.toUpperCase()}`;
    b.dataset['format'] = format;
    b.addEventListener('click', () => post({ type: 'saveImage', name: fileName(name), format, data: format === 'png' ? cardPng(card) : cardSvg(card, redraw) }));
    return b;
  };
  const wrap = document.createElement('span');
  wrap.className = 'save-tools';
  wrap.append(mk('png'), mk('svg'));
  return wrap;
}
