/**
 * Reads a `.vsix` (a zip file) without a zip library: the entry names and sizes from its central
 * directory, and one stored or deflated entry's content. Enough to check what a package ships.
 */
import * as fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  compressedSize: number;
  method: number;
  /** Offset of the entry's local header. */
  offset: number;
  /** Unix permission bits (0 when the zip did not record them). */
  mode: number;
}

/** Every entry of the zip file at `file`, in central-directory order. */
export function listZip(file: string): ZipEntry[] {
  const buf = fs.readFileSync(file);
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file (no end-of-central-directory record)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const offset = buf.readUInt32LE(p + 42);
    entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), size, compressedSize, method, offset, mode: (external >>> 16) & 0o777 });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The content of entry `name` of the zip file at `file`. */
export function readZipEntry(file: string, name: string): Buffer {
  const e = listZip(file).find((x) => x.name === name);
  if (!e) throw new Error(`${file}: no entry ${name}`);
  const buf = fs.readFileSync(file);
  const nameLen = buf.readUInt16LE(e.offset + 26);
  const extraLen = buf.readUInt16LE(e.offset + 28);
  const start = e.offset + 30 + nameLen + extraLen;
  const data = buf.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(data);
  if (e.method === 8) return inflateRawSync(data);
  throw new Error(`${file}: entry ${name} uses compression method ${e.method}`);
}
