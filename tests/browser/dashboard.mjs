// The dashboard and the HTML report in a real browser: Debian's chromium driven by
// playwright-core (tests/browser/test_dashboard.sh starts serve and passes URL, tokens and
// paths). Every page must load with no console error; charts must plot the ingested points; a
// live run's chart must grow when samples arrive; filters, sorting and Compare must work; the
// report must open offline. Screenshots go to OUT for a person to look at.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import * as ev from './events.mjs';

const { URL: BASE, ADMIN, AGENT, OUT, REPORT, NPM_DIR } = process.env;
const { chromium } = createRequire(`${NPM_DIR}/`)('playwright-core');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

let checks = 0;
const ok = (what) => { checks++; console.log(`ok - ${what}`); };

async function post(lines) {
  const r = await fetch(`${BASE}/api/v1/events`, { method: 'POST', headers: { Authorization: `Bearer ${AGENT}` }, body: `${lines.join('\n')}\n` });
  assert.equal(r.status, 200, await r.text());
}

async function ingest() {
  const now = Date.now();
  const A = { host: 'node1', user: 'ana', model: 'llama', zone: 'DE', interval: 10, acc: 0.9 };
  const B = { host: 'node2', user: 'bo', model: 'mlp', zone: 'FR', interval: 10, acc: 0.8 };
  const C = { host: 'node1', user: 'ana', model: 'bert', zone: 'SE', interval: 10, acc: 0.7 };
  const a0 = now - 40 * 60000, b0 = now - 25 * 60000, c0 = now - 50000;
  await post([ev.start('runA', A, a0), ...ev.samples('runA', A, a0, 60, 1.5), ...ev.training('runA', A, a0, 60), ev.end('runA', A, a0 + 601000, 60, { gpu_power_limit: ev.gpuPowerLimit })]);
  await post([ev.start('runB', B, b0), ...ev.samples('runB', B, b0, 30, 1), ...ev.training('runB', B, b0, 30), ev.end('runB', B, b0 + 301000, 30)]);
  await post([ev.start('runC', C, c0), ...ev.samples('runC', C, c0, 5, 1)]);
  // node1's agent measured the whole host while runA ran: the host once, not added to runA
  await post(ev.agent('agentN1', { host: 'node1', zone: 'DE', interval: 10 }, a0, 60));
  return { A, C, c0 };
}

async function open(browser, width = 1280) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.errors = errors;
  return page;
}

async function visit(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(ready);
}

const points = (page, sel) => page.$eval(sel, (el) => Number(el.dataset.points));

async function runsPage(page) {
  await page.goto(`${BASE}/`);
  await page.fill('#token', ADMIN);
  await page.click('#token-form button');
  await page.waitForSelector('#runs-table');
  const ids = () => page.$$eval('#runs-table tbody tr td:nth-child(2)', (t) => t.map((x) => x.textContent));
  assert.deepEqual((await ids()).sort(), ['runA', 'runB', 'runC']);
  ok('runs table lists the three runs');
  assert.match(await page.$eval('#runs-table tbody', (t) => [...t.rows].find((r) => r.textContent.includes('runC')).textContent), /live/);
  ok('the live run is marked live');
  await page.screenshot({ path: `${OUT}/runs.png`, fullPage: true });
  await page.click('th[data-sort="energy"] button');
  await page.waitForSelector('th[data-sort="energy"][aria-sort]');
  assert.deepEqual(await ids(), ['runA', 'runB', 'runC']);
  ok('sorting by energy puts the largest first');
  await page.click('th[data-sort="duration"] button');
  await page.waitForSelector('th[data-sort="duration"][aria-sort]');
  assert.equal((await ids())[0], 'runA');
  ok('sorting by duration');
  await page.fill('input[name=user]', 'ana');
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr').length === 2);
  assert.deepEqual((await ids()).sort(), ['runA', 'runC']);
  ok('filtering by user');
  await page.selectOption('select[name=status]', 'running');
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr').length === 1);
  assert.deepEqual(await ids(), ['runC']);
  ok('filtering by status');
}

async function runPage(page) {
  await visit(page, '#/run/runA', '#power-chart[data-points]');
  assert.equal(await page.$eval('#power-chart', (el) => el.dataset.kind), 'uplot');
  assert.ok(await page.$('#power-chart canvas'), 'uPlot draws on a canvas');
  assert.equal(await points(page, '#power-chart'), 120);
  assert.equal(await page.$eval('#power-chart', (el) => el.dataset.series), '2');
  ok('run page: power chart plots 2 zones x 60 samples');
  assert.equal(await points(page, '[data-chart="metric-loss"]'), 12);
  ok('run page: loss against cumulative energy, 12 points');
  assert.deepEqual(await page.$$eval('#phases tbody tr td:first-child', (t) => t.map((x) => x.textContent).sort()), ['(none)', 'data', 'forward']);
  ok('run page: phases breakdown');
  const gpu = await page.$$eval('#gpu-power tbody tr', (t) => t.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(gpu.map((r) => [r[0], r[4]]), [['400 W', 'maximum'], ['300 W', 'chosen'], ['200 W', '']]);
  assert.match(await page.$eval('#gpu-power p', (p) => p.textContent), /goal energy.*Saved .*CO2e.*against the maximum limit/s);
  ok('run page: GPU power limit profile, choice and saving');
  assert.match(await page.$eval('#totals', (t) => t.textContent), /Wh \(\d+ kJ\).*g CO2e.*mL/s);
  await page.screenshot({ path: `${OUT}/run.png`, fullPage: true });
}

async function livePage(page, C, c0) {
  await visit(page, '#/run/runC', '#power-chart[data-points]');
  const before = await points(page, '#power-chart');
  assert.equal(before, 10);
  await post(ev.samples('runC', { ...C, interval: 1 }, Date.now() - 5000, 5, 1.3));
  await page.waitForFunction((n) => Number(document.querySelector('#power-chart').dataset.points) > n, before, { timeout: 30000 });
  assert.equal(await points(page, '#power-chart'), 20);
  ok('live run: the chart grows from 10 to 20 points without a reload');
  await page.screenshot({ path: `${OUT}/live.png`, fullPage: true });
  void c0;
}

async function otherPages(page) {
  await visit(page, '#/compare?ids=runA,runB', '#compare-power[data-points]');
  assert.equal(await page.$eval('#compare-power', (el) => el.dataset.series), '2');
  assert.equal(await points(page, '#compare-power'), 90);
  assert.equal(await page.$$eval('#compare-epochs tbody tr', (r) => r.length), 3);
  assert.match(await page.$eval('#compare-totals', (t) => t.textContent), /accuracy per kWh/);
  ok('compare: two power curves aligned at start, 3 epochs, accuracy per kWh');
  await page.screenshot({ path: `${OUT}/compare.png`, fullPage: true });
  await visit(page, '#/aggregates?by=user&per=day&what=energy_j&n=2', '#aggregates');
  assert.deepEqual(await page.$$eval('#aggregates tbody tr td:first-child', (t) => t.map((x) => x.textContent).sort()),
    ['(unattributed)', 'ana', 'bo']);
  assert.match(await page.$eval('#unattributed-note', (p) => p.textContent), /no run claims/);
  ok('aggregates per user per day, with what no run claims on the hosts as its own row');
  await visit(page, '#/aggregates?by=host&per=day&what=energy_j&n=2', '#aggregates');
  assert.deepEqual(await page.$$eval('#aggregates tbody tr td:first-child', (t) => t.map((x) => x.textContent).sort()), ['node1', 'node2']);
  const sum = async (by) => (await (await fetch(`${BASE}/api/v1/aggregates?by=${by}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json())
    .groups.reduce((x, g) => x + g.energy_j, 0);
  const [hosts, users] = [await sum('host'), await sum('user')];
  assert.ok(Math.abs(hosts - users) <= 1e-9 * hosts, `hosts ${hosts} J, users + unattributed ${users} J`);
  ok('aggregates per host: each host once; users + unattributed add up to the hosts');
  await page.screenshot({ path: `${OUT}/aggregates.png`, fullPage: true });
  await visit(page, '#/zones?q=germany', '#zones');
  assert.deepEqual(await page.$$eval('#zones tbody tr td:first-child', (t) => t.map((x) => x.textContent)), ['DE']);
  ok('zones: search finds Germany');
  await visit(page, '#/zones', '#sites');
  const sites = await page.$$eval('#sites tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(sites.map((r) => [r[0], r[1], r[4]]), [['lab', 'DE', '1.25'], ['cloudy', 'DE (aws:eu-central-1)', '1.14']]);
  assert.ok(sites.every((r) => /g\/kWh$/.test(r[2]) && /L\/kWh$/.test(r[6])), JSON.stringify(sites));
  ok('zones: the two configured sites with their zone, intensity, PUE and grid water');
  await page.screenshot({ path: `${OUT}/zones.png`, fullPage: true });
}

async function phone(browser) {
  const page = await open(browser, 390);
  await page.goto(`${BASE}/`);
  await page.evaluate((t) => localStorage.setItem('joulestream.token', t), ADMIN);
  await page.goto(`${BASE}/#/run/runA`);
  await page.waitForSelector('#power-chart[data-points]');
  await page.screenshot({ path: `${OUT}/run-phone.png`, fullPage: true });
  let wide = await overflow(page);
  assert.ok(wide.px <= 1, `the run page is ${wide.px}px wider than a phone: ${wide.over.join(', ')}`);
  ok('phone width: no sideways scrolling of the run page');
  await page.goto(`${BASE}/#/zones`);
  await page.waitForSelector('#sites');
  await page.screenshot({ path: `${OUT}/zones-phone.png`, fullPage: true });
  wide = await overflow(page);
  assert.ok(wide.px <= 1, `the zones page is ${wide.px}px wider than a phone: ${wide.over.join(', ')}`);
  ok('phone width: no sideways scrolling of the zones page');
  assert.deepEqual(page.errors, []);
  await page.close();
}

// How far the page is wider than the window, and the first elements past its right edge
// (tables scroll inside their .scroll box, so they do not count).
function overflow(page) {
  return page.evaluate(() => {
    const over = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((e) => !e.closest('.scroll')).map((e) => e.tagName + (e.id ? `#${e.id}` : '') + '.' + e.className);
    return { px: document.documentElement.scrollWidth - window.innerWidth, over: over.slice(0, 5) };
  });
}

async function report(browser) {
  const html = readFileSync(REPORT, 'utf8');
  assert.doesNotMatch(html, /https?:\/\//, 'the report references the network');
  const ctx = await browser.newContext({ offline: true });
  const page = await ctx.newPage();
  const errors = [];
  const asked = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) asked.push(r.url()); });
  await page.goto(`file://${REPORT}`);
  // attached, not visible: a run that drew nothing is a flat line of zero height
  await page.waitForSelector('svg.power polyline', { state: 'attached' });
  const n = await page.$eval('svg.power', (s) => Number(s.dataset.points));
  assert.ok(n > 0, 'the report plots the power');
  assert.deepEqual(errors, []);
  assert.deepEqual(asked, []);
  ok(`report: self-contained, opens offline, power chart with ${n} points`);
  await page.screenshot({ path: `${OUT}/report.png`, fullPage: true });
  await ctx.close();
}

const { C, c0 } = await ingest();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
try {
  const page = await open(browser);
  await runsPage(page);
  await runPage(page);
  await livePage(page, C, c0);
  await otherPages(page);
  assert.deepEqual(page.errors, [], 'console errors');
  ok('no console error on any page');
  await phone(browser);
  if (REPORT) await report(browser);
} finally {
  await browser.close();
}
console.log(`${checks} checks passed; screenshots in ${OUT}`);
