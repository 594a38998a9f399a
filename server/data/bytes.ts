/**
 * Price files are read as bytes, not as a JS string: a 60 MB file decoded to a string costs as
 * much as parsing it. Fields (numbers, dates, times) are ASCII, so the readers take a
 * `Uint8Array` and positions; text is decoded only for messages and headers.
 */
export type Bytes = Uint8Array;

const decoder = new TextDecoder('utf-8');

/** The UTF-8 text of `b[a, e)` (for headers and messages). */
export function textOf(b: Bytes, a = 0, e = b.length): string {
  return decoder.decode(b.subarray(a, e));
}

const scratch = Buffer.allocUnsafe(1024);

/**
 * A string's bytes, for the readers (short strings: Parquet text cells, a header's time).
 * Strings up to 256 characters share one scratch buffer: the result is valid until the next call.
 */
export function bytesOf(s: string): Bytes {
  if (s.length > 256) return Buffer.from(s, 'utf8');
  return scratch.subarray(0, scratch.write(s, 'utf8'));
}
