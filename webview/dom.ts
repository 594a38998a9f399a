/**
 * Small DOM helpers. Everything the panel shows from a run (study names, parameter values,
 * error messages) goes through `textContent`, never `innerHTML`: user-typed text is always
 * rendered as text.
 */

/** A new element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A card of the panel's grid: a head (title + tools), a note line and a body. */
export interface Card {
  card: HTMLElement;
  title: HTMLElement;
  tools: HTMLElement;
  note: HTMLElement;
  body: HTMLElement;
}

export function card(id: string, title: string, opts: { wide?: boolean; chart?: boolean; tall?: boolean } = {}): Card {
  const c = el('section', `card${opts.wide ? ' wide' : ''}`);
  c.id = id;
  const head = el('div', 'card-head');
  const h = el('h2', undefined, title);
  const tools = el('div', 'tools');
  head.append(h, tools);
  const note = el('p', 'note');
  const body = el('div', opts.chart ? `chart${opts.tall ? ' tall' : ''}` : 'body');
  c.append(head, note, body);
  return { card: c, tools, note, body, title: h };
}

/** A two-column definition list (`name value` pairs). */
export function kv(pairs: [string, string, string?][]): HTMLElement {
  const dl = el('dl', 'kv');
  for (const [k, v, title] of pairs) {
    const dt = el('dt', undefined, k);
    if (title) dt.title = title;
    dl.append(dt, el('dd', undefined, v));
  }
  return dl;
}

/** A plain table from column names and rows of strings; `numeric[i]` right-aligns column i. */
export function simpleTable(cls: string, cols: string[], rows: string[][], numeric: boolean[] = cols.map((_, i) => i > 0)): HTMLTableElement {
  const t = el('table', cls);
  const thead = el('thead');
  const head = el('tr');
  cols.forEach((c, i) => head.append(el('th', numeric[i] ? undefined : 'left', c)));
  thead.append(head);
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr');
    r.forEach((x, i) => tr.append(el('td', numeric[i] ? 'num' : 'left', x)));
    tb.append(tr);
  }
  t.append(thead, tb);
  return t;
}
