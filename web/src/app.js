// The dashboard's entry point: asks once for an API token (kept in localStorage), then routes
// the hash (#/runs, #/run/ID, #/compare?ids=A,B, #/aggregates, #/zones) to a page module. Each
// page renders into <main> and may return a stop() for its timers (live runs).
import { AuthError, token } from './api.js';
import { h } from './dom.js';
import runs from './page-runs.js';
import run from './page-run.js';
import compare from './page-compare.js';
import aggregates from './page-aggregates.js';
import zones from './page-zones.js';

const pages = { runs, run, compare, aggregates, zones };
const main = document.getElementById('main');
const form = document.getElementById('token-form');
let stop = null;

function askToken(msg) {
  form.hidden = false;
  document.getElementById('token-error').textContent = msg || '';
  main.replaceChildren();
}

async function route() {
  if (stop) { stop(); stop = null; }
  if (!token.get()) return askToken();
  form.hidden = true;
  const [path, query] = (location.hash.slice(1) || '/runs').split('?');
  const [, name, arg] = path.split('/');
  const page = pages[name] || runs;
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('current', a.dataset.page === (pages[name] ? name : 'runs')));
  main.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
  try {
    stop = (await page(main, { arg: arg && decodeURIComponent(arg), query: new URLSearchParams(query || '') })) || null;
  } catch (e) {
    if (e instanceof AuthError) return askToken(e.message);
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  token.set(document.getElementById('token').value);
  route();
});
document.getElementById('forget-token').addEventListener('click', () => { token.clear(); route(); });
window.addEventListener('hashchange', route);
route();
