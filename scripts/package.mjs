// `npm run package`: builds the installable extension, `optstudy-<version>.vsix`, offline.
//
//   node scripts/package.mjs [--out FILE.vsix] [--quiet]
//
// The .vsix holds only what runs: the production bundles (minified, no source maps), the
// TextMate grammar and language configuration, the manifest, README, LICENSE, CHANGELOG, and the
// npm packages the bundles load at run time (the externals they `require`, e.g. piscina) with
// those packages' own dependencies — stripped of sources, tests, docs and maps.
//
// Why a staging folder rather than `vsce package` in the repository: the repository's dist/ holds
// development bundles with source maps that other engineers rebuild at any moment, and vsce would
// pack every production dependency (bullmq and its tree) whether the bundles load it or not. The
// stage is built from a copy of the sources, so packaging never races a concurrent `npm run build`.
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quiet = argv.includes('--quiet');
const log = (...m) => { if (!quiet) console.log('[package]', ...m); };

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const out = path.resolve(opt('--out') ?? path.join(ROOT, `${manifest.name}-${manifest.version}.vsix`));
const STAGE_ROOT = path.join(ROOT, '.cache', 'package');
const SRC = path.join(STAGE_ROOT, 'src');
const STAGE = path.join(STAGE_ROOT, 'extension');

/** Fails the script with a message that says what to do. */
function die(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}

/** Copies a file or folder, keeping only files `keep(relPath)` accepts. */
function copyFiltered(from, to, keep = () => true, rel = '') {
  const st = fs.statSync(from);
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(from)) copyFiltered(path.join(from, name), path.join(to, name), keep, rel ? `${rel}/${name}` : name);
  } else if (keep(rel)) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
}

// 1. Production bundles, built by the project's own esbuild.mjs in a copy of the sources.
//    Tests are left out of the copy, so only the product bundles are built.
const t0 = Date.now();
fs.rmSync(STAGE_ROOT, { recursive: true, force: true });
fs.mkdirSync(SRC, { recursive: true });
const SOURCE_DIRS = ['client', 'server', 'grammar', 'protocol', 'webview'];
for (const d of SOURCE_DIRS) {
  if (fs.existsSync(path.join(ROOT, d))) copyFiltered(path.join(ROOT, d), path.join(SRC, d));
}
for (const f of ['esbuild.mjs', 'package.json', 'tsconfig.json']) fs.copyFileSync(path.join(ROOT, f), path.join(SRC, f));
fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(SRC, 'node_modules'), 'dir');
const build = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: SRC, encoding: 'utf8' });
if (build.status !== 0) die(`the production build failed:\n${build.stdout}${build.stderr}`);
const distFiles = fs.readdirSync(path.join(SRC, 'dist')).filter((f) => !f.endsWith('.map') && fs.statSync(path.join(SRC, 'dist', f)).isFile());
const mainBundle = path.relative('.', manifest.main ?? './dist/extension.js').replace(/^\.\//, '');
if (!distFiles.includes(path.basename(mainBundle))) die(`the build made no ${mainBundle} (package.json "main")`);
log(`built ${distFiles.join(', ')} in ${Date.now() - t0} ms`);

// 2. The stage: bundles, grammar files, docs.
fs.mkdirSync(path.join(STAGE, 'dist'), { recursive: true });
for (const f of distFiles) {
  // A production build writes no maps; strip any map comment anyway, as no map is shipped.
  const p = path.join(SRC, 'dist', f);
  let text = fs.readFileSync(p);
  if (f.endsWith('.js')) text = Buffer.from(String(text).replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
  fs.writeFileSync(path.join(STAGE, 'dist', f), text);
}
if (fs.existsSync(path.join(STAGE, 'dist', 'cli.js'))) fs.chmodSync(path.join(STAGE, 'dist', 'cli.js'), 0o755);
// The backtrader bridge (Python, copied there by esbuild.mjs): backtrader strategies need it.
if (!fs.existsSync(path.join(SRC, 'dist', 'backtrader', 'optstudy_bridge.py'))) die('the build made no dist/backtrader/optstudy_bridge.py');
copyFiltered(path.join(SRC, 'dist', 'backtrader'), path.join(STAGE, 'dist', 'backtrader'), (rel) => rel.endsWith('.py'));

// Every file the manifest's contributions point at (grammar, language configuration, icons, …).
const contributed = new Set();
const FILE_KEYS = new Set(['path', 'configuration', 'icon', 'light', 'dark', 'snippets']);
const visit = (v, key) => {
  if (typeof v === 'string') {
    if (FILE_KEYS.has(key) && /\.[a-z]+$/i.test(v)) contributed.add(path.normalize(v));
  } else if (Array.isArray(v)) v.forEach((x) => visit(x, key));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
};
visit(manifest.contributes ?? {});
if (manifest.icon) contributed.add(path.normalize(manifest.icon));
for (const rel of contributed) {
  const from = path.join(ROOT, rel);
  if (!fs.existsSync(from)) die(`package.json points at ${rel}, which does not exist`);
  copyFiltered(from, path.join(STAGE, rel));
}
// The grammar's other JSON files too (e.g. injections), never its TypeScript.
if (fs.existsSync(path.join(ROOT, 'grammar'))) {
  for (const f of fs.readdirSync(path.join(ROOT, 'grammar'))) {
    if (f.endsWith('.json')) fs.copyFileSync(path.join(ROOT, 'grammar', f), path.join(STAGE, 'grammar', f));
  }
}

for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
  if (!fs.existsSync(path.join(ROOT, f))) die(`${f} is missing`);
  fs.copyFileSync(path.join(ROOT, f), path.join(STAGE, f));
}
// The reference pages the README links to (docs/*.md), so its links work on the extension page.
if (fs.existsSync(path.join(ROOT, 'docs'))) {
  fs.mkdirSync(path.join(STAGE, 'docs'), { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, 'docs'))) {
    if (f.endsWith('.md')) fs.copyFileSync(path.join(ROOT, 'docs', f), path.join(STAGE, 'docs', f));
  }
}
// Images the README shows, so its relative links work in the editor's extension page offline.
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
for (const m of readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]+src=["']([^"']+)["']/g)) {
  const link = m[1] ?? m[2];
  if (/^[a-z]+:/i.test(link) || link.startsWith('#')) continue;
  const from = path.join(ROOT, link);
  if (fs.existsSync(from) && /\.(png|jpe?g|gif)$/i.test(link)) copyFiltered(from, path.join(STAGE, link));
  else log(`note: README image ${link} is not in the repository; it will show broken`);
}

// 3. Run-time npm packages: the bare module names the bundles still `require`, and their
//    dependencies, resolved as Node resolves them. Optional dependencies come along when they are
//    installed: that is how esbuild (the language server compiles strategy modules with it) finds
//    its platform binary, @esbuild/<platform>-<arch>. So the .vsix runs on the platform it was
//    packaged on (printed below).
const builtins = new Set([...builtinModules, 'vscode']);
const required = new Set();
for (const f of distFiles.filter((x) => x.endsWith('.js'))) {
  const text = fs.readFileSync(path.join(STAGE, 'dist', f), 'utf8');
  for (const m of text.matchAll(/\brequire(?:\.resolve)?\(\s*["']([^"'.\/][^"']*)["']\s*\)/g)) {
    const spec = m[1];
    if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0])) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    required.add(name);
  }
}
/** Finds the folder of package `name` as Node would from `fromDir` (a package folder). */
function resolvePackage(name, fromDir) {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (d === ROOT || path.dirname(d) === d) return null;
  }
}
const packages = new Map(); // absolute folder → name
const queue = [...required].map((name) => ({ name, from: ROOT, by: 'the bundles' }));
while (queue.length) {
  const { name, from, by } = queue.shift();
  const dir = resolvePackage(name, from);
  if (!dir) die(`${name} (required by ${by}) is not installed: run npm ci`);
  if (packages.has(dir)) continue;
  packages.set(dir, name);
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pj.dependencies ?? {})) queue.push({ name: dep, from: dir, by: name });
  for (const dep of Object.keys(pj.optionalDependencies ?? {})) {
    if (resolvePackage(dep, dir)) queue.push({ name: dep, from: dir, by: name });
  }
}
const nativeFor = [...packages.values()].filter((n) => /(^|[-/])(linux|darwin|win32)-(x64|arm64|arm|ia32)/.test(n));
if (nativeFor.length) log(`platform packages (this .vsix runs on ${process.platform}-${process.arch}): ${nativeFor.join(', ')}`);
// Only what runs: no type declarations, maps, tests, docs or benchmarks. Folders named src/ or
// scripts/ stay: some packages run from them (debug's code is in src/, bullmq loads its Lua
// scripts from scripts/), and stripping them broke the run host of the installed extension.
const DROP_DIRS = /(^|\/)(test|tests|__tests__|test-jest|docs?|benchmarks?|examples?|\.github|coverage)(\/|$)/;
const DROP_FILES = /(\.map|\.ts|\.mts|\.cts|\.tsbuildinfo|\.md|\.markdown)$|(^|\/)(\.[^/]*|tsconfig[^/]*\.json|jest\.config[^/]*)$/i;
const keepRuntime = (rel) => !DROP_DIRS.test(rel) && !DROP_FILES.test(rel);
for (const [dir] of packages) {
  // The bundles are CommonJS: a package whose only entry is its CommonJS build (main in
  // dist/cjs, no exports map) never loads its ES-module twin (bullmq: 2.5 MB).
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const cjsOnly = !pj.exports && /^(\.\/)?dist\/cjs\//.test(pj.main ?? '');
  // esbuild's install copies its native binary over its `bin/esbuild` command; the JS API runs
  // the platform package's binary instead, so that 10 MB copy is only for the command line.
  const esbuildCli = pj.name === 'esbuild' && [...packages.values()].some((n) => n.startsWith('@esbuild/'));
  copyFiltered(dir, path.join(STAGE, path.relative(ROOT, dir)), (rel) => keepRuntime(rel)
    && !(cjsOnly && rel.startsWith('dist/esm/')) && !(esbuildCli && rel === 'bin/esbuild'));
}
log(`run-time packages: ${[...packages.values()].sort().join(', ') || 'none'}`);

// Files the bundles READ at run time (no require, so the scan above cannot see them): the HTML
// report inlines Chart.js's UMD build, which server/report/html.ts looks for beside the bundle
// first. Without it Export Report → HTML failed in the installed extension (#19-2). The file
// carries its own MIT licence banner.
const RUNTIME_ASSETS = [{ from: 'chart.js/dist/chart.umd.min.js', to: 'dist/chart.umd.min.js' }];
for (const a of RUNTIME_ASSETS) {
  const [pkg, ...rest] = a.from.split('/');
  const dir = resolvePackage(pkg, ROOT);
  const from = dir && path.join(dir, ...rest);
  if (!from || !fs.existsSync(from)) die(`${a.from} (read by the report at run time) is not installed: run npm ci`);
  // No map is shipped, so no map comment either.
  fs.writeFileSync(path.join(STAGE, a.to), fs.readFileSync(from, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}
log(`run-time assets: ${RUNTIME_ASSETS.map((a) => a.to).join(', ')}`);

// 4. The manifest as shipped: no scripts or devDependencies; dependencies = what is staged, so
//    vsce's `npm list --production` walk finds exactly the staged tree.
const shipped = { ...manifest };
delete shipped.scripts;
delete shipped.devDependencies;
shipped.dependencies = {};
for (const name of required) {
  const v = JSON.parse(fs.readFileSync(path.join(resolvePackage(name, ROOT), 'package.json'), 'utf8')).version;
  shipped.dependencies[name] = manifest.dependencies?.[name] ?? v;
}
fs.writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify(shipped, null, 2) + '\n');
// The stage holds only shippable files; this keeps vsce from adding anything it would find there.
fs.writeFileSync(path.join(STAGE, '.vscodeignore'), '**/*.map\n**/*.ts\n');

// 5. vsce 3 (vsce 4 needs Node 22). --no-rewrite-relative-links: README images are shipped beside
//    it, and there is no public repository URL to point them at.
fs.mkdirSync(path.dirname(out), { recursive: true });
const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
const pack = spawnSync(process.execPath, [vsce, 'package', '--no-yarn', '--allow-missing-repository',
  '--no-rewrite-relative-links', '-o', out], { cwd: STAGE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (pack.status !== 0) die(`vsce failed:\n${pack.stdout}${pack.stderr}`);
fs.rmSync(SRC, { recursive: true, force: true });
const size = fs.statSync(out).size;
log(`${path.relative(process.cwd(), out) || out}: ${(size / 1024).toFixed(0)} KiB in ${Date.now() - t0} ms`);
if (quiet) console.log(out);
