// The system tools the test suites drive for real — Chromium (webview, report and editor
// tests), redis-server (distributed runs), python3 (command strategies, the backtrader bridge)
// and code-server (the editor tests) — checked BEFORE any test runs. What is missing is
// installed when this machine allows it (root, or sudo without a password, on Debian/Ubuntu);
// otherwise the run stops at once with the exact commands to run, instead of failing twenty
// tests later. OPTSTUDY_TEST_INSTALL=0 never installs (it only checks and says).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

/** Debian packages per tool, and the suites that need the tool. */
const TOOLS = [
  { name: 'Chromium', found: () => existsSync(process.env.OPTSTUDY_CHROMIUM ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), apt: ['chromium'], suites: ['webview', 'e2e', 'analysis'] },
  { name: 'redis-server', found: () => onPath('redis-server'), apt: ['redis-server'], suites: ['redis'] },
  { name: 'python3', found: () => onPath('python3'), apt: ['python3'], suites: ['strategies', 'redis', 'lsp', 'unit', 'engine'] },
  // code-server's own build needs ripgrep (its rg download is unreachable), Kerberos headers
  // and pkg-config (its `kerberos` module builds from source).
  { name: 'ripgrep', found: () => onPath('rg'), apt: ['ripgrep'], suites: ['e2e'] },
  { name: 'Kerberos headers', found: () => existsSync('/usr/include/gssapi/gssapi.h'), apt: ['libkrb5-dev'], suites: ['e2e'] },
  { name: 'pkg-config', found: () => onPath('pkg-config'), apt: ['pkg-config'], suites: ['e2e'] },
];

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** code-server as scripts/e2e-setup.sh installs it (same cache folder and version knobs). */
function codeServerReady() {
  const dir = process.env.OPTSTUDY_E2E_TOOLS ?? path.join(homedir(), '.cache', 'optstudy-e2e');
  const cs = path.join(dir, `code-server-${process.env.CS_VERSION ?? '4.100.3'}`);
  return existsSync(path.join(cs, '.ok')) && existsSync(path.join(cs, 'node_modules', 'code-server', 'out', 'node', 'entry.js'));
}

/** How this process may run apt-get: '' as root, 'sudo' with passwordless sudo, else null. */
function aptPrefix() {
  if (!existsSync('/usr/bin/apt-get')) return null;
  if (process.getuid?.() === 0) return '';
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? 'sudo' : null;
}

function run(cmd, args) {
  console.log(`[test-tools] ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

function aptInstall(prefix, packages) {
  const apt = (args) => (prefix ? run(prefix, ['apt-get', ...args]) : run('apt-get', args));
  return apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', ...packages]);
}

/**
 * Ensures the tools of `suites` are present, installing them where allowed.
 * @returns null when everything is ready, else the message to print (what to install, how).
 */
export function ensureTestTools(suites) {
  const wanted = TOOLS.filter((t) => t.suites.some((s) => suites.includes(s)));
  let missing = wanted.filter((t) => !t.found());
  const needCodeServer = suites.includes('e2e') && !codeServerReady();
  if (missing.length === 0 && !needCodeServer) return null;

  const packages = [...new Set(missing.flatMap((t) => t.apt))];
  const prefix = process.env.OPTSTUDY_TEST_INSTALL === '0' ? null : aptPrefix();
  if (prefix !== null) {
    if (packages.length) {
      console.log(`[test-tools] installing what the tests need: ${missing.map((t) => t.name).join(', ')}`);
      if (!aptInstall(prefix, packages)) return `apt-get could not install ${packages.join(' ')}; install them by hand, then run the tests again.`;
    }
    missing = wanted.filter((t) => !t.found());
    if (missing.length === 0 && needCodeServer && !run('bash', ['scripts/e2e-setup.sh'])) {
      return 'scripts/e2e-setup.sh could not install code-server (its log is printed above); fix that, then run the tests again.';
    }
    if (missing.length === 0) return null;
  }
  const steps = [];
  if (packages.length) steps.push(`sudo apt-get install -y ${packages.join(' ')}`);
  if (needCodeServer) steps.push('bash scripts/e2e-setup.sh');
  const what = [...missing.map((t) => t.name), ...(needCodeServer ? ['code-server (editor tests)'] : [])];
  return (
    `The tests need ${what.join(', ')}, which this machine lacks` +
    (prefix === null ? ' (and this user cannot install packages: not root, no passwordless sudo, or OPTSTUDY_TEST_INSTALL=0)' : '') +
    `.\nInstall them with:\n  ${steps.join('\n  ')}\nthen run the tests again (or run single suites: node scripts/test.mjs engine run).`
  );
}
