/** The panel HTML the extension serves: strict CSP, a fresh nonce per load, only the given resources. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildPanelHtml, makeNonce, panelCsp } from '../../client/panel-html';

test('the CSP allows scripts only with the nonce, and nothing inline or remote', () => {
  const nonce = makeNonce();
  const csp = panelCsp('https://file+.vscode-resource.vscode-cdn.net', nonce);
  assert.match(csp, /^default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce.replace(/[+/=]/g, '\\$&')}'`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!file\+)/);
  assert.doesNotMatch(csp, /\*/);
});

test('every load gets a different nonce, carried by the only script tag', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.ok(Buffer.from(a, 'base64').length === 16);
  const html = buildPanelHtml({ cspSource: 'vscode-webview://x', scriptUri: 'vscode-webview://x/dist/webview.js', styleUri: 'vscode-webview://x/dist/webview.css', nonce: a, title: 'a <b> & "c"' });
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]!, new RegExp(`nonce="${a.replace(/[+/=]/g, '\\$&')}"`));
  assert.match(html, /<title>a &lt;b> &amp; &quot;c&quot;<\/title>/);
  assert.doesNotMatch(html, /style="/);
});
