// The admin page: plain JavaScript modules over the GraphQL API at /graphql (and
// /graphql/ws for a running sync's progress), no build step. This entry holds the
// views and their URLs, start-up, and the wiring of every control; each view's
// code is in its own module.

import { drawChart, loadChart } from './chart.js';
import { $, TOKEN_KEY, explain, gql, hooks, notice, state } from './core.js';
import { loadIssues, loadTransactions } from './finances.js';
import { loadInventory } from './inventory.js';
import { loadListings, loadQueue, queueCsv, readCsvFile, submitChanges, syncListings } from './listings.js';
import { exportOrdersCsv, loadOrders, watchOrders } from './orders.js';
import { changeOwnPassword, createOwner, replaceOneTimePassword, showPasswordRules, signIn, signOut, signOutEverywhere, welcome } from './session.js';
import { addViewer, fillMarketplaceChoices, fillSettings, loadUsers, saveConnection, saveCredentials } from './settings.js';
import { loadStatus, ping } from './status.js';
import { followRunningSync, loadRuns, sync, syncInventory, syncTransactions } from './sync.js';

async function start() {
  try {
    const data = await gql('{ me { email role mustChangePassword } setup { minPasswordChars } }');
    state.me = data.me;
    state.minPasswordChars = data.setup.minPasswordChars;
    showPasswordRules();
  } catch (err) {
    if (!sessionStorage.getItem(TOKEN_KEY)) return;
    notice(explain(err), true);
    return;
  }
  const owner = state.me.role === 'OWNER';
  $('who-email').textContent = state.me.email;
  $('who-role').textContent = owner ? 'owner' : 'viewer';
  $('who').hidden = false;
  $('sign-in').hidden = true;
  $('create-owner').hidden = true;
  if (state.me.mustChangePassword) {
    // A one-time password (worker reset-password): nothing else until it is replaced.
    $('must-change').hidden = false;
    if (state.typedPassword) $('mc-current').value = state.typedPassword;
    state.typedPassword = null;
    $('mc-new').focus();
    notice('Choose your own password to go on.');
    return;
  }
  state.typedPassword = null;
  $('app').hidden = false;
  $('views').hidden = false;
  notice(`Signed in as ${state.me.email}.`);
  await loadStatus();
  // A fresh install goes where it is set up, unless the URL names a view.
  const configured = Boolean(state.connection?.credentialConfigured);
  if (owner && !configured && !location.hash.startsWith('#/')) history.replaceState(null, '', '#/settings');
  route(false);
  // Every view's table is read now with its form's filter: coming to a view with
  // that same filter later reads nothing again.
  for (const view of Object.keys(FILTERS)) state.shownFilters[view] ??= filterQuery(view);
  await refreshAll(false);
  watchOrders();
  await followRunningSync();
}

async function refreshAll(status = true) {
  if (status) await loadStatus();
  const loads = [loadOrders(), loadInventory(), loadListings(), loadQueue(), loadRuns(), loadChart(), loadTransactions(), loadIssues()];
  if (state.me?.role === 'OWNER') loads.push(loadUsers());
  await Promise.all(loads);
}

// --- views and deep links ------------------------------------------------------------------------

const VIEWS = ['overview', 'orders', 'inventory', 'listings', 'finances', 'sync', 'settings'];

/** The views whose filters the URL names: each filter input by its parameter, how
 *  to start from the first page, and how to read the view again. */
const FILTERS = {
  orders: {
    form: 'orders-filter',
    params: { status: 'f-status', marketplace: 'f-marketplace', from: 'f-from', to: 'f-to', sku: 'f-sku', order: 'f-order' },
    reset: () => { state.ordersCursors = [null]; },
    load: () => loadOrders(),
  },
  inventory: {
    form: 'inventory-filter',
    params: { marketplace: 'i-marketplace', sku: 'i-sku', low: 'i-low' },
    reset: () => { state.inventoryCursors = [null]; },
    load: () => loadInventory(),
  },
  listings: {
    form: 'listings-filter',
    params: { marketplace: 'l-marketplace', status: 'l-status', sku: 'l-sku', gone: 'l-gone' },
    reset: () => { state.listingsCursors = [null]; },
    load: () => loadListings(),
  },
  finances: {
    form: 'transactions-filter',
    params: { from: 't-from', to: 't-to', order: 't-order', type: 't-type', status: 't-status' },
    reset: () => {},
    load: () => loadTransactions(),
  },
};

/** The view's filter, as the form holds it, as URL parameters. */
function filterQuery(view) {
  const params = new URLSearchParams();
  for (const [name, id] of Object.entries(FILTERS[view].params)) {
    const input = $(id);
    const value = input.type === 'checkbox' ? (input.checked ? '1' : '') : input.value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

/** Puts the URL's filter into the view's form; whether it differs from the one shown. */
function applyFilter(view, params) {
  for (const [name, id] of Object.entries(FILTERS[view].params)) {
    const value = params.get(name) ?? '';
    const input = $(id);
    if (input.type === 'checkbox') {
      input.checked = value === '1';
      continue;
    }
    if (input.tagName === 'SELECT' && value && ![...input.options].some((o) => o.value === value)) {
      // A marketplace not listed yet: chosen once the list arrives.
      input.dataset.wanted = value;
    }
    input.value = value;
  }
  const query = filterQuery(view);
  const changed = query !== state.shownFilters[view];
  state.shownFilters[view] = query;
  if (changed) FILTERS[view].reset();
  return changed;
}

/** A filter form was submitted: the URL takes the filter (so it can be bookmarked
 *  and shared) and the view follows the URL; the same filter again reads it again. */
function submitFilter(view) {
  const query = filterQuery(view);
  const hash = `#/${view}${query ? `?${query}` : ''}`;
  if (location.hash !== hash) {
    history.pushState(null, '', hash);
    route();
  } else {
    FILTERS[view].reset();
    FILTERS[view].load();
  }
}

/** The view and its parameters the URL names: `#/orders?status=SHIPPED&sku=X`. */
function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const view = VIEWS.includes(path) ? path : 'overview';
  return { view, params: new URLSearchParams(query) };
}

/** Shows the URL's view: each part of the page names its view (`data-view`);
 *  owner-only parts stay hidden from viewers (the API refuses them anyway). */
function route(load = true) {
  const { view, params } = currentRoute();
  state.view = view;
  const owner = state.me?.role === 'OWNER';
  for (const node of document.querySelectorAll('[data-view], [data-owner]')) {
    const wrongView = node.dataset.view !== undefined && node.dataset.view !== view;
    const ownerOnly = node.dataset.owner !== undefined && !owner;
    node.hidden = wrongView || ownerOnly;
  }
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view[0].toUpperCase()}${view.slice(1)} · Amazon orders admin`;
  if (FILTERS[view] && applyFilter(view, params) && load) FILTERS[view].load();
  if (view === 'settings' && owner) fillSettings();
}

// --- wiring ------------------------------------------------------------------------------------

// The views reach the entry only through these.
Object.assign(hooks, { start, refreshAll, submitFilter, signOut });

$('sign-in-form').addEventListener('submit', signIn);
$('create-owner-form').addEventListener('submit', createOwner);
$('must-change-form').addEventListener('submit', replaceOneTimePassword);
$('password-form').addEventListener('submit', changeOwnPassword);
$('connection-form').addEventListener('submit', saveConnection);
$('credentials-form').addEventListener('submit', saveCredentials);
$('c-region').addEventListener('change', () => fillMarketplaceChoices([]));
$('setup-ping').addEventListener('click', ping);
$('setup-sync').addEventListener('click', sync);
$('orders-csv').addEventListener('click', exportOrdersCsv);
window.addEventListener('hashchange', () => {
  if (state.me && !state.me.mustChangePassword) route();
});
$('sign-out').addEventListener('click', () => signOut());
$('sign-out-everywhere').addEventListener('click', signOutEverywhere);
$('ping').addEventListener('click', ping);
$('sync-form').addEventListener('submit', sync);
$('inventory-sync-form').addEventListener('submit', syncInventory);
$('transactions-sync-form').addEventListener('submit', syncTransactions);
for (const [view, f] of Object.entries(FILTERS)) {
  $(f.form).addEventListener('submit', (e) => {
    e.preventDefault();
    submitFilter(view);
  });
}
$('transactions-more').addEventListener('click', () => loadTransactions(true));
$('reconciliation-more').addEventListener('click', () => loadIssues(true));
$('user-form').addEventListener('submit', addViewer);
$('chart-currency').addEventListener('change', () => {
  state.chartCurrency = $('chart-currency').value;
  drawChart();
});
$('orders-next').addEventListener('click', () => {
  if (!state.ordersNext) return;
  state.ordersCursors.push(state.ordersNext);
  loadOrders();
});
$('orders-prev').addEventListener('click', () => {
  if (state.ordersCursors.length > 1) state.ordersCursors.pop();
  loadOrders();
});
$('inventory-next').addEventListener('click', () => {
  if (!state.inventoryNext) return;
  state.inventoryCursors.push(state.inventoryNext);
  loadInventory();
});
$('inventory-prev').addEventListener('click', () => {
  if (state.inventoryCursors.length > 1) state.inventoryCursors.pop();
  loadInventory();
});
$('listings-sync-form').addEventListener('submit', (e) => {
  e.preventDefault();
  syncListings(false);
});
$('listings-sync-full').addEventListener('click', () => syncListings(true));
$('listings-next').addEventListener('click', () => {
  if (!state.listingsNext) return;
  state.listingsCursors.push(state.listingsNext);
  loadListings();
});
$('listings-prev').addEventListener('click', () => {
  if (state.listingsCursors.length > 1) state.listingsCursors.pop();
  loadListings();
});
$('csv-form').addEventListener('submit', queueCsv);
$('csv-file').addEventListener('change', readCsvFile);
$('queue-submit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  submitChanges(false);
});
$('queue-dry-run').addEventListener('click', () => submitChanges(true));
$('queue-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  state.queueCursors = [null];
  loadQueue();
});
$('queue-next').addEventListener('click', () => {
  if (!state.queueNext) return;
  state.queueCursors.push(state.queueNext);
  loadQueue();
});
$('queue-prev').addEventListener('click', () => {
  if (state.queueCursors.length > 1) state.queueCursors.pop();
  loadQueue();
});
$('runs-next').addEventListener('click', () => {
  if (!state.runsNext) return;
  state.runsCursors.push(state.runsNext);
  loadRuns();
});
$('runs-prev').addEventListener('click', () => {
  if (state.runsCursors.length > 1) state.runsCursors.pop();
  loadRuns();
});

if (sessionStorage.getItem(TOKEN_KEY)) {
  start();
} else {
  welcome();
}
