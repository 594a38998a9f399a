/**
 * `npm run bench`: runs every benchmark section (`out/test/bench/*-bench.js`, one child process
 * each, so one section's memory and JIT state cannot skew another) and prints one JSON object
 * `{ machine, sections: { name: {...} } }`. Each section prints one JSON object on its last
 * stdout line. `npm run bench -- grammar engine` runs some sections only.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('-bench.js'))
  .filter((f) => only.length === 0 || only.includes(f.replace(/-bench\.js$/, '')));

const sections: Record<string, unknown> = {};
for (const f of files) {
  const name = f.replace(/-bench\.js$/, '');
  process.stderr.write(`bench: ${name}…\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, f)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    sections[name] = JSON.parse(last);
  } catch {
    sections[name] = { error: `exit ${r.status}`, stderr: r.stderr.slice(-2000) };
  }
}
const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) };
process.stdout.write(JSON.stringify({ machine, sections }, null, 2) + '\n');
