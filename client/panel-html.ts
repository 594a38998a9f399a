/**
 * The results panel's HTML. One function builds it for the extension and for the browser
 * tests, so the tests exercise the same Content-Security-Policy the editor enforces.
 * No vscode import: the caller passes the webview's `cspSource` and resource URIs.
 */
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin the editor serves local resources from. */
  cspSource: string;
  /** `asWebviewUri(dist/webview.js)`. */
  scriptUri: string;
  /** `asWebviewUri(dist/webview.css)`. */
  styleUri: string;
  /** A fresh nonce per load (see {@link makeNonce}). */
  nonce: string;
  title?: string;
}

/** A per-load nonce: 128 random bits, base64 (what CSP nonces expect). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The Content-Security-Policy: nothing by default; scripts only with the nonce; styles from the
 * extension or carrying the nonce (the toolkit's FAST runtime probes `:focus-visible` support
 * with a `<style>` element it tags with the nonce from `<meta property="csp-nonce">`); fonts
 * only from the extension; images from the extension and `data:`. No `unsafe-inline`, no
 * `unsafe-eval`, no remote origins.
 */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

/** The panel's HTML document. */
export function buildPanelHtml(o: PanelHtmlOptions): string {
  const title = escapeAttr(o.title ?? 'OptStudy Results');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${escapeAttr(o.nonce)}">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>${title}</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="empty">Loading results…</p></main>
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
