/**
 * Writes test/data/fixtures/2006-min-005.zstd.parquet: backtrader's 5-minute sample as Parquet,
 * zstd-compressed (polars' default codec) in row groups of 100 rows, with microsecond
 * timestamps. Needs the `zstd` program; the file is committed, so tests never run this.
 *   npm run build && node out/test/data/make-parquet-fixture.js
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadPrices } from '../../server/data';
import { repoRoot, sampleData } from '../support/run-fixtures';
import { pricesParquet } from './parquet-files';

const zstd = (b: Uint8Array): Uint8Array => execFileSync('zstd', ['-q', '-c', '-19'], { input: b });
const bytes = pricesParquet(loadPrices(sampleData('2006-min-005.txt')), 'timestamp-us', { codec: 'ZSTD', compressors: { ZSTD: zstd }, rowGroupSize: 100 });
const out = path.join(repoRoot(), 'test', 'data', 'fixtures', '2006-min-005.zstd.parquet');
writeFileSync(out, bytes);
console.log(`${out}: ${bytes.length} bytes`);
