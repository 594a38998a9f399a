/**
 * A recording 2-D context that writes SVG: the subset of CanvasRenderingContext2D that Chart.js
 * and the panel's own canvases use (paths, arcs, rectangles, text, transforms, clipping, dashes),
 * so "Save as SVG" re-draws a chart as vectors rather than wrapping a bitmap. Coordinates are
 * transformed as they are recorded; text keeps its own transform so rotated titles stay text.
 */

type M = [number, number, number, number, number, number];

interface State {
  m: M;
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineDash: number[];
  globalAlpha: number;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  lineCap: CanvasLineCap;
  lineJoin: CanvasLineJoin;
  /** Groups opened by clip() at this save level. */
  clips: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number) => (Math.abs(v) < 1e-9 ? '0' : String(Math.round(v * 100) / 100));

export class SvgContext {
  readonly canvas: { width: number; height: number; style: Record<string, string>; getContext: () => SvgContext; addEventListener(): void; removeEventListener(): void };
  private s: State;
  private readonly stack: State[] = [];
  private out: string[] = [];
  private defs: string[] = [];
  private path = '';
  private clipId = 0;
  private static seq = 0;
  /** Clip ids unique across the canvases of one exported card. */
  private readonly prefix = `s${++SvgContext.seq}`;
  private readonly measurer = document.createElement('canvas').getContext('2d')!;
  globalCompositeOperation = 'source-over';
  lineDashOffset = 0;
  miterLimit = 10;
  shadowBlur = 0;
  shadowColor = 'transparent';
  shadowOffsetX = 0;
  shadowOffsetY = 0;
  imageSmoothingEnabled = true;

  constructor(readonly width: number, readonly height: number) {
    this.canvas = { width, height, style: {}, getContext: () => this, addEventListener() {}, removeEventListener() {} };
    this.s = { m: [1, 0, 0, 1, 0, 0], fillStyle: '#000', strokeStyle: '#000', lineWidth: 1, lineDash: [], globalAlpha: 1, font: '10px sans-serif', textAlign: 'start', textBaseline: 'alphabetic', lineCap: 'butt', lineJoin: 'miter', clips: 0 };
  }

  // ---- state ----
  get fillStyle(): string { return this.s.fillStyle; }
  set fillStyle(v: string | CanvasGradient | CanvasPattern) { if (typeof v === 'string') this.s.fillStyle = v; }
  get strokeStyle(): string { return this.s.strokeStyle; }
  set strokeStyle(v: string | CanvasGradient | CanvasPattern) { if (typeof v === 'string') this.s.strokeStyle = v; }
  get lineWidth(): number { return this.s.lineWidth; }
  set lineWidth(v: number) { this.s.lineWidth = v; }
  get globalAlpha(): number { return this.s.globalAlpha; }
  set globalAlpha(v: number) { this.s.globalAlpha = v; }
  get font(): string { return this.s.font; }
  set font(v: string) { this.s.font = v; }
  get textAlign(): CanvasTextAlign { return this.s.textAlign; }
  set textAlign(v: CanvasTextAlign) { this.s.textAlign = v; }
  get textBaseline(): CanvasTextBaseline { return this.s.textBaseline; }
  set textBaseline(v: CanvasTextBaseline) { this.s.textBaseline = v; }
  get lineCap(): CanvasLineCap { return this.s.lineCap; }
  set lineCap(v: CanvasLineCap) { this.s.lineCap = v; }
  get lineJoin(): CanvasLineJoin { return this.s.lineJoin; }
  set lineJoin(v: CanvasLineJoin) { this.s.lineJoin = v; }

  save(): void {
    this.stack.push(this.s);
    this.s = { ...this.s, m: [...this.s.m] as M, lineDash: [...this.s.lineDash], clips: 0 };
  }

  restore(): void {
    for (let i = 0; i < this.s.clips; i++) this.out.push('</g>');
    this.s = this.stack.pop() ?? this.s;
  }

  setLineDash(d: number[]): void { this.s.lineDash = [...d]; }
  getLineDash(): number[] { return [...this.s.lineDash]; }

  // ---- transforms ----
  setTransform(a: number | DOMMatrix2DInit = 1, b = 0, c = 0, d = 1, e = 0, f = 0): void {
    if (typeof a === 'object') this.s.m = [a.a ?? 1, a.b ?? 0, a.c ?? 0, a.d ?? 1, a.e ?? 0, a.f ?? 0];
    else this.s.m = [a, b, c, d, e, f];
  }
  resetTransform(): void { this.s.m = [1, 0, 0, 1, 0, 0]; }
  getTransform(): DOMMatrix { const [a, b, c, d, e, f] = this.s.m; return new DOMMatrix([a, b, c, d, e, f]); }
  transform(a: number, b: number, c: number, d: number, e: number, f: number): void {
    const [A, B, C, D, E, F] = this.s.m;
    this.s.m = [A * a + C * b, B * a + D * b, A * c + C * d, B * c + D * d, A * e + C * f + E, B * e + D * f + F];
  }
  translate(x: number, y: number): void { this.transform(1, 0, 0, 1, x, y); }
  scale(x: number, y: number): void { this.transform(x, 0, 0, y, 0, 0); }
  rotate(a: number): void { this.transform(Math.cos(a), Math.sin(a), -Math.sin(a), Math.cos(a), 0, 0); }

  private pt(x: number, y: number): string {
    const [a, b, c, d, e, f] = this.s.m;
    return `${n(a * x + c * y + e)} ${n(b * x + d * y + f)}`;
  }
  private get unit(): number {
    const [a, b] = this.s.m;
    return Math.hypot(a, b) || 1;
  }

  // ---- paths ----
  beginPath(): void { this.path = ''; }
  moveTo(x: number, y: number): void { this.path += `M${this.pt(x, y)}`; }
  lineTo(x: number, y: number): void { this.path += `${this.path ? 'L' : 'M'}${this.pt(x, y)}`; }
  closePath(): void { this.path += 'Z'; }
  quadraticCurveTo(cx: number, cy: number, x: number, y: number): void { this.path += `Q${this.pt(cx, cy)} ${this.pt(x, y)}`; }
  bezierCurveTo(c1x: number, c1y: number, c2x: number, c2y: number, x: number, y: number): void { this.path += `C${this.pt(c1x, c1y)} ${this.pt(c2x, c2y)} ${this.pt(x, y)}`; }
  rect(x: number, y: number, w: number, h: number): void { this.path += `M${this.pt(x, y)}L${this.pt(x + w, y)}L${this.pt(x + w, y + h)}L${this.pt(x, y + h)}Z`; }
  roundRect(x: number, y: number, w: number, h: number): void { this.rect(x, y, w, h); }
  arc(x: number, y: number, r: number, start: number, end: number, ccw = false): void {
    let sweep = ccw ? start - end : end - start;
    if (sweep < 0 || sweep >= 2 * Math.PI) sweep = Math.min(2 * Math.PI, ((sweep % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI) || 2 * Math.PI);
    const at = (t: number) => this.pt(x + r * Math.cos(t), y + r * Math.sin(t));
    const R = n(r * this.unit);
    this.path += `${this.path ? 'L' : 'M'}${at(start)}`;
    // Two halves, so a full circle is drawn (one SVG arc cannot start and end at the same point).
    const dir = ccw ? -1 : 1;
    const mid = start + (dir * sweep) / 2;
    const flag = ccw ? 0 : 1;
    this.path += `A${R} ${R} 0 0 ${flag} ${at(mid)}A${R} ${R} 0 0 ${flag} ${at(start + dir * sweep)}`;
  }
  ellipse(x: number, y: number, rx: number, _ry: number, _rot: number, start: number, end: number, ccw = false): void { this.arc(x, y, rx, start, end, ccw); }

  private paint(kind: 'fill' | 'stroke', d: string): void {
    if (!d) return;
    const color = kind === 'fill' ? this.s.fillStyle : this.s.strokeStyle;
    if (color === 'transparent' || color === 'rgba(0,0,0,0)') return;
    const alpha = this.s.globalAlpha < 1 ? ` ${kind}-opacity="${n(this.s.globalAlpha)}"` : '';
    if (kind === 'fill') this.out.push(`<path d="${d}" fill="${esc(color)}"${alpha}/>`);
    else {
      const dash = this.s.lineDash.length ? ` stroke-dasharray="${this.s.lineDash.map((x) => n(x * this.unit)).join(' ')}"` : '';
      this.out.push(`<path d="${d}" fill="none" stroke="${esc(color)}" stroke-width="${n(this.s.lineWidth * this.unit)}" stroke-linecap="${this.s.lineCap}" stroke-linejoin="${this.s.lineJoin}"${dash}${alpha}/>`);
    }
  }
  fill(): void { this.paint('fill', this.path); }
  stroke(): void { this.paint('stroke', this.path); }
  fillRect(x: number, y: number, w: number, h: number): void {
    const saved = this.path;
    this.path = '';
    this.rect(x, y, w, h);
    this.paint('fill', this.path);
    this.path = saved;
  }
  strokeRect(x: number, y: number, w: number, h: number): void {
    const saved = this.path;
    this.path = '';
    this.rect(x, y, w, h);
    this.paint('stroke', this.path);
    this.path = saved;
  }
  clearRect(x: number, y: number, w: number, h: number): void {
    // A full clear starts the drawing again (Chart.js clears before every draw).
    if (x <= 0 && y <= 0 && x + w >= this.width - 1 && y + h >= this.height - 1 && this.s.m[0] === 1) this.out = [];
  }
  clip(): void {
    const id = `${this.prefix}clip${++this.clipId}`;
    this.defs.push(`<clipPath id="${id}"><path d="${this.path}"/></clipPath>`);
    this.out.push(`<g clip-path="url(#${id})">`);
    this.s.clips++;
  }

  // ---- text ----
  measureText(text: string): TextMetrics {
    this.measurer.font = this.s.font;
    return this.measurer.measureText(text);
  }
  fillText(text: string, x: number, y: number): void {
    const anchor = { left: 'start', start: 'start', center: 'middle', right: 'end', end: 'end' }[this.s.textAlign] ?? 'start';
    const base = { top: 'text-before-edge', hanging: 'hanging', middle: 'central', alphabetic: 'alphabetic', ideographic: 'ideographic', bottom: 'text-after-edge' }[this.s.textBaseline] ?? 'alphabetic';
    const [a, b, c, d, e, f] = this.s.m;
    const alpha = this.s.globalAlpha < 1 ? ` fill-opacity="${n(this.s.globalAlpha)}"` : '';
    this.out.push(`<text transform="matrix(${[a, b, c, d, e, f].map(n).join(' ')})" x="${n(x)}" y="${n(y)}" fill="${esc(this.s.fillStyle)}" style="font: ${esc(this.s.font)}" text-anchor="${anchor}" dominant-baseline="${base}"${alpha}>${esc(String(text))}</text>`);
  }
  strokeText(): void {}
  drawImage(): void {}
  createLinearGradient(): CanvasGradient { return { addColorStop() {} } as unknown as CanvasGradient; }
  createRadialGradient(): CanvasGradient { return this.createLinearGradient(); }
  createPattern(): null { return null; }
  isPointInPath(): boolean { return false; }
  getImageData(): ImageData { return new ImageData(1, 1); }
  putImageData(): void {}

  /** The recorded drawing as a standalone SVG document, on `background`. */
  toSvg(background?: string): string {
    const bg = background ? `<rect width="100%" height="100%" fill="${esc(background)}"/>` : '';
    const open = this.out.filter((x) => x.startsWith('<g clip')).length - this.out.filter((x) => x === '</g>').length;
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}"><defs>${this.defs.join('')}</defs>${bg}${this.out.join('')}${'</g>'.repeat(Math.max(0, open))}</svg>`;
  }

  /** The drawing's elements without the document wrapper (to place several canvases in one SVG). */
  body(): { defs: string; content: string } {
    const open = this.out.filter((x) => x.startsWith('<g clip')).length - this.out.filter((x) => x === '</g>').length;
    return { defs: this.defs.join(''), content: this.out.join('') + '</g>'.repeat(Math.max(0, open)) };
  }
}
