// The admin page in real headless Chromium, against `api --demo` (spapi-sim
// in-process, a throwaway SQLite database, the owner demo@example.com).
//
//   API_BIN=target/debug/api node tests/browser/admin.test.mjs
//
// Environment: API_BIN (default <repo>/target/debug/api), WORKER_BIN (default the
// worker beside it), CHROMIUM (default
// /usr/bin/chromium), ARTIFACTS_DIR (default <repo>/target/browser-artifacts).
// Screenshots are written there and their paths printed.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const started = Date.now();
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const apiBin = process.env.API_BIN ?? path.join(repo, 'target/debug/api');
const workerBin = process.env.WORKER_BIN ?? path.join(path.dirname(apiBin), 'worker');
const artifacts = process.env.ARTIFACTS_DIR ?? path.join(repo, 'target/browser-artifacts');
mkdirSync(artifacts, { recursive: true });
const screenshots = [];
const INVENTORY_PAGE = 25; // SKUs per page of the inventory table (app.js)

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Starts `api --demo` on a free port; resolves with its address and the owner's password. */
function startApi(dataDir) {
  const env = { ...process.env, API_ADDR: '127.0.0.1:0', DATA_DIR: dataDir, APP_ENV: 'development', RUST_LOG: 'warn' };
  delete env.DATABASE_URL; // the demo uses its own SQLite file
  // In the temporary directory, so no developer's .env is read.
  const child = spawn(apiBin, ['--demo'], {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`api --demo did not start in 60 s:\n${out}\n${err}`)), 60_000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const base = out.match(/GraphiQL at (http:\/\/[^\s/]+)\/graphql/)?.[1];
      const password = out.match(/with password (\S+)/)?.[1];
      const sim = out.match(/simulated Amazon at (http:\/\/\S+)/)?.[1];
      if (base && password && sim) {
        clearTimeout(timer);
        resolve({ child, base, password, sim });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`api --demo exited with ${code}:\n${out}\n${err}`));
    });
  });
}

/** Starts a plain `api` on a fresh SQLite database (no owner, no connection), allowed
 *  to talk to the simulator; resolves with its address and what it logged. */
function freshEnv(dataDir) {
  return { ...process.env, API_ADDR: '127.0.0.1:0', DATA_DIR: dataDir, APP_ENV: 'development', RUST_LOG: 'info',
    SPAPI_ALLOW_CUSTOM_ENDPOINTS: 'true', DATABASE_URL: `sqlite://${dataDir}/fresh.sqlite?mode=rwc` };
}

function startFresh(dataDir) {
  const child = spawn(apiBin, [], { cwd: dataDir, env: freshEnv(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`api did not start in 60 s:\n${log}`)), 60_000);
    const read = (d) => {
      log += d;
      const base = log.match(/no owner yet.*admin=(http:\/\/[^\s/]+)\/admin/)?.[1];
      if (base) {
        clearTimeout(timer);
        resolve({ child, base, log });
      }
    };
    child.stderr.on('data', read);
    child.stdout.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`api exited with ${code}:\n${log}`));
    });
  });
}

// The simulator's LWA app (public constants of spapi-sim, not secrets).
const SIM_CLIENT_ID = 'amzn1.application-oa2-client.spapisim0000000000000000';
const SIM_CLIENT_SECRET = 'amzn1.oa2-cs.v1.spapisim-secret';
const SIM_REFRESH_TOKEN = 'Atzr|spapi-sim-refresh-token';

/** Every order the API lists, newest first, paging through it all. */
async function allOrderIds(base, token) {
  const ids = [];
  let after = null;
  for (;;) {
    const page = (await graphql(base, token, `query($a: String) { amazonOrders(first: 200, after: $a) {
      pageInfo { hasNextPage endCursor } edges { node { amazonOrderId orderTotal { amount } } } } }`, { a: after })).amazonOrders;
    ids.push(...page.edges.map((e) => `${e.node.amazonOrderId} ${e.node.orderTotal?.amount ?? ''}`));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
}

/** Runs the worker binary on the fresh install's settings; resolves with its exit
 *  status and output (asynchronously: the browser keeps being driven). */
function runWorker(args, dataDir) {
  return new Promise((resolve) => {
    const child = spawn(workerBin, args, { cwd: dataDir, env: { ...freshEnv(dataDir), RUST_LOG: 'warn' } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (status) => resolve({ status, out }));
  });
}

async function graphql(base, token, query, variables = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function shot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

/** A screenshot of one part of the page (a section). */
async function shotOf(locator, name) {
  const file = path.join(artifacts, `${name}.png`);
  await locator.screenshot({ path: file });
  screenshots.push(file);
}

/** The SKU of every row the inventory table shows, once it shows `count` rows. */
async function stockRowsOnceShown(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#inventory tbody tr[data-sku]').length === n, count);
  return page.locator('#inventory tbody tr[data-sku]').evaluateAll((rows) => rows.map((r) => ({
    sku: r.dataset.sku, low: r.dataset.low === 'true', text: r.textContent,
  })));
}

/** Fails the test on any page error or console error (a CSP violation shows as one). */
function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location()?.url?.endsWith('/favicon.ico')) {
      problems.push(`console: ${m.text()}`);
    }
  });
}

/** Opens one view of the page through its navigation, as a person would. */
async function view(page, name) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  await page.locator('[data-nav][aria-current="page"]').filter({ hasText: name }).waitFor();
}

/** Waits until the sync history (on any view) shows the newest run of `kind`
 *  ("Orders", "Inventory" …) succeeded. */
async function newestRunSucceeded(page, kind) {
  // Nothing running any more either: a run that ends re-reads the tables.
  await page.waitForFunction((k) => {
    const rows = [...document.querySelectorAll('#runs tbody tr')];
    const row = rows.find((r) => r.children[1]?.textContent === k);
    return row?.children[2].textContent.startsWith('SUCCEEDED') && rows.every((r) => !r.children[2]?.textContent.startsWith('RUNNING'));
  }, kind);
}

async function signIn(page, base, email, password) {
  await page.goto(`${base}/admin`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#who-email').filter({ hasText: email }).waitFor();
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'admin-browser-'));
const freshDir = mkdtempSync(path.join(tmpdir(), 'admin-fresh-'));
let api;
let fresh;
let browser;
try {
  api = await startApi(dataDir);
  const { base, password } = api;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  // --- a fresh install, from the page alone: owner, seller account, first sync --------
  fresh = await startFresh(freshDir);
  const firstRun = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const fpage = await firstRun.newPage();
  fpage.setDefaultTimeout(30_000);
  const freshProblems = [];
  watch(fpage, freshProblems);
  await fpage.goto(`${fresh.base}/`);
  check(fpage.url() === `${fresh.base}/admin`, `the root leads to the admin page: ${fpage.url()}`);
  const create = fpage.getByRole('region', { name: 'Create the owner' });
  await create.waitFor();
  check(!(await fpage.locator('#sign-in').isVisible()), 'a fresh install offers no sign-in, only creating the owner');
  check(/At least 12 characters/.test(await create.locator('.password-rule').textContent()), 'the password rule is shown at the form');
  await shotOf(create, 'first-run-1-create-owner');
  await create.getByLabel('Email').fill('seller@example.com');
  await create.getByLabel('Password', { exact: true }).fill('short');
  await create.getByLabel('Repeat the password').fill('short');
  await create.getByRole('button', { name: 'Create the owner' }).click();
  await create.locator('#create-owner-error').filter({ hasText: 'at least 12 characters' }).waitFor();
  await create.getByLabel('Password', { exact: true }).fill('a long owner password');
  await create.getByLabel('Repeat the password').fill('a long owner password');
  await create.getByRole('button', { name: 'Create the owner' }).click();
  // Signed in as the owner, taken to the settings to connect the account.
  await fpage.locator('#who-role').filter({ hasText: 'owner' }).waitFor();
  await fpage.locator('[data-nav="settings"][aria-current="page"]').waitFor();
  check(fpage.url().endsWith('#/settings'), `a fresh owner lands on the settings: ${fpage.url()}`);
  await view(fpage, 'Overview');
  await fpage.locator('#not-configured').filter({ hasText: 'set it up in Settings' }).waitFor();
  await fpage.locator('#status').getByText(/^Not configured/).waitFor();
  check(await fpage.getByRole('button', { name: 'Sync now' }).isDisabled(), 'Sync now is disabled until the account is connected');
  check(/Connect a seller account first/.test(await fpage.locator('#sync').getAttribute('title')), 'the disabled button says why');
  await fpage.getByRole('link', { name: 'set it up in Settings' }).click();
  const account = fpage.getByRole('region', { name: 'Seller account' });
  await account.getByLabel('Seller id (merchant token)').fill('A2DEMOSELLER');
  await account.getByLabel('Region').selectOption('NA');
  await account.getByRole('checkbox', { name: 'Amazon.com US', exact: true }).check();
  check(await account.getByRole('checkbox', { name: /Amazon\.co\.uk/ }).count() === 0, 'only the region\'s marketplaces are offered');
  await account.getByText('For a simulator (developers)').click();
  await account.getByLabel('SP-API endpoint').fill(api.sim);
  await account.getByLabel('LWA token URL').fill(`${api.sim}/auth/o2/token`);
  await account.getByRole('button', { name: 'Save the seller account' }).click();
  await fpage.locator('#notice').filter({ hasText: 'Seller account saved.' }).waitFor();
  const credentials = fpage.getByRole('region', { name: 'Amazon credentials' });
  await credentials.getByLabel('LWA client id').fill('hello');
  await credentials.getByLabel('LWA client secret').fill(SIM_CLIENT_SECRET);
  await credentials.getByLabel('Refresh token').fill(SIM_REFRESH_TOKEN);
  await credentials.getByRole('button', { name: 'Save the credentials' }).click();
  await credentials.locator('#credentials-error').filter({ hasText: 'amzn1.application-oa2-client.' }).waitFor();
  await credentials.getByLabel('LWA client id').fill(SIM_CLIENT_ID);
  await credentials.getByRole('button', { name: 'Save the credentials' }).click();
  await credentials.locator('#credentials-state').filter({ hasText: `Stored: client ${SIM_CLIENT_ID}` }).waitFor();
  check(await credentials.getByLabel('LWA client secret').inputValue() === '', 'the secret leaves the page once stored');
  await shot(fpage, 'first-run-2-settings');
  const setup = fpage.getByRole('region', { name: 'Connect your Amazon seller account' });
  await setup.getByRole('button', { name: 'Ping Amazon' }).click();
  await setup.locator('#setup-progress').filter({ hasText: 'Ping OK' }).waitFor();
  await setup.getByRole('button', { name: 'Run the first sync' }).click();
  await setup.locator('#setup-progress').filter({ hasText: /Sync #\d+ succeeded/ }).waitFor({ timeout: 120_000 });
  await setup.locator('#setup-steps li.done').nth(3).waitFor();
  await shotOf(setup, 'first-run-3-first-sync');
  check(freshProblems.length === 0, `no page or console errors while setting up:\n${freshProblems.join('\n')}`);

  // The orders it brought: names and flags, SKU, units, channel, status words, Seller Central.
  await view(fpage, 'Orders');
  await fpage.waitForFunction(() => document.querySelectorAll('#orders tbody tr[data-order]').length === 20);
  const orderCells = await fpage.locator('#orders tbody tr[data-order]').evaluateAll((rows) => rows.map((r) => [...r.children].map((td) => td.textContent)));
  check(orderCells.every((c) => /Amazon\.(com|ca)$/.test(c[3])), `marketplaces by name: ${orderCells.map((c) => c[3])}`);
  check(orderCells.every((c) => /^\d+$/.test(c[5]) && /^(FBA|Merchant)$/.test(c[6])), `units and channel: ${orderCells[0]}`);
  check(orderCells.some((c) => c[4] !== '—'), 'SKUs are shown');
  const scLink = await fpage.locator('#orders tbody tr[data-order] a.external').first().getAttribute('href');
  check(/^https:\/\/sellercentral\.amazon\.(com|ca)\/orders-v3\/order\/\d{3}-\d{7}-\d{7}$/.test(scLink), `a Seller Central link: ${scLink}`);

  // Orders committed by another process (the worker) appear without a reload: the
  // Canadian marketplace is added and `worker sync` brings its orders in.
  await fpage.evaluate(() => { window.sameDocument = true; });
  const ownerToken = await fpage.evaluate(() => sessionStorage.getItem('admin.token'));
  await graphql(fresh.base, ownerToken, 'mutation($i: AmazonConnectionInput!) { upsertAmazonConnection(input: $i) { sellerId } }',
    { i: { sellerId: 'A2DEMOSELLER', region: 'NA', marketplaceIds: ['ATVPDKIKX0DER', 'A2EUQ1WTGCTBG2'], endpoint: api.sim, tokenUrl: `${api.sim}/auth/o2/token` } });
  const workerSync = await runWorker(['sync'], freshDir);
  check(workerSync.status === 0, `worker sync: ${workerSync.out}`);
  await fpage.locator('#orders-live').filter({ hasText: /\d+ new order\(s\) came in/ }).waitFor();
  // Marked as just come in: the Canadian orders (US ones may have changed meanwhile too).
  await fpage.locator('#orders tbody tr.arrived').filter({ hasText: 'Amazon.ca' }).first().waitFor();
  check(await fpage.evaluate(() => window.sameDocument === true), 'the page was not reloaded');
  await shot(fpage, 'first-run-4-orders');
  // Search by order id.
  const wantedOrder = await fpage.locator('#orders tbody tr[data-order]').nth(3).getAttribute('data-order');
  await fpage.getByRole('region', { name: 'Orders' }).getByLabel('Order id').fill(wantedOrder);
  await fpage.getByRole('region', { name: 'Orders' }).getByRole('button', { name: 'Apply' }).click();
  await fpage.waitForFunction((id) => {
    const rows = document.querySelectorAll('#orders tbody tr[data-order]');
    return rows.length === 1 && rows[0].dataset.order === id;
  }, wantedOrder);
  check(fpage.url().endsWith(`#/orders?order=${wantedOrder}`), `the URL names the order: ${fpage.url()}`);
  await fpage.getByRole('region', { name: 'Orders' }).getByLabel('Order id').fill('');
  await fpage.getByRole('region', { name: 'Orders' }).getByRole('button', { name: 'Apply' }).click();
  await fpage.waitForFunction(() => document.querySelectorAll('#orders tbody tr[data-order]').length === 20);
  // The CSV export is the API's list, every order of it, amounts exact.
  const freshToken = await fpage.evaluate(() => sessionStorage.getItem('admin.token'));
  const [download] = await Promise.all([fpage.waitForEvent('download'), fpage.getByRole('button', { name: 'Export CSV' }).click()]);
  const csvText = await new Promise((resolve, reject) => {
    download.createReadStream().then((stream) => {
      let text = '';
      stream.on('data', (d) => { text += d; });
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    }, reject);
  });
  const csvLines = csvText.split('\r\n').filter(Boolean);
  const header = csvLines[0].split(',');
  const idCol = header.indexOf('amazon_order_id');
  const totalCol = header.indexOf('order_total');
  const csvOrders = csvLines.slice(1).map((l) => l.split(',')).map((f) => `${f[idCol]} ${f[totalCol]}`);
  const apiOrders = await allOrderIds(fresh.base, freshToken);
  check(csvOrders.length > 20 && csvOrders.join('\n') === apiOrders.join('\n'),
    `the CSV lists the API's ${apiOrders.length} orders in its order (CSV: ${csvOrders.length})`);

  // Users: a viewer added (the rule said at the form), removed; the owner's own password changed.
  await view(fpage, 'Settings');
  const users = fpage.getByRole('region', { name: 'Users' });
  await users.locator('tr[data-user="seller@example.com"]').waitFor();
  await users.getByLabel('Email').fill('helper@example.com');
  await users.getByLabel('Password').fill('ten chars!');
  await users.getByRole('button', { name: 'Add viewer' }).click();
  await users.locator('#user-error').filter({ hasText: 'at least 12 characters' }).waitFor();
  await users.getByLabel('Password').fill('a viewer password');
  await users.getByRole('button', { name: 'Add viewer' }).click();
  await users.locator('tr[data-user="helper@example.com"]').filter({ hasText: 'viewer' }).waitFor();
  await shotOf(users, 'first-run-5-users');
  fpage.once('dialog', (d) => d.accept());
  await users.getByRole('button', { name: 'Remove helper@example.com' }).click();
  await users.locator('tr[data-user="helper@example.com"]').waitFor({ state: 'detached' });
  const mine = fpage.getByRole('region', { name: 'Your password' });
  await mine.getByLabel('Current password').fill('a long owner password');
  await mine.getByLabel('New password', { exact: true }).fill('another long password');
  await mine.getByLabel('Repeat the new password').fill('another long password');
  await mine.getByRole('button', { name: 'Change the password' }).click();
  await fpage.locator('#notice').filter({ hasText: 'Password changed' }).waitFor();
  const refusedOld = await graphql(fresh.base, freshToken, '{ me { email } }').then(() => false, (e) => e.message.includes('UNAUTHENTICATED'));
  check(refusedOld, 'the session before the change has ended');
  await fpage.locator('#sign-out').click();
  await signIn(fpage, fresh.base, 'seller@example.com', 'another long password');

  // A lost password: the operator's one-time password, which must be replaced first.
  const reset = spawnSync(workerBin, ['reset-password', 'seller@example.com'], { cwd: freshDir, env: freshEnv(freshDir), encoding: 'utf8' });
  check(reset.status === 0, `worker reset-password: ${reset.stdout}${reset.stderr}`);
  const oneTime = reset.stdout.match(/one-time password for seller@example\.com \(owner\): (\S+)/)?.[1];
  check(oneTime, `the one-time password is printed: ${reset.stdout}`);
  await fpage.reload();
  await fpage.locator('#sign-in').waitFor();
  await fpage.locator('#email').fill('seller@example.com');
  await fpage.locator('#password').fill(oneTime);
  await fpage.getByRole('button', { name: 'Sign in' }).click();
  const mustChange = fpage.getByRole('region', { name: 'Choose your own password' });
  await mustChange.waitFor();
  check(!(await fpage.locator('#app').isVisible()) && !(await fpage.locator('#views').isVisible()), 'nothing else is shown before the password is changed');
  await shotOf(mustChange, 'first-run-6-one-time-password');
  await mustChange.getByLabel('New password', { exact: true }).fill('the third long password');
  await mustChange.getByLabel('Repeat the new password').fill('the third long password');
  await mustChange.getByRole('button', { name: 'Save the password' }).click();
  await fpage.locator('#app').waitFor({ state: 'visible' });
  check(!(await mustChange.isVisible()), 'the one-time password form is gone once replaced');
  check(freshProblems.length === 0, `no page or console errors on the fresh install:\n${freshProblems.join('\n')}`);
  await firstRun.close();
  fresh.child.kill('SIGTERM');

  // --- the owner: ping, sync, orders, items, chart, inventory ------------------------
  const problems = [];
  const owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await owner.newPage();
  page.setDefaultTimeout(30_000);
  watch(page, problems);
  await signIn(page, base, 'demo@example.com', password);
  check(await page.locator('#who-role').textContent() === 'owner', 'signed in as the owner');
  await page.locator('#status').getByText('A2DEMOSELLER').waitFor();

  await page.getByRole('button', { name: 'Ping Amazon' }).click();
  await page.locator('#notice').filter({ hasText: 'Ping OK' }).waitFor();
  await page.locator('#status').getByText(/OK$/).first().waitFor();

  // The progress comes over the subscription (graphql-transport-ws), not polling.
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(JSON.parse(f.payload))));
  const syncButton = page.getByRole('button', { name: 'Sync now' });
  check(await page.getByLabel('Include items').isChecked(), 'items are included by default');
  await syncButton.click();
  await page.locator('#progress').filter({ hasText: /Sync #\d+/ }).waitFor();
  check(await syncButton.isDisabled(), 'the sync button is disabled while the sync runs');
  await page.locator('#progress').filter({ hasText: 'succeeded' }).waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => !document.getElementById('sync').disabled);
  check(frames.some((f) => f.type === 'connection_ack'), 'the subscription was accepted');
  check(frames.some((f) => f.type === 'next' && f.payload?.data?.syncRunUpdated?.status === 'SUCCEEDED'),
    `the subscription reported the finished run: ${JSON.stringify(frames)}`);
  check(frames.some((f) => f.type === 'complete'), 'the subscription completed');
  await newestRunSucceeded(page, 'Orders');

  // Orders: a full first page, a second page of other orders, an order's items.
  await view(page, 'Orders');
  const rows = page.locator('#orders tbody tr[data-order]');
  await page.waitForFunction(() => document.querySelectorAll('#orders tbody tr[data-order]').length === 20);
  const firstOnPage1 = await rows.first().getAttribute('data-order');
  await page.getByRole('button', { name: 'Next page' }).first().click();
  await page.locator('#orders-page').filter({ hasText: /^Page 2 of/ }).waitFor();
  const firstOnPage2 = await rows.first().getAttribute('data-order');
  check(firstOnPage1 !== firstOnPage2, 'page 2 shows other orders');
  await page.getByRole('button', { name: 'Previous page' }).first().click();
  await page.locator('#orders-page').filter({ hasText: /^Page 1 of/ }).waitFor();
  const shipped = page.locator('#orders tbody tr[data-order]:has(.status.ok)').first();
  const orderButton = shipped.getByRole('button');
  await orderButton.click();
  await page.locator('tr.items table tbody tr').first().waitFor();
  check(await orderButton.getAttribute('aria-expanded') === 'true', 'the order button says it is expanded');
  check(/\d/.test(await page.locator('tr.items tbody tr td.num').last().textContent()), 'an item price is shown');
  await shot(page, 'admin-owner-order-items');

  // Filter by status through the form.
  await page.getByRole('region', { name: 'Orders' }).getByLabel('Status').selectOption('SHIPPED');
  await page.getByRole('region', { name: 'Orders' }).getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('#orders tbody tr[data-order] td:nth-child(3)')]
    .every((td) => td.textContent === 'Shipped'));
  check(/#\/orders\?status=SHIPPED$/.test(page.url()), `the URL names the filter: ${page.url()}`);

  // The chart: 30 days of bars and the totals.
  await view(page, 'Overview');
  await page.waitForFunction(() => document.querySelectorAll('#chart rect.bar-rev').length === 30);
  const totals = await page.locator('#chart-totals').textContent();
  check(/revenue · \d+ units · \d+ orders/.test(totals), `chart totals: ${totals}`);
  check(Number(await page.locator('#chart-totals').getAttribute('data-revenue')) > 0, 'revenue over 30 days is positive');

  // Inventory: a full scan from the section's button, followed to its end.
  const token = await page.evaluate(() => sessionStorage.getItem('admin.token'));
  await view(page, 'Inventory');
  const inventory = page.getByRole('region', { name: 'Inventory' });
  const syncInventory = inventory.getByRole('button', { name: 'Sync inventory' });
  const inventoryProgress = inventory.locator('#inventory-progress');
  await inventory.getByLabel('Full scan').check();
  await syncInventory.click();
  await inventoryProgress.filter({ hasText: /Inventory sync #\d+ running|Inventory sync #\d+ succeeded/ }).waitFor();
  await inventoryProgress.filter({ hasText: /Inventory sync #\d+ succeeded/ }).waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => !document.getElementById('inventory-sync').disabled);
  await newestRunSucceeded(page, 'Inventory');

  // A refusal is said next to the button, in the API's words; an already running
  // inventory sync is followed instead. (The API's answers are staged here: the
  // simulated Amazon answers too fast to overlap two runs.)
  const lastRunId = (await graphql(base, token, '{ syncRuns(first: 1) { edges { node { id } } } }')).syncRuns.edges[0].node.id;
  const refusals = [
    { message: 'no Amazon connection is stored: set one with upsertAmazonConnection', extensions: { code: 'NOT_CONFIGURED' } },
    { message: 'an inventory sync is already running', extensions: { code: 'SYNC_ALREADY_RUNNING', runningRunId: lastRunId } },
  ];
  await page.route('**/graphql', (route) => (route.request().postData()?.includes('syncAmazonInventory') && refusals.length
    ? route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: null, errors: [refusals.shift()] }) })
    : route.continue()));
  await syncInventory.click();
  await inventoryProgress.filter({ hasText: 'The inventory sync did not start: no Amazon connection is stored' }).waitFor();
  check(await inventoryProgress.getAttribute('class') === 'bad', 'the refusal is shown as an error');
  check(await syncInventory.isEnabled(), 'the button can be pressed again after a refusal');
  await syncInventory.click();
  await inventoryProgress.filter({ hasText: `Inventory sync #${lastRunId} succeeded` }).waitFor();
  await page.waitForFunction(() => !document.getElementById('inventory-sync').disabled);
  await page.unroute('**/graphql');

  // The table's first page is the API's first page, and the count shown is the API's.
  const stock = await graphql(base, token, `{
    all: amazonInventory(first: ${INVENTORY_PAGE}) { totalCount pageInfo { hasNextPage } edges { node { sellerSku lowStock } } }
    low: amazonInventory(first: 200, filter: { lowStockOnly: true }) { totalCount edges { node { sellerSku } } } }`);
  check(stock.all.totalCount > 0, 'the demo seller has FBA stock after the sync');
  check(stock.low.totalCount > 0, 'the demo seller has SKUs low on stock');
  const firstPage = await stockRowsOnceShown(page, stock.all.edges.length);
  check(firstPage.map((r) => r.sku).join() === stock.all.edges.map((e) => e.node.sellerSku).join(),
    'the table shows the SKUs of the API\'s first page, in its order');
  check(Number(await inventory.locator('#inventory-total').textContent()) === stock.all.totalCount,
    'the SKU count shown is the API\'s totalCount');
  check(Number(await inventory.locator('#inventory-low').textContent()) === stock.low.totalCount,
    `the low-stock count shown is the API's (${stock.low.totalCount})`);
  check(firstPage.every((r) => r.low === /Low stock/.test(r.text)), 'a row says "Low stock" exactly when the API says it is low');
  check(firstPage.every((r) => !/ATVPDKIKX0DER|A2EUQ1WTGCTBG2/.test(r.text)), 'rows name the marketplace instead of showing its id');
  const inboundTitle = await inventory.locator('#inventory tbody tr[data-sku] td:nth-child(5)').first().getAttribute('title');
  check(/being prepared, \d+ shipped, \d+ being received/.test(inboundTitle), `the inbound cell explains its parts: ${inboundTitle}`);
  await shotOf(inventory, 'admin-owner-inventory');

  // Paging through with "Next page" shows every SKU once: as many rows as the API counts.
  const keys = new Set(await inventory.locator('#inventory tbody tr[data-sku]')
    .evaluateAll((rows) => rows.map((r) => `${r.dataset.marketplace}/${r.dataset.sku}`)));
  let rowsSeen = firstPage.length;
  let pages = 1;
  while (await inventory.getByRole('button', { name: 'Next page' }).isEnabled()) {
    pages += 1;
    await inventory.getByRole('button', { name: 'Next page' }).click();
    await inventory.locator('#inventory-page').filter({ hasText: new RegExp(`^Page ${pages} of`) }).waitFor();
    const more = await inventory.locator('#inventory tbody tr[data-sku]')
      .evaluateAll((rows) => rows.map((r) => `${r.dataset.marketplace}/${r.dataset.sku}`));
    for (const k of more) keys.add(k);
    rowsSeen += more.length;
  }
  check(rowsSeen === stock.all.totalCount && keys.size === stock.all.totalCount,
    `the pages show ${stock.all.totalCount} SKUs once each (saw ${rowsSeen} rows, ${keys.size} distinct)`);
  check(pages === Math.ceil(stock.all.totalCount / INVENTORY_PAGE), `${pages} pages of ${INVENTORY_PAGE} SKUs`);
  for (let n = pages - 1; n >= 1; n -= 1) {
    await inventory.getByRole('button', { name: 'Previous page' }).click();
    await inventory.locator('#inventory-page').filter({ hasText: new RegExp(`^Page ${n} of`) }).waitFor();
  }

  // A SKU typed in the filter shows that SKU only (in every marketplace that stocks it).
  const sku = (stock.low.edges[0] ?? stock.all.edges[0]).node.sellerSku;
  const skuApi = await graphql(base, token, 'query($s: String!) { amazonInventory(filter: { sellerSku: $s }) { totalCount } }', { s: sku });
  await inventory.getByLabel('SKU').fill(sku);
  await inventory.getByRole('button', { name: 'Apply' }).click();
  const skuRows = await stockRowsOnceShown(page, skuApi.amazonInventory.totalCount);
  check(skuRows.length > 0 && skuRows.every((r) => r.sku === sku), `filtering by SKU ${sku} shows only ${sku}`);
  check(Number(await inventory.locator('#inventory-total').textContent()) === skuRows.length, 'the count shown follows the SKU filter');

  // "Low stock only" shows only rows marked low, as many as the API counts.
  await inventory.getByLabel('SKU').fill('');
  await inventory.getByLabel('Low stock only').check();
  await inventory.getByRole('button', { name: 'Apply' }).click();
  const lowRows = await stockRowsOnceShown(page, Math.min(stock.low.totalCount, INVENTORY_PAGE));
  await inventory.locator('#inventory-total').filter({ hasText: new RegExp(`^${stock.low.totalCount}$`) }).waitFor();
  check(lowRows.every((r) => r.low && r.text.includes('Low stock')), 'with "low stock only", every row is marked "Low stock"');
  check(lowRows.map((r) => r.sku).join() === stock.low.edges.slice(0, INVENTORY_PAGE).map((e) => e.node.sellerSku).join(),
    'the low rows are the API\'s low-stock SKUs');
  check(Number(await inventory.locator('#inventory-low').textContent()) === stock.low.totalCount,
    'the low-stock count shown is still the API\'s');
  check(page.url().endsWith('#/inventory?low=1'), `the URL names the inventory filter: ${page.url()}`);
  await shotOf(inventory, 'admin-owner-inventory-low');
  await inventory.getByLabel('Low stock only').uncheck();
  await inventory.getByRole('button', { name: 'Apply' }).click();
  await stockRowsOnceShown(page, stock.all.edges.length);

  // The low-stock alert in the status card leads to the same rows.
  await view(page, 'Overview');
  await page.locator('#alerts').filter({ hasText: `Low stock: ${stock.low.totalCount} SKU(s)` }).waitFor();
  await page.getByRole('button', { name: 'Show them in Inventory' }).click();
  await stockRowsOnceShown(page, Math.min(stock.low.totalCount, INVENTORY_PAGE));
  check(await inventory.getByLabel('Low stock only').isChecked(), 'the alert ticks "low stock only"');
  await inventory.getByLabel('Low stock only').uncheck();
  await inventory.getByRole('button', { name: 'Apply' }).click();
  await stockRowsOnceShown(page, stock.all.edges.length);
  // --- listings and the queue of price and quantity changes ---------------------------
  await view(page, 'Listings');
  const listings = page.getByRole('region', { name: 'Listings' });
  const queue = page.getByRole('region', { name: 'Price & quantity queue' });
  await listings.getByRole('button', { name: 'Sync listings' }).click();
  const listingsProgress = listings.locator('#listings-progress');
  await listingsProgress.filter({ hasText: /Listings sync #\d+ succeeded/ }).waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => !document.getElementById('listings-sync').disabled && !document.getElementById('listings-sync-full').disabled);
  await newestRunSucceeded(page, 'Listings');

  // The table is the API's first page: channel in the seller's words (AFN is FBA),
  // prices exactly as the API sent them, the quantity only for MFN rows.
  const listingsApi = (await graphql(base, token, `{ amazonListings(first: 25) { totalCount
    edges { node { marketplaceId sellerSku fulfillmentChannel price { amount currencyCode } quantity } } } }`)).amazonListings;
  check(listingsApi.totalCount > 0, 'the demo seller has listings after the sync');
  await page.waitForFunction((n) => document.querySelectorAll('#listings tbody tr[data-sku]').length === n, listingsApi.edges.length);
  const listingRows = await listings.locator('#listings tbody tr[data-sku]').evaluateAll((rows) => rows.map((r) => ({
    key: `${r.dataset.marketplace}/${r.dataset.sku}`, channel: r.children[3].textContent, price: r.children[5].textContent, qty: r.children[6].textContent,
  })));
  const listed0 = listingsApi.edges.map((e) => e.node);
  check(listingRows.map((r) => r.key).join() === listed0.map((l) => `${l.marketplaceId}/${l.sellerSku}`).join(),
    'the listings table shows the API\'s first page, in its order');
  check(listingRows.every((r, i) => r.channel === (listed0[i].fulfillmentChannel === 'AFN' ? 'FBA' : listed0[i].fulfillmentChannel)),
    `channels are MFN or FBA: ${listingRows.map((r) => r.channel)}`);
  check(listingRows.every((r, i) => r.price === (listed0[i].price ? `${listed0[i].price.amount} ${listed0[i].price.currencyCode}` : '—')),
    `prices are the API's decimal strings: ${listingRows[0].price}`);
  check(listingRows.every((r, i) => r.qty === (listed0[i].fulfillmentChannel === 'MFN' ? String(listed0[i].quantity ?? '—') : '—')),
    'the quantity is shown for MFN rows only');
  check(Number(await listings.locator('#listings-total').textContent()) === listingsApi.totalCount, 'the listing count is the API\'s');
  await shotOf(listings, 'admin-owner-listings');

  // Two MFN listings and an FBA one of one marketplace (the page asks for them by filter).
  const all = (await graphql(base, token, '{ amazonListings(first: 200) { edges { node { marketplaceId sellerSku fulfillmentChannel price { amount currencyCode } } } } }'))
    .amazonListings.edges.map((e) => e.node).filter((l) => l.price);
  const mfns = all.filter((l) => l.fulfillmentChannel === 'MFN');
  const [mfn, mfn2] = mfns.filter((l) => l.marketplaceId === mfns[0].marketplaceId);
  const fba = all.find((l) => l.fulfillmentChannel === 'AFN' && l.marketplaceId === mfn.marketplaceId);
  check(mfn && mfn2 && fba, 'the demo catalog has MFN and FBA listings with prices');
  const currencyOf = mfn.price.currencyCode;
  const otherPrice = (l, a, b) => (l.price.amount === a ? b : a);

  // Queue a price change from the row: a wrong price is refused in the API's words, then a good one.
  const rowOf = (l) => listings.locator(`#listings tbody tr[data-marketplace="${l.marketplaceId}"][data-sku="${l.sellerSku}"]`);
  const openChange = async (l) => {
    await listings.getByLabel('SKU', { exact: true }).fill(l.sellerSku);
    await listings.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction((sku) => [...document.querySelectorAll('#listings tbody tr[data-sku]')].every((r) => r.dataset.sku === sku), l.sellerSku);
    await rowOf(l).getByRole('button', { name: /^Change price or quantity/ }).click();
    return listings.getByRole('form', { name: `New price or quantity for ${l.sellerSku}` });
  };
  const fbaForm = await openChange(fba);
  check(await fbaForm.getByLabel('New quantity').count() === 0, 'an FBA row offers no quantity');
  await fbaForm.getByText('only the price can change').waitFor();
  await fbaForm.getByRole('button', { name: 'Close' }).click();
  const form = await openChange(mfn);
  check(await form.getByLabel('New quantity').count() === 1, 'an MFN row offers a quantity');
  await form.getByLabel(`New price (${currencyOf})`).fill('12.345');
  await form.getByRole('button', { name: 'Queue change' }).click();
  await listings.locator('.change-message.bad').filter({ hasText: /Not queued: .*more decimals than/ }).waitFor();
  const newPrice = otherPrice(mfn, '24.99', '25.99');
  await form.getByLabel(`New price (${currencyOf})`).fill(newPrice);
  await form.getByRole('button', { name: 'Queue change' }).click();
  await listings.locator('.change-message.ok').filter({ hasText: /Queued as change #\d+/ }).waitFor();
  await shotOf(listings, 'admin-owner-listing-change');
  const queuedRow = queue.locator(`#queue tbody tr[data-sku="${mfn.sellerSku}"][data-state="QUEUED"]`);
  await queuedRow.waitFor();
  const firstId = await queuedRow.getAttribute('data-id');
  const cells = await queuedRow.locator('td').allTextContents();
  check(cells[3] === `${newPrice} ${currencyOf}` && cells[5] === `${mfn.price.amount} ${currencyOf}`,
    `the queued row shows the new price and the price when queued exactly: ${cells}`);
  await listings.getByLabel('SKU', { exact: true }).fill('');
  await listings.getByRole('button', { name: 'Apply' }).click();

  // A CSV with bad lines is refused whole: each bad line by its number, nothing queued.
  const changesBefore = (await graphql(base, token, '{ listingChanges { totalCount } }')).listingChanges.totalCount;
  await queue.getByText('Queue changes from a CSV').click();
  const mp = mfn.marketplaceId;
  await queue.getByLabel('Or paste it here').fill(`sku,marketplace_id,price,quantity\n${mfn2.sellerSku},${mp},21.50,\n${fba.sellerSku},${mp},abc,\n${mfn2.sellerSku}-X,${mp},,-1\n`);
  await queue.getByRole('button', { name: 'Queue CSV' }).click();
  const refused = queue.locator('#csv-result .refused');
  await refused.waitFor();
  const refusedLines = await refused.locator('li').evaluateAll((lis) => lis.map((li) => [li.dataset.line, li.textContent]));
  check(refusedLines.length === 2 && refusedLines[0][0] === '3' && refusedLines[0][1].startsWith('Line 3: ')
    && refusedLines[1][0] === '4' && refusedLines[1][1].startsWith('Line 4: '), `the refused lines are named: ${JSON.stringify(refusedLines)}`);
  check(/Nothing was queued/.test(await refused.textContent()), 'says nothing was queued');
  check((await graphql(base, token, '{ listingChanges { totalCount } }')).listingChanges.totalCount === changesBefore, 'a refused CSV queues nothing');
  await shotOf(queue, 'admin-owner-queue-csv-refused');

  // The same, corrected, from a file: two changes queued.
  const p2 = otherPrice(mfn2, '21.50', '22.50');
  const p3 = otherPrice(fba, '33.00', '34.00');
  await queue.locator('#csv-file').setInputFiles({ name: 'changes.csv', mimeType: 'text/csv',
    buffer: Buffer.from(`sku,marketplace_id,price,quantity\n${mfn2.sellerSku},${mp},${p2},\n${fba.sellerSku},${mp},${p3},\n`) });
  await page.waitForFunction(() => document.getElementById('csv-text').value.startsWith('sku,'));
  await queue.getByRole('button', { name: 'Queue CSV' }).click();
  await queue.locator('#csv-result').filter({ hasText: 'Queued 2 change(s) from the CSV' }).waitFor();
  await queue.locator(`#queue tbody tr[data-sku="${fba.sellerSku}"][data-state="QUEUED"]`).waitFor();

  // Someone else moves one price on Amazon meanwhile (the simulator's control API).
  const moved = otherPrice(mfn2, '31.07', '32.07');
  const repriced = await fetch(`${api.sim}/_sim/listings/reprice`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ marketplaceId: mp, sku: mfn2.sellerSku, amount: moved }) });
  check(repriced.ok, `the simulator repriced ${mfn2.sellerSku}: ${repriced.status}`);

  // Dry run: Amazon checks; the moved price is a conflict shown with both prices.
  await queue.getByRole('button', { name: 'Dry run' }).click();
  await queue.locator('#queue-progress').filter({ hasText: /Dry run done, nothing changed on Amazon: 2 validated, 0 failed, 1 conflict/ }).waitFor({ timeout: 60_000 });
  await queue.locator(`#queue tbody tr[data-id="${firstId}"][data-state="VALIDATED"]`).waitFor();
  const conflictRow = queue.locator(`#queue tbody tr[data-sku="${mfn2.sellerSku}"][data-state="CONFLICT"]`);
  await conflictRow.waitFor();
  const note = await conflictRow.locator('.conflict-note').textContent();
  check(note === `The live price moved: ${mfn2.price.amount} ${currencyOf} when queued, ${moved} ${currencyOf} now.`, `the conflict shows both prices: ${note}`);
  check(await conflictRow.getByRole('button', { name: 'Override' }).count() === 1, 'a conflict offers Override');
  await shotOf(queue, 'admin-owner-queue-conflict');

  // Cancel the FBA change, override the conflict (the live price becomes its reference).
  await queue.locator(`#queue tbody tr[data-sku="${fba.sellerSku}"][data-state="VALIDATED"]`).getByRole('button', { name: 'Cancel' }).click();
  await queue.locator(`#queue tbody tr[data-sku="${fba.sellerSku}"][data-state="CANCELED"]`).waitFor();
  await conflictRow.getByRole('button', { name: 'Override' }).click();
  const overridden = queue.locator(`#queue tbody tr[data-sku="${mfn2.sellerSku}"][data-state="QUEUED"]`);
  await overridden.waitFor();
  const secondId = await overridden.getAttribute('data-id');
  check((await overridden.locator('td').nth(5).textContent()) === `${moved} ${currencyOf}`, 'overridden: the live price is its new reference');

  // Submit the two, ticked (two-phase by default): the page follows the push on its own until both are live.
  check(await queue.getByLabel(/Two-phase/).isChecked(), 'two-phase is on by default');
  check(await queue.locator(`#queue tbody tr[data-sku="${fba.sellerSku}"] input[type=checkbox]`).count() === 0, 'a canceled change cannot be ticked');
  for (const id of [firstId, secondId]) await queue.getByRole('checkbox', { name: new RegExp(`^Tick change ${id} `) }).check();
  await queue.locator('#queue-selection').filter({ hasText: '2 ticked' }).waitFor();
  await queue.getByRole('button', { name: 'Submit' }).click();
  await queue.locator('#queue-progress').filter({ hasText: 'Submitted 2 change(s)' }).waitFor();
  await queue.locator('#queue-live').waitFor();
  for (const id of [firstId, secondId]) {
    await queue.locator(`#queue tbody tr[data-id="${id}"][data-state="DONE"]`).waitFor({ timeout: 75_000 });
  }
  await queue.locator('#queue-live').waitFor({ state: 'detached' });
  const doneRow = queue.locator(`#queue tbody tr[data-id="${firstId}"]`);
  await doneRow.getByRole('button', { name: /^History of change/ }).click();
  const steps = await queue.locator(`tr.change-detail[data-id="${firstId}"] ol.history li`).evaluateAll((lis) => lis.map((li) => li.dataset.state));
  check(steps[0] === 'QUEUED' && steps.includes('VALIDATED') && steps.includes('SUBMITTED') && steps.at(-1) === 'DONE', `the history: ${steps}`);
  await shotOf(queue, 'admin-owner-queue-done');
  // Once nothing is being pushed the listings are read again: the row shows the pushed price.
  const liveNow = (await graphql(base, token, 'query($f: ListingFilter) { amazonListings(filter: $f) { edges { node { price { amount } } } } }',
    { f: { marketplaceId: mp, sellerSku: mfn.sellerSku } })).amazonListings.edges[0].node.price.amount;
  await listings.getByLabel('SKU', { exact: true }).fill(mfn.sellerSku);
  await listings.getByRole('button', { name: 'Apply' }).click();
  await rowOf(mfn).locator('td').nth(5).filter({ hasText: new RegExp(`^${liveNow.replace('.', '\\.')} ${currencyOf}$`) }).waitFor();
  check(liveNow === newPrice, `the listing shows the pushed price: ${liveNow}, asked ${newPrice}`);
  await listings.getByLabel('SKU', { exact: true }).fill('');
  await listings.getByRole('button', { name: 'Apply' }).click();
  check(problems.length === 0, `no page or console errors so far:\n${problems.join('\n')}`);

  // --- one feed: a price sent as a JSON_LISTINGS_FEED, followed in the Feeds card ---------
  const feeds = page.getByRole('region', { name: 'Feeds' });
  await feeds.getByText(/No feed sent yet/).waitFor();
  const feedPrice = otherPrice(mfn, '23.99', '24.49');
  const feedChangeId = (await graphql(base, token, 'mutation($c: [ListingChangeInput!]!) { queueListingChanges(changes: $c) { id } }',
    { c: [{ marketplaceId: mp, sellerSku: mfn.sellerSku, price: feedPrice }] })).queueListingChanges[0].id;
  await queue.locator('#submit-via').selectOption('FEED');
  await queue.getByRole('button', { name: 'Submit' }).click();
  await queue.locator('#queue-progress').filter({ hasText: 'Submitted 1 change(s)' }).waitFor();
  const feedRow = feeds.locator('#feeds tbody tr[data-feed]').first();
  await feedRow.filter({ hasText: 'Done' }).waitFor({ timeout: 75_000 });
  const feedCells = await feedRow.locator('td').allTextContents();
  check(/^\d+$/.test(feedCells[0]) && feedCells[3] === '1' && feedCells[4] === '1' && feedCells[5] === '0',
    `the feed row: id, 1 message, 1 accepted, 0 refused: ${feedCells}`);
  await queue.locator(`#queue tbody tr[data-id="${feedChangeId}"][data-state="DONE"]`).waitFor({ timeout: 75_000 });
  await shotOf(feeds, 'admin-owner-feeds');
  check(problems.length === 0, `no page or console errors after the feed:\n${problems.join('\n')}`);

  // --- money: transactions, their breakdowns, reconciliation, fees beside sales ---------
  // The demo may or may not have read transactions already: the list shows rows or
  // says how to get them.
  await view(page, 'Finances');
  const transactions = page.getByRole('region', { name: 'Transactions' });
  const txRows = transactions.locator('#transactions tbody tr[data-transaction]');
  await page.waitForFunction(() => document.querySelector('#transactions tbody tr') != null);
  if (await txRows.count() === 0) {
    check(/No transactions yet: run a transactions sync/.test(await transactions.locator('#transactions tbody').textContent()),
      'before any transactions sync the list says how to get them');
  }
  const syncTransactions = transactions.getByRole('button', { name: 'Sync transactions' });
  await syncTransactions.click();
  const txProgress = transactions.locator('#transactions-progress');
  await txProgress.filter({ hasText: /Transactions sync #\d+ succeeded/ }).waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => !document.getElementById('transactions-sync').disabled);
  await newestRunSucceeded(page, 'Transactions');

  // The list is the API's first page, newest first, each total exactly as the API sent it.
  const txApi = (await graphql(base, token, `{ amazonTransactions(first: 25) { pageInfo { hasNextPage }
    edges { node { transactionId totalAmount { amount currencyCode } } } } }`)).amazonTransactions;
  check(txApi.edges.length > 0, 'the demo seller has transactions after a transactions sync');
  await page.waitForFunction((n) => document.querySelectorAll('#transactions tbody tr[data-transaction]').length === n, txApi.edges.length);
  const listed = await txRows.evaluateAll((rows) => rows.map((r) => ({ id: r.dataset.transaction, total: r.lastElementChild.textContent })));
  check(listed.map((r) => r.id).join() === txApi.edges.map((e) => e.node.transactionId).join(),
    'the list shows the API\'s transactions in its order (newest first)');
  check(listed.every((r, i) => r.total === `${txApi.edges[i].node.totalAmount.amount} ${txApi.edges[i].node.totalAmount.currencyCode}`),
    `totals are the API's decimal strings with their currency: ${listed[0].total}`);
  if (txApi.pageInfo.hasNextPage) {
    await transactions.getByRole('button', { name: 'Show more' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('#transactions tbody tr[data-transaction]').length > n, txApi.edges.length);
    const ids = await txRows.evaluateAll((rows) => rows.map((r) => r.dataset.transaction));
    check(new Set(ids).size === ids.length, '"Show more" appends other transactions');
  }

  // Filtered to Shipments, one opens on its breakdown tree: the API's top level, exactly,
  // fees shown negative.
  await transactions.getByLabel('Transaction type').selectOption('Shipment');
  await transactions.getByRole('button', { name: 'Apply' }).click();
  const shipmentApi = (await graphql(base, token, `{ amazonTransactions(first: 1, filter: { transactionTypes: ["Shipment"] }) {
    edges { node { transactionId breakdowns { breakdownType amount { amount currencyCode } } } } } }`)).amazonTransactions.edges[0].node;
  await page.waitForFunction((id) => {
    const rows = [...document.querySelectorAll('#transactions tbody tr[data-transaction]')];
    return rows[0]?.dataset.transaction === id && rows.every((r) => r.children[2].textContent === 'Shipment');
  }, shipmentApi.transactionId);
  const txButton = txRows.first().getByRole('button', { name: shipmentApi.transactionId });
  await txButton.click();
  const tree = transactions.locator('tr.breakdown > td > ul.tree');
  await tree.waitFor();
  check(await txButton.getAttribute('aria-expanded') === 'true', 'the transaction button says it is expanded');
  const top = await tree.evaluate((ul) => [...ul.children].map((li) => li.querySelector('.tree-row').textContent));
  check(top.join('|') === shipmentApi.breakdowns.map((b) => `${b.breakdownType}${b.amount.amount} ${b.amount.currencyCode}`).join('|'),
    `the tree's top level is the API's: ${top.join('|')}`);
  check(await tree.locator('ul.tree').count() > 0, 'the breakdown is nested');
  const negatives = await tree.locator('.amount.neg').allTextContents();
  check(negatives.length > 0 && negatives.every((t) => t.startsWith('-')), `fees are shown negative: ${negatives.slice(0, 3)}`);
  await shotOf(transactions, 'admin-owner-transactions');
  await txButton.click();
  await tree.waitFor({ state: 'detached' });
  await transactions.getByLabel('Transaction type').selectOption('');
  await transactions.getByRole('button', { name: 'Apply' }).click();

  // Reconciliation renders, rows or its empty state, as the API says.
  const issuesApi = (await graphql(base, token, '{ reconciliationIssues(first: 25) { edges { node { amazonOrderId kind } } } }')).reconciliationIssues.edges;
  const reconciliation = page.getByRole('region', { name: 'Reconciliation' });
  if (issuesApi.length) {
    await page.waitForFunction((n) => document.querySelectorAll('#reconciliation tbody tr[data-order]').length === n, issuesApi.length);
    const kinds = await reconciliation.locator('tbody tr[data-order] td:nth-child(3)').allTextContents();
    check(kinds.every((k) => k === 'No settlement' || k === 'Amount differs'), `kinds are in words: ${kinds}`);
  } else {
    await reconciliation.getByText('No reconciliation issues').waitFor();
  }
  await shotOf(reconciliation, 'admin-owner-reconciliation');

  // Beside the sales chart: fees and net proceeds of the chart's days, from profitDaily.
  await view(page, 'Overview');
  const currency = await page.locator('#chart-currency').inputValue();
  await page.locator('#chart-money summary').click();
  const profitRows = page.locator('#profit tbody tr[data-date]');
  await page.waitForFunction(() => [...document.querySelectorAll('#profit tbody tr[data-date] td:nth-child(4)')].some((td) => td.textContent !== '—'));
  const feeCells = (await profitRows.locator('td:nth-child(4)').allTextContents()).filter((t) => t !== '—');
  check(feeCells.every((t) => new RegExp(`^-?\\d+(\\.\\d+)? ${currency}$`).test(t)), `fees are exact amounts in ${currency}: ${feeCells.slice(0, 3)}`);
  await shotOf(page.getByRole('region', { name: 'Sales, last 30 days' }), 'admin-owner-chart-money');

  // An order's detail shows its money from Amazon once a transaction names it.
  await view(page, 'Orders');
  const shown = await page.locator('#orders tbody tr[data-order]').evaluateAll((rows) => rows.map((r) => r.dataset.order));
  const withMoney = (await graphql(base, token, `{ amazonOrders(first: 20, filter: { statuses: [SHIPPED] }) {
    edges { node { amazonOrderId financials { netProceeds { amount currencyCode } } } } } }`)).amazonOrders.edges
    .map((e) => e.node).filter((o) => o.financials && shown.includes(o.amazonOrderId));
  check(withMoney.length > 0, 'some shipped order shown has transactions after the sync');
  const settled = withMoney[0];
  await page.locator(`#orders tbody tr[data-order="${settled.amazonOrderId}"]`).getByRole('button').click();
  const orderMoney = page.locator('tr.items .financials');
  await orderMoney.getByText('Net proceeds').waitFor();
  const net = await orderMoney.locator('dt', { hasText: 'Net proceeds' }).locator('xpath=following-sibling::dd').textContent();
  check(net === settled.financials.netProceeds.map((m) => `${m.amount} ${m.currencyCode}`).join(', '), `the order's net proceeds are the API's: ${net}`);
  check(await orderMoney.locator('table.fees tbody tr').count() > 0, 'the order shows its fees by type');
  await shotOf(page.locator('tr.items').first(), 'admin-owner-order-money');

  // Reconciliation rows (staged: the demo's ledger reconciles) say the kind in words
  // and show hostile text as text.
  const hostile = '<img src=x onerror="window.pwned=1">';
  // Listings and queued changes with hostile text too; a money amount that a float would spoil.
  const money = (amount) => ({ amount, currencyCode: 'USD' });
  const issue = { code: hostile, severity: 'ERROR', message: hostile };
  const stagedListings = { amazonListings: { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: null }, edges: [{ cursor: 'x', node: {
    marketplaceId: 'ATVPDKIKX0DER', sellerSku: hostile, asin: hostile, productType: hostile, title: hostile, status: [], fulfillmentChannel: 'MFN',
    price: money('0.30000000000000004'), quantity: 1, issues: [issue], lastUpdatedTime: null, seenAt: new Date().toISOString(), goneAt: null } }] } };
  const stagedChange = { id: '999', marketplaceId: 'ATVPDKIKX0DER', sellerSku: hostile, desiredPrice: money('1234567890.12'), desiredQuantity: null,
    priceWhenQueued: money('0.10'), quantityWhenQueued: null, livePrice: money('0.20'), liveQuantity: null, state: 'CONFLICT', twoPhase: true,
    phase: null, attempts: 0, submitRequestedAt: null, sentAt: null, deadlineAt: null, queuedBy: hostile, issues: [issue],
    history: [{ state: 'CONFLICT', at: new Date().toISOString(), note: hostile }], createdAt: new Date().toISOString(), finishedAt: null };
  const stagedQueue = { changes: { totalCount: 1, pageInfo: { hasNextPage: false, endCursor: null }, edges: [{ node: stagedChange }] }, moving: { edges: [] } };
  await page.route('**/graphql', (route) => (route.request().postData()?.includes('reconciliationIssues')
    ? route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: { reconciliationIssues: {
      pageInfo: { hasNextPage: false, endCursor: null },
      edges: [
        { node: { amazonOrderId: hostile, marketplaceId: 'ATVPDKIKX0DER', kind: 'MISSING_SETTLEMENT', expected: [{ amount: '19.90', currencyCode: 'USD' }], actual: [] } },
        { node: { amazonOrderId: '111-0000000-0000001', marketplaceId: 'A2EUQ1WTGCTBG2', kind: 'AMOUNT_MISMATCH', expected: [{ amount: '10.00', currencyCode: 'CAD' }], actual: [{ amount: '9.50', currencyCode: 'CAD' }] } },
      ] } } }) })
    : route.continue()));
  // Registered last, so asked first; anything else falls through to the staging above.
  await page.route('**/graphql', (route) => (route.request().postData()?.includes('amazonListings(first: 25')
    ? route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: stagedListings }) })
    : route.request().postData()?.includes('changes: listingChanges')
      ? route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: stagedQueue }) })
      : route.fallback()));
  // A deep link opens its view.
  await page.goto(`${base}/admin#/finances`);
  await page.reload();
  await page.locator('#reconciliation tbody tr[data-kind="AMOUNT_MISMATCH"]').waitFor();
  const issueRows = await page.locator('#reconciliation tbody tr[data-order]').evaluateAll((rows) => rows.map((r) => [...r.children].map((td) => td.textContent)));
  check(JSON.stringify(issueRows) === JSON.stringify([
    [hostile, 'Amazon.com', 'No settlement', '19.90 USD', 'nothing settled'],
    ['111-0000000-0000001', 'Amazon.ca', 'Amount differs', '10.00 CAD', '9.50 CAD'],
  ]), `reconciliation rows: ${JSON.stringify(issueRows)}`);
  await shotOf(reconciliation, 'admin-owner-reconciliation-staged');
  await view(page, 'Listings');
  const stagedRow = page.locator('#listings tbody tr[data-sku]');
  await stagedRow.waitFor();
  check(await stagedRow.getAttribute('data-sku') === hostile && (await stagedRow.locator('td').nth(2).textContent()) === `${hostile}ASIN ${hostile}`, 'a listing\'s text is shown as text');
  check(await stagedRow.locator('td').nth(5).textContent() === '0.30000000000000004 USD', 'a listing\'s price is the API\'s string, untouched');
  const stagedConflict = page.locator('#queue tbody tr[data-id="999"]');
  await stagedConflict.getByRole('button', { name: /^History of change/ }).click();
  check((await stagedConflict.locator('td').nth(3).textContent()) === '1234567890.12 USD', 'a queued price is the API\'s string, untouched');
  check((await page.locator('tr.change-detail[data-id="999"] ol.history li').textContent()).endsWith(hostile), 'a history note is shown as text');
  check(await page.evaluate(() => window.pwned === undefined && !document.querySelector('#reconciliation img, #listings img, #queue img')), 'server text is never markup');
  await page.unroute('**/graphql');
  await page.goto(`${base}/admin#/orders`);
  await page.reload();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelectorAll('#orders tbody tr[data-order]').length === 20);
  await shot(page, 'admin-owner-orders');
  await view(page, 'Overview');
  await page.waitForFunction(() => document.querySelectorAll('#chart rect.bar-rev').length === 30);
  await shot(page, 'admin-owner');

  // A narrow screen.
  await page.setViewportSize({ width: 375, height: 800 });
  await shot(page, 'admin-owner-narrow');

  // Keyboard: the sign-out button is reachable and works.
  const firstToken = await page.evaluate(() => sessionStorage.getItem('admin.token'));
  await page.locator('#sign-out').focus();
  await page.keyboard.press('Enter');
  await page.locator('#sign-in').waitFor({ state: 'visible' });
  check(await page.evaluate(() => sessionStorage.length) === 0, 'signing out forgets the token');
  check((await graphql(base, firstToken, '{ me { email } }')).me.email === 'demo@example.com',
    'a plain sign-out ends no session on the server');

  // "Sign out everywhere" ends every session of the account, and forgets the token here.
  await signIn(page, base, 'demo@example.com', password);
  const secondToken = await page.evaluate(() => sessionStorage.getItem('admin.token'));
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.locator('#sign-in').waitFor({ state: 'visible' });
  check(await page.evaluate(() => sessionStorage.length) === 0, 'signing out everywhere forgets the token');
  const outNotice = await page.locator('#notice').textContent();
  check(outNotice.startsWith('Signed out everywhere'), `says it signed out everywhere: ${outNotice}`);
  for (const [what, token] of [['this', secondToken], ['an earlier', firstToken]]) {
    const refused = await graphql(base, token, '{ me { email } }').then(() => false, (e) => e.message.includes('UNAUTHENTICATED'));
    check(refused, `${what} session's token is refused after signing out everywhere`);
  }
  check(problems.length === 0, `no page or console errors:\n${problems.join('\n')}`);

  // --- a viewer: no owner controls ----------------------------------------------------
  const login = await graphql(base, null,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }',
    { e: 'demo@example.com', p: password });
  await graphql(base, login.login.token,
    'mutation { createUser(email: "viewer@example.com", password: "viewer-password-1", role: VIEWER) { id } }');
  const viewerProblems = [];
  const viewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const vpage = await viewer.newPage();
  vpage.setDefaultTimeout(30_000);
  watch(vpage, viewerProblems);
  await signIn(vpage, base, 'viewer@example.com', 'viewer-password-1');
  check(await vpage.locator('#who-role').textContent() === 'viewer', 'signed in as a viewer');
  await vpage.waitForFunction(() => document.querySelectorAll('#orders tbody tr[data-order]').length === 20);
  await view(vpage, 'Inventory');
  await vpage.locator('#inventory tbody tr[data-sku]').first().waitFor();
  // The listings and the queue are shown, without their owner controls.
  await view(vpage, 'Listings');
  await vpage.locator('#listings tbody tr[data-sku]').first().waitFor();
  await vpage.locator('#queue tbody tr[data-id]').first().waitFor();
  check(await vpage.locator('#queue tbody input[type=checkbox]').count() === 0, 'a viewer ticks no changes');
  check(!(await vpage.getByText('Queue changes from a CSV').isVisible()), 'a viewer sees no CSV upload');
  await shotOf(vpage.getByRole('region', { name: 'Price & quantity queue' }), 'admin-viewer-queue');
  for (const name of ['Ping Amazon', 'Sync now', 'Sync inventory', 'Sync transactions', 'Add viewer',
    'Sync listings', 'Full sync', 'Change price or quantity', 'Queue CSV', 'Dry run', 'Submit', 'Override', 'Cancel']) {
    check(await vpage.getByRole('button', { name }).count() === 0, `a viewer sees no "${name}" button`);
  }
  check(await vpage.getByRole('checkbox', { name: 'Full scan' }).count() === 0, 'a viewer sees no "Full scan" choice');
  // Settings: only their own password; no seller account, credentials or users.
  await view(vpage, 'Settings');
  await vpage.getByRole('region', { name: 'Your password' }).waitFor();
  for (const name of ['Seller account', 'Amazon credentials', 'Users', 'Connect your Amazon seller account']) {
    check(await vpage.getByRole('region', { name }).count() === 0, `a viewer sees no "${name}" settings`);
  }
  check(await vpage.locator('#c-seller, #k-client-secret, #users').evaluateAll((nodes) => nodes.every((n) => n.offsetParent === null)),
    'the settings forms are not shown to a viewer');
  await shot(vpage, 'admin-viewer');
  check(viewerProblems.length === 0, `no page or console errors:\n${viewerProblems.join('\n')}`);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  for (const s of screenshots) console.log(`screenshot: ${s}`);
  console.log(`browser test passed in ${seconds} s`);
} catch (e) {
  console.error(e);
  console.error(`browser test FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  api?.child.kill('SIGTERM');
  fresh?.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(freshDir, { recursive: true, force: true });
}
