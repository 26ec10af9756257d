// The dashboard's router: one view per hash (#today, #forecasts, #data, #runs), each drawn from its JSON.
import { clearCharts, resizeAll } from './charts.js';
import { renderToday } from './views/today.js';
import { renderForecasts } from './views/forecasts.js';
import { renderData } from './views/data.js';
import { renderRuns } from './views/runs.js';

const VIEWS = { today: renderToday, forecasts: renderForecasts, data: renderData, runs: renderRuns };
const main = document.getElementById('view');
const status = document.getElementById('status');

async function show() {
  const [name, query] = (location.hash.slice(1) || 'today').split('?');
  const render = VIEWS[name] ?? renderToday;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === (VIEWS[name] ? name : 'today'));
  document.body.dataset.ready = 'false';
  clearCharts();
  main.innerHTML = '<p class="muted">Loading…</p>';
  try {
    await render(main, new URLSearchParams(query ?? ''));
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    main.innerHTML = '';
    const p = document.createElement('div');
    p.className = 'empty';
    p.textContent = `Could not load this view: ${err.message}`;
    main.append(p);
  }
  document.body.dataset.ready = 'true';
  document.body.dataset.view = name;
}

window.addEventListener('hashchange', show);
let resizing;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(resizeAll, 150);
});
show();
