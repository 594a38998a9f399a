/**
 * Colours from the editor's theme. VS Code sets `--vscode-*` CSS variables on the webview's
 * root and a `vscode-light|dark|high-contrast` class on the body; the panel reads them at draw
 * time (never caches across a theme change) and redraws when the body class changes.
 */

export interface Palette {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  fg: string;
  muted: string;
  bg: string;
  grid: string;
  border: string;
  accent: string;
  /** Series colours, distinct from each other and readable on `bg`. */
  series: string[];
  good: string;
  bad: string;
  warn: string;
  font: string;
  fontSize: number;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

/** The current theme kind from the body class. */
export function themeKind(): Palette['kind'] {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

/** Red, green, blue (0..255) of `#rgb`, `#rrggbb` or `rgb(a)(…)`; null for anything else. */
export function rgbOf(color: string): [number, number, number] | null {
  const c = color.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex) {
    let h = hex[1]!;
    if (h.length === 3 || h.length === 4) h = h.split('').map((x) => x + x).join('');
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (rgb) {
    const [r, g, b] = rgb[1]!.split(',').map((x) => parseFloat(x));
    return [r!, g!, b!];
  }
  return null;
}

function luminance([r, g, b]: [number, number, number]): number {
  const f = (v: number) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** WCAG contrast ratio of two colours. */
export function contrast(a: [number, number, number], b: [number, number, number]): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/**
 * `color`, darkened (on a light background) or lightened (on a dark one) just enough to reach
 * `ratio` against `bg` — WCAG 1.4.11 asks 3:1 for lines and marks. Theme colours such as the
 * charts' yellow are made for dark editors and vanish on white without this.
 */
export function ensureContrast(color: string, bg: string, ratio = 3): string {
  const c = rgbOf(color);
  const b = rgbOf(bg);
  if (!c || !b || contrast(c, b) >= ratio) return color;
  const toward = luminance(b) > 0.4 ? 0 : 255;
  for (let t = 0.05; t <= 1.0001; t += 0.05) {
    const m = c.map((v) => Math.round(v + (toward - v) * t)) as [number, number, number];
    if (contrast(m, b) >= ratio) return `rgb(${m[0]}, ${m[1]}, ${m[2]})`;
  }
  return toward ? '#ffffff' : '#000000';
}

/** Reads the palette now. */
export function readPalette(): Palette {
  const s = getComputedStyle(document.documentElement);
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const fg = cssVar(s, '--vscode-editor-foreground', light ? '#333333' : '#cccccc');
  const hc = kind.startsWith('high-contrast');
  // Lines are drawn on the cards, whose background is the widget's.
  const cardBg = cssVar(s, '--vscode-editorWidget-background', cssVar(s, '--vscode-editor-background', light ? '#ffffff' : '#1e1e1e'));
  const line = (c: string) => ensureContrast(c, cardBg, 3);
  return {
    kind,
    fg,
    muted: cssVar(s, '--vscode-descriptionForeground', light ? '#717171' : '#9d9d9d'),
    bg: cardBg,
    grid: hc ? cssVar(s, '--vscode-contrastBorder', fg) : cssVar(s, '--vscode-editorWidget-border', light ? '#e5e5e5' : '#454545'),
    border: cssVar(s, '--vscode-panel-border', light ? '#e5e5e5' : '#2b2b2b'),
    accent: cssVar(s, '--vscode-charts-blue', light ? '#1a85ff' : '#3794ff'),
    series: [
      line(cssVar(s, '--vscode-charts-blue', '#3794ff')),
      line(cssVar(s, '--vscode-charts-orange', '#d18616')),
      line(cssVar(s, '--vscode-charts-green', '#89d185')),
      line(cssVar(s, '--vscode-charts-purple', '#b180d7')),
      line(cssVar(s, '--vscode-charts-red', '#f14c4c')),
      line(cssVar(s, '--vscode-charts-yellow', '#cca700')),
    ],
    good: line(cssVar(s, '--vscode-charts-green', '#89d185')),
    bad: line(cssVar(s, '--vscode-charts-red', '#f14c4c')),
    warn: line(cssVar(s, '--vscode-charts-yellow', '#cca700')),
    font: cssVar(s, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(cssVar(s, '--vscode-font-size', '13')) || 13,
  };
}

/** `#rrggbb` or `rgb(…)` with an alpha. */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex) {
    let h = hex[1]!;
    if (h.length === 3 || h.length === 4) h = h.split('').map((x) => x + x).join('');
    const r = parseInt(h.slice(0, 2), 16);
    const g = parseInt(h.slice(2, 4), 16);
    const b = parseInt(h.slice(4, 6), 16);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (rgb) {
    const [r, g, b] = rgb[1]!.split(',').map((x) => x.trim());
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return c;
}

/**
 * A sequential colour scale for heatmaps and parallel coordinates (viridis stops): perceptually
 * even, readable for colour-blind users, and distinct on dark and light backgrounds.
 */
const VIRIDIS = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** Colour for t in [0, 1]. */
export function scaleColor(t: number, alpha = 1): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f));
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}

/**
 * Calls `fn` (once per frame at most) whenever the theme changes: VS Code swaps the body class
 * and rewrites the `--vscode-*` variables on the root element's style.
 */
export function onThemeChange(fn: () => void): void {
  let last = document.body.className + '|' + (document.documentElement.getAttribute('style') ?? '');
  let queued = false;
  const check = () => {
    const now = document.body.className + '|' + (document.documentElement.getAttribute('style') ?? '');
    if (now === last || queued) return;
    last = now;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
  const mo = new MutationObserver(check);
  mo.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}
