/**
 * JSON written straight into a growing byte buffer, byte for byte what `JSON.stringify` gives
 * for the same plain values. A pool worker encodes every trial as a journal line; through
 * `JSON.stringify` each line cost ~6 KB of short-lived strings (the stringifier's doubling
 * parts, the slice and concatenation with the line's head, the flat copy `Buffer.write`
 * needs) — half of a backtest's garbage, and two workers' young-generation collections contend
 * for the same two cores. Here a key is encoded once per worker and integers are written as
 * digits; other numbers, strings and nested values go through JSON.stringify (one short string each).
 */

/** Distinct keys kept encoded; a run has a few dozen metric and parameter names. */
const MAX_KEYS = 4096;
/** `"key":` as UTF-8, per thread: a block builder per chunk would encode them again. */
const KEYS = new Map<string, Buffer>();

export class JsonBytes {
  buf: Buffer;
  used = 0;

  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.used++] = c;
  }

  /** Text known to be ASCII (punctuation, keys of our own). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let u = this.used;
    for (let i = 0; i < n; i++) b[u++] = s.charCodeAt(i);
    this.used = u;
  }

  /** Any text, as UTF-8 (a UTF-16 unit takes at most 3 bytes). */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.used += this.buf.write(s, this.used, 'utf8');
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    this.reserve(n);
    // A loop: keys are short, and TypedArray#set costs more per call than copying them.
    const b = this.buf;
    let u = this.used;
    for (let i = 0; i < n; i++) b[u++] = src[i]!;
    this.used = u;
  }

  /** A number as JSON.stringify writes it: non-finite ones are `null`, -0 is `0`. */
  number(x: number): void {
    if (x === (x | 0)) return this.int(x | 0);
    // A short string that dies at once. Not String(x): that keeps each string alive in V8's
    // number-string cache (through young collections, which then copy and promote them).
    this.ascii(JSON.stringify(x));
  }

  private int(x: number): void {
    this.reserve(11);
    const b = this.buf;
    if (x < 0) {
      b[this.used++] = 45; // '-'
      if (x === -2147483648) return this.ascii('2147483648'); // its negation is not an int32
      x = -x;
    }
    let digits = 1;
    for (let t = x; t >= 10; t = (t / 10) | 0) digits++;
    let u = this.used + digits;
    this.used = u;
    do {
      b[--u] = 48 + (x % 10);
      x = (x / 10) | 0;
    } while (x > 0);
  }

  /**
   * Any value, as JSON.stringify writes it inside an object or array. Returns false when it
   * writes nothing (undefined, a function: JSON.stringify leaves such a key out).
   */
  value(v: unknown): boolean {
    if (typeof v === 'number') this.number(v);
    else if (v === null) this.ascii('null');
    else {
      const s = JSON.stringify(v) as string | undefined;
      if (s === undefined) return false;
      this.text(s);
    }
    return true;
  }

  /** `"key":`, encoded once per thread. */
  key(k: string): void {
    let e = KEYS.get(k);
    if (e === undefined) {
      if (KEYS.size >= MAX_KEYS) KEYS.clear();
      e = Buffer.from(`${JSON.stringify(k)}:`);
      KEYS.set(k, e);
    }
    this.bytes(e);
  }

  /** A plain record (own enumerable keys, in their order, as JSON.stringify). */
  record(o: Readonly<Record<string, unknown>>): void {
    this.byte(123); // '{'
    let first = true;
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      const at = this.used;
      if (!first) this.byte(44); // ','
      this.key(k);
      if (this.value(o[k])) first = false;
      else this.used = at; // JSON.stringify leaves the key out
    }
    this.byte(125); // '}'
  }
}
