// Small DOM helpers: elements built with textContent (never innerHTML with data), numbers and times formatted.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

export function fmt(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const x = Number(Number(v).toFixed(digits));
  return (x === 0 ? 0 : x).toFixed(digits); // no "-0.0"
}
export const eur = (v) => (v === null || v === undefined ? '–' : `${v < 0 ? '−' : ''}€${Math.abs(v).toFixed(2)}`);

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export function localTime(iso, timezone, withDate = true) {
  if (!iso) return '–';
  const d = typeof iso === 'number' ? new Date(iso * 1000) : new Date(iso);
  return d.toLocaleString('sv-SE', { timeZone: timezone, ...(withDate ? {} : { hour: '2-digit', minute: '2-digit' }) });
}

export const badge = (text, cls = text) => h('span', { class: `badge ${cls.split(' ')[0]}` }, text);

export const empty = (text) => h('div', { class: 'empty' }, text);

export function table(columns, rows) {
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          columns.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.cell(r))),
        ),
      ),
    ),
  );
}
