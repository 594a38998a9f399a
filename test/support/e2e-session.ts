/**
 * One throwaway VS Code (code-server) with the packaged extension installed, opened on a copy of
 * `samples/`, driven in headless Chromium through playwright-core — the way a person uses it:
 * keys, the command palette, the mouse. Every wait polls for an element or a file with a deadline;
 * nothing sleeps for a fixed time.
 *
 * Isolation: its own temp folder for the user data, extensions, XDG config/data and the
 * workspace; the extension gallery points at a dead loopback port so the workbench calls nothing
 * outside; code-server runs in its own process group, which {@link EditorSession.stop} ends
 * even when a test failed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { ROOT, type E2eTools } from './e2e-tools';

export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

export interface SessionOptions {
  tools: E2eTools;
  /** Workspace trust on (the folder opens in Restricted Mode until trusted) or off altogether. */
  workspaceTrust: boolean;
  /** Files to add to the workspace copy before the editor opens it (relative path → text). */
  files?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Log progress lines to stderr (E2E_VERBOSE=1). */
  verbose?: boolean;
}

/** Polls `probe` until it returns a truthy value; throws `what` with the last detail at the deadline. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 30_000, everyMs = 150): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as T;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String((lastError as Error).message ?? lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** Packages the extension with `npm run package`'s script into `outFile`; returns the file. */
export function packageVsix(outFile: string): string {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--out', outFile, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`packaging the extension failed (node scripts/package.mjs):\n${r.stdout}${r.stderr}`);
  return outFile;
}

const BASE_SETTINGS: Record<string, unknown> = {
  // First-run noise off: welcome page, tips, update checks, chat and AI UI, git.
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  // code-server saves automatically by default; the tests save (or revert) explicitly.
  'files.autoSave': 'off',
  // Untrusted folders open in Restricted Mode without a modal prompt; the tests trust the folder
  // through the editor's own Workspace Trust page when a step needs it.
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'always',
};

/** A running code-server + Chromium session on a throwaway copy of `samples/`. */
export class EditorSession {
  readonly tmp: string;
  readonly workspace: string;
  readonly userData: string;
  page!: Page;
  private browser?: Browser;
  private cs?: ChildProcess;
  private readonly consoleErrors: string[] = [];
  private readonly t0 = Date.now();

  private constructor(private readonly o: SessionOptions) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-e2e-'));
    this.workspace = path.join(this.tmp, 'workspace');
    this.userData = path.join(this.tmp, 'user-data');
    fs.mkdirSync(path.join(this.tmp, 'tmp'));
    fs.mkdirSync(path.join(this.tmp, 'run'), { mode: 0o700 });
  }

  log(...m: unknown[]): void {
    if (this.o.verbose) process.stderr.write(`[e2e +${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${m.join(' ')}\n`);
  }

  /** Packages and installs the extension, starts code-server and Chromium, opens the workspace. */
  static async start(o: SessionOptions): Promise<EditorSession> {
    const s = new EditorSession(o);
    try {
      await s.boot();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  private csArgs(): string[] {
    return [this.o.tools.codeServer, '--user-data-dir', this.userData, '--extensions-dir', path.join(this.tmp, 'extensions')];
  }

  private csEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(this.tmp, 'xdg-config'),
      XDG_DATA_HOME: path.join(this.tmp, 'xdg-data'),
      // VS Code's IPC sockets (vscode-ipc-*.sock) and temp files go in the session's folder,
      // which close() removes, not in the shared temp folder.
      TMPDIR: path.join(this.tmp, 'tmp'),
      XDG_RUNTIME_DIR: path.join(this.tmp, 'run'),
      // A dead loopback port: no gallery, no outside calls.
      EXTENSIONS_GALLERY: JSON.stringify({
        serviceUrl: 'http://127.0.0.1:9/gallery',
        itemUrl: 'http://127.0.0.1:9/item',
        resourceUrlTemplate: 'http://127.0.0.1:9/{publisher}/{name}/{version}/{path}',
      }),
    };
    // The test runner's own variables must not leak into the extension host's child processes.
    for (const k of Object.keys(env)) if (k.startsWith('NODE_TEST') || k === 'NODE_OPTIONS') delete env[k];
    return env;
  }

  private async boot(): Promise<void> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // The workspace: a copy of samples/, without run folders a developer may have left there.
    fs.cpSync(path.join(ROOT, 'samples'), this.workspace, {
      recursive: true,
      filter: (src) => !src.split(path.sep).includes('.optstudy') && !src.endsWith('.vsix'),
    });
    for (const [rel, text] of Object.entries(this.o.files ?? {})) {
      fs.mkdirSync(path.dirname(path.join(this.workspace, rel)), { recursive: true });
      fs.writeFileSync(path.join(this.workspace, rel), text);
    }
    fs.mkdirSync(path.join(this.userData, 'User'), { recursive: true });
    fs.writeFileSync(path.join(this.userData, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...this.o.settings }, null, 2));

    const vsix = packageVsix(path.join(this.tmp, 'optstudy.vsix'));
    this.log('packaged', vsix);
    const install = spawnSync(process.execPath, [...this.csArgs(), '--install-extension', vsix], { env: this.csEnv(), encoding: 'utf8' });
    if (install.status !== 0 || !/successfully installed/i.test(install.stdout)) {
      throw new Error(`code-server --install-extension failed:\n${install.stdout}${install.stderr}`);
    }
    this.log('installed:', install.stdout.trim().split('\n').pop());

    const port = await freePort();
    const logFd = fs.openSync(path.join(ARTIFACTS, 'e2e-code-server.log'), 'w');
    const args = [...this.csArgs(), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
      '--disable-update-check', '--disable-getting-started-override'];
    if (!this.o.workspaceTrust) args.push('--disable-workspace-trust');
    this.cs = spawn(process.execPath, [...args, this.workspace], { env: this.csEnv(), stdio: ['ignore', logFd, logFd], detached: true });
    fs.closeSync(logFd);
    const exited = new Promise<never>((_, reject) => this.cs!.once('exit', (code) => reject(new Error(`code-server exited with ${code}; see test/artifacts/e2e-code-server.log`))));
    exited.catch(() => {});
    await Promise.race([exited, waitUntil('code-server /healthz', () => httpStatus(`http://127.0.0.1:${port}/healthz`).then((c) => c === 200), 60_000)]);
    this.log('code-server up on port', port);

    this.browser = await chromium.launch({
      executablePath: this.o.tools.chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const context = await this.browser.newContext({ viewport: { width: 1440, height: 900 } });
    this.page = await context.newPage();
    this.page.on('console', (m) => { if (m.type() === 'error') this.consoleErrors.push(m.text()); });
    this.page.on('pageerror', (e) => this.consoleErrors.push(`pageerror: ${e.message}`));
    // A generous deadline: on a loaded machine the workbench's first load takes minutes.
    await this.page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(this.workspace)}`, { timeout: 180_000 });
    await this.page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
    // The explorer lists the workspace once the remote file system is connected.
    await this.page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 120_000 });
    this.log('workbench loaded');
  }

  /** Saves a screenshot to test/artifacts/e2e-<name>.png. */
  async shot(name: string): Promise<string> {
    const file = path.join(ARTIFACTS, `e2e-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor tab to be active. */
  async openFile(relPath: string): Promise<void> {
    // Something else taking the focus (a notification, an editor an extension opens) closes
    // Quick Open under the driver's hands; try again then.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.openFileOnce(relPath);
      } catch (e) {
        if (attempt >= 3) throw e;
        this.log(`openFile ${relPath}: retrying after ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }

  private async openFileOnce(relPath: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(relPath, { timeout: 10_000 });
    const base = path.basename(relPath);
    // Enter opens the focused row: wait until the list has filtered down to the file.
    await waitUntil(`Quick Open to select ${relPath}`, async () => {
      const focused = await this.page.locator('.quick-input-list .monaco-list-row.focused').allInnerTexts();
      return focused.length === 1 && focused[0].includes(base);
    }, 45_000);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ timeout: 30_000 });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 30_000 });
  }

  /**
   * Runs a command by its palette title ("OptStudy: Run Study") through F1, as a person would.
   * `asks`: the command opens a Quick Pick of its own (the palette's input then stays on screen).
   */
  async runCommand(title: string, opts: { asks?: boolean } = {}): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(`>${title}`);
    // The row whose label is exactly the title (fuzzy matching may rank another one first).
    const row = await waitUntil(`the command palette to offer "${title}"`, async () => {
      const rows = this.page.locator('.quick-input-list .monaco-list-row');
      const labels = await rows.allInnerTexts();
      const i = labels.findIndex((l) => l.split('\n')[0]!.trim() === title);
      return i >= 0 ? rows.nth(i) : null;
    }, 15_000).catch(async (e) => {
      const rows = await this.page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
      throw new Error(`${(e as Error).message}; the palette offers: ${rows.map((r) => r.split('\n')[0]).join(' | ') || 'nothing'}`);
    });
    await row.click();
    if (!opts.asks) await input.waitFor({ state: 'hidden', timeout: 15_000 });
  }

  /** True while the folder is in Restricted Mode (not trusted). */
  async isRestricted(): Promise<boolean> {
    return (await this.page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).count()) > 0;
  }

  /**
   * Trusts the workspace folder the way a person does: Manage Workspace Trust, then "Trust";
   * closes the trust page afterwards.
   */
  async trustWorkspace(): Promise<void> {
    if (!(await this.isRestricted())) return;
    await this.runCommand('Workspaces: Manage Workspace Trust');
    await this.page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).click({ timeout: 15_000 });
    await this.page.locator('.workspace-trust-editor', { hasText: 'You trust this folder' }).waitFor({ timeout: 15_000 });
    await waitUntil('Restricted Mode to end', async () => !(await this.isRestricted()), 15_000);
    await this.runCommand('View: Close Editor');
  }

  /** Goes to `line` (1-based) with Ctrl+G. */
  async goToLine(line: number, column = 1): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: 15_000 });
  }

  /** The text of the visible lines of the active editor (Monaco renders only what is on screen). */
  async visibleEditorText(): Promise<string> {
    return (await this.page.locator('.editor-instance .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
  }

  /** The frame of a webview whose document has an element matching `selector`. */
  async webviewFrame(selector: string, timeoutMs = 30_000): Promise<Frame> {
    return waitUntil(`a webview frame with ${selector}`, async () => {
      for (const f of this.page.frames()) {
        if (f === this.page.mainFrame()) continue;
        try {
          if (await f.$(selector)) return f;
        } catch {
          // detached or not yet loaded
        }
      }
      return null;
    }, timeoutMs, 250);
  }

  /** Chromium console errors seen so far. */
  errors(): string[] {
    return [...this.consoleErrors];
  }

  /** Closes Chromium, ends code-server's process group, keeps the logs, removes the temp folder. */
  async stop(): Promise<void> {
    try {
      fs.writeFileSync(path.join(ARTIFACTS, 'e2e-console-errors.txt'), this.consoleErrors.join('\n') + '\n');
    } catch {
      // artifacts folder may not exist if boot failed early
    }
    await this.browser?.close().catch(() => {});
    const pid = this.cs?.pid;
    if (pid && this.cs!.exitCode === null) {
      const gone = new Promise<void>((r) => this.cs!.once('exit', () => r()));
      try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ }
      const timer = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ } }, 3000);
      await gone;
      clearTimeout(timer);
    }
    // The extension host's and the language server's logs help when a step failed.
    const logs = path.join(this.userData, 'logs');
    if (fs.existsSync(logs)) {
      fs.rmSync(path.join(ARTIFACTS, 'e2e-logs'), { recursive: true, force: true });
      fs.cpSync(logs, path.join(ARTIFACTS, 'e2e-logs'), { recursive: true });
    }
    if (!process.env.E2E_KEEP) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
