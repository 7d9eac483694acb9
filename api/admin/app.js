// The admin page: plain JavaScript over the GraphQL API at /graphql (and
// /graphql/ws for a running sync's progress). The sign-in token lives in
// sessionStorage: it lasts as long as the tab.

const TOKEN_KEY = 'admin.token';
const ORDERS_PAGE = 20;
const RUNS_PAGE = 10;
const INVENTORY_PAGE = 25;
const TRANSACTIONS_PAGE = 25;
const ISSUES_PAGE = 25;
const LISTINGS_PAGE = 25;
const QUEUE_PAGE = 25;
// While changes are being pushed, the queue is read again this often.
const QUEUE_POLL_MS = 3000;
// Levels of a transaction's breakdown tree read with the list; a deeper level is
// announced, not silently dropped.
const BREAKDOWN_DEPTH = 6;

const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  view: 'overview', // the view the URL names (#/orders?status=SHIPPED …)
  shownFilters: {}, // by view: the filter (as URL parameters) its table was read with
  minPasswordChars: 12, // the API's rule, read from `setup` before sign-in
  marketplaces: [], // every marketplace: { marketplaceId name countryCode region sellerCentralUrl }
  connection: null,
  ordersCursors: [null], // cursor before each visited page; the last is the current page's
  ordersNext: null,
  runsCursors: [null],
  runsNext: null,
  inventoryCursors: [null],
  inventoryNext: null,
  marketplaceNames: new Map(), // marketplace id -> "Amazon.com"
  following: {}, // by run kind: the WebSocket (or timer) following a running sync
  signingOutEverywhere: false, // while the signOutEverywhere mutation is in flight
  sales: [],
  chartCurrency: null, // the currency the user picked, if any
  profit: [], // profitDaily rows of the chart's days; null when they could not be read
  transactionsNext: null, // cursor after the last transaction shown, when there are more
  transactionsShown: 0,
  transactionsLoad: 0, // bumped per load from the top: a slower, older answer is dropped
  issuesNext: null,
  issuesShown: 0,
  issuesLoad: 0,
  listingsCursors: [null],
  listingsNext: null,
  listingsLoad: 0,
  queueCursors: [null],
  queueNext: null,
  queueLoad: 0,
  queueSelected: new Set(), // ids of the ticked changes
  queueOpen: new Set(), // ids of the changes whose history is open
  queuePoll: null, // the timer reading the queue again while changes are pushed
  queueWasMoving: false,
};

// --- GraphQL -------------------------------------------------------------------

class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.codes = errors.map((e) => e.extensions?.code);
    this.errors = errors;
  }
}

async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  // Signed out (or in as someone else) while this was in flight: its answer belongs
  // to a session that has ended, and must not touch the page or its notice.
  if (sessionStorage.getItem(TOKEN_KEY) !== token) return new Promise(() => {});
  if (!res.ok && res.headers.get('content-type')?.includes('json') !== true) {
    throw new Error(`the server answered ${res.status}`);
  }
  const body = await res.json();
  // Checked again: the session may have ended while the body was read.
  if (sessionStorage.getItem(TOKEN_KEY) !== token) return new Promise(() => {});
  if (body.errors?.length) {
    const err = new GraphQLError(body.errors);
    // While signing out everywhere, requests already in flight are refused as the
    // sessions end; that sign-out says what happened, not this one.
    if (err.codes.includes('UNAUTHENTICATED') && token && !state.signingOutEverywhere) {
      signOut('Your session ended: sign in again.');
    }
    throw err;
  }
  return body.data;
}

// --- formatting ------------------------------------------------------------------

function money(amount, currency) {
  if (amount == null) return '—';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

/** An amount exactly as the API sent it (a decimal string) with its currency:
 *  never through a float, so 0.1 + 0.2 mistakes and rounding cannot happen. */
function exact(m) {
  return m ? `${m.amount} ${m.currencyCode}` : '—';
}

function isNegative(amount) {
  return String(amount ?? '').trim().startsWith('-');
}

/** A span with an exact amount, marked (and coloured) when negative. */
function amountSpan(m) {
  return el('span', { class: m && isNegative(m.amount) ? 'amount neg' : 'amount' }, exact(m));
}

/** Amounts per currency (a [Money!]!), each exactly; `none` when the list is empty. */
function amounts(list, none = '—') {
  if (!list?.length) return none;
  return list.map(exact).join(', ');
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

// A change's steps come seconds apart: its history says the seconds.
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
function whenExactly(iso) {
  return iso ? dateTimeSeconds.format(new Date(iso)) : '—';
}

function ago(seconds) {
  if (seconds == null) return 'never';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v != null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

function notice(text, isError = false) {
  const n = $('notice');
  n.textContent = text;
  n.className = isError ? 'bad' : '';
}

function explain(err) {
  return err instanceof GraphQLError ? err.message : `Cannot reach the server: ${err.message}`;
}

/** Today's date (YYYY-MM-DD) in `timeZone`, and `days` earlier. */
function localDay(timeZone, daysBack = 0) {
  const d = new Date(Date.now() - daysBack * 86400000);
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

// --- sign in / out ------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  $('sign-in-error').textContent = '';
  try {
    const data = await gql(
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { email role } } }',
      { e: $('email').value, p: $('password').value },
    );
    sessionStorage.setItem(TOKEN_KEY, data.login.token);
    // Kept for the one-time password form, which asks for it again otherwise.
    state.typedPassword = $('password').value;
    $('password').value = '';
    await start();
  } catch (err) {
    $('sign-in-error').textContent = explain(err);
  }
}

/** Ends every session of this account on the server, then signs out here whatever the answer. */
async function signOutEverywhere() {
  let message = 'Signed out everywhere: every session of this account has ended.';
  state.signingOutEverywhere = true;
  try {
    await gql('mutation { signOutEverywhere }');
  } catch (err) {
    // The token is dropped anyway; say what the server answered.
    message = `Signed out here; signing out everywhere failed: ${explain(err)}`;
  } finally {
    state.signingOutEverywhere = false;
  }
  if (sessionStorage.getItem(TOKEN_KEY)) signOut(message);
  else notice(message);
}

function signOut(message = 'Signed out.') {
  sessionStorage.removeItem(TOKEN_KEY);
  stopFollowingAll();
  clearTimeout(state.queuePoll);
  state.queuePoll = null;
  state.queueSelected.clear();
  state.queueOpen.clear();
  state.me = null;
  state.typedPassword = null;
  $('app').hidden = true;
  $('who').hidden = true;
  $('views').hidden = true;
  $('must-change').hidden = true;
  $('create-owner').hidden = true;
  $('sign-in').hidden = false;
  notice(message);
  $('email').focus();
}

/** Before anyone signs in: a fresh install offers to create the owner. */
async function welcome() {
  try {
    const { setup } = await gql('{ setup { ownerExists minPasswordChars } }');
    state.minPasswordChars = setup.minPasswordChars;
    showPasswordRules();
    if (!setup.ownerExists) {
      $('sign-in').hidden = true;
      $('create-owner').hidden = false;
      $('owner-email').focus();
      return;
    }
  } catch (err) {
    notice(explain(err), true);
  }
  $('sign-in').hidden = false;
}

function showPasswordRules() {
  for (const node of document.querySelectorAll('.password-rule')) {
    node.textContent = `At least ${state.minPasswordChars} characters; a few words are easier to remember than symbols.`;
  }
  for (const id of ['owner-password', 'mc-new', 'u-password', 'p-new']) $(id).minLength = state.minPasswordChars;
}

/** The two password fields of a form agree and follow the rule; else why not. */
function passwordProblem(password, again) {
  if ([...password].length < state.minPasswordChars) return `The password needs at least ${state.minPasswordChars} characters.`;
  if (again !== undefined && password !== again) return 'The two passwords differ.';
  return null;
}

async function createOwner(event) {
  event.preventDefault();
  const error = $('create-owner-error');
  const problem = passwordProblem($('owner-password').value, $('owner-password-again').value);
  error.textContent = problem ?? '';
  if (problem) return;
  try {
    const data = await gql(
      'mutation($e: String!, $p: String!) { register(email: $e, password: $p) { token } }',
      { e: $('owner-email').value, p: $('owner-password').value },
    );
    sessionStorage.setItem(TOKEN_KEY, data.register.token);
    $('create-owner-form').reset();
    $('create-owner').hidden = true;
    await start();
  } catch (err) {
    error.textContent = explain(err);
  }
}

/** Saves a new password of the signed-in user; the answer's token replaces ours
 *  (every earlier one, on every device, stops working). */
async function changePassword(current, next) {
  const data = await gql(
    'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }',
    { c: current, n: next },
  );
  sessionStorage.setItem(TOKEN_KEY, data.changePassword.token);
}

async function replaceOneTimePassword(event) {
  event.preventDefault();
  const error = $('must-change-error');
  const problem = passwordProblem($('mc-new').value, $('mc-again').value);
  error.textContent = problem ?? '';
  if (problem) return;
  try {
    await changePassword($('mc-current').value, $('mc-new').value);
    $('must-change-form').reset();
    $('must-change').hidden = true;
    await start();
  } catch (err) {
    error.textContent = explain(err);
  }
}

async function changeOwnPassword(event) {
  event.preventDefault();
  const error = $('password-error');
  const problem = passwordProblem($('p-new').value, $('p-again').value);
  error.textContent = problem ?? '';
  if (problem) return;
  try {
    await changePassword($('p-current').value, $('p-new').value);
    $('password-form').reset();
    notice('Password changed: your other sessions have ended.');
  } catch (err) {
    // A wrong current password is an answer about the form, not a lost session.
    error.textContent = explain(err);
  }
}

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
  await refreshAll(false);
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

// --- status ------------------------------------------------------------------------------

const CONNECTION = `amazonConnection { sellerId region marketplaceIds ordersApiVersion sandbox
  endpoint tokenUrl timezone credentialUpdatedAt
  credentialConfigured lwaClientId reportTimezone lastCheckAt lastCheckOk lastCheckError
  lastOrdersSyncAt lastOrdersSyncStatus lastOrdersSyncError lastOrdersSyncOrdersCount lastOrdersSyncItemsCount }`;

async function loadStatus() {
  let data;
  try {
    data = await gql(`{ ${CONNECTION} marketplaces { marketplaceId name countryCode region sellerCentralUrl }
      syncHealth { ok lagSeconds lastOrderAt consecutiveFailures activeAlerts { kind marketplaceId sellerSku since message } } }`);
  } catch (err) {
    notice(explain(err), true);
    return;
  }
  const c = data.amazonConnection;
  const h = data.syncHealth;
  state.connection = c;
  state.marketplaceNames = new Map(data.marketplaces.map((m) => [m.marketplaceId, m.name]));
  state.marketplaces = data.marketplaces;
  const facts = $('status');
  facts.replaceChildren();
  const fact = (label, value, cls) => facts.append(el('div', {}, el('dt', {}, label), el('dd', cls ? { class: cls } : {}, value)));
  if (!c) {
    fact('Connection', 'No Amazon seller account connected yet.', 'bad');
  } else {
    fact('Seller', c.sellerId);
    fact('Region', c.region + (c.sandbox ? ' (sandbox)' : ''));
    fact('Marketplaces', c.marketplaceIds.map(marketplaceName).join(', '));
    fact('Orders API', c.ordersApiVersion === 'V0' ? 'v0' : c.ordersApiVersion.slice(1).replaceAll('_', '-'));
    fact('Credentials', c.credentialConfigured ? `configured (${c.lwaClientId})` : 'not configured', c.credentialConfigured ? 'ok' : 'bad');
    fact('Last ping', c.lastCheckAt ? `${when(c.lastCheckAt)}: ${c.lastCheckOk ? 'OK' : `failed — ${c.lastCheckError ?? ''}`}` : 'never',
      c.lastCheckAt ? (c.lastCheckOk ? 'ok' : 'bad') : undefined);
    const counts = c.lastOrdersSyncOrdersCount != null
      ? ` (${c.lastOrdersSyncOrdersCount} orders, ${c.lastOrdersSyncItemsCount ?? 0} items)` : '';
    fact('Last sync', c.lastOrdersSyncAt
      ? `${when(c.lastOrdersSyncAt)}: ${c.lastOrdersSyncStatus}${counts}${c.lastOrdersSyncError ? ` — ${c.lastOrdersSyncError}` : ''}`
      : 'never', c.lastOrdersSyncStatus === 'FAILED' ? 'bad' : undefined);
    fillMarketplaces(c.marketplaceIds);
  }
  fact('Freshness', h.lagSeconds == null ? 'no successful sync yet' : `last good sync ${ago(h.lagSeconds)}`);
  fact('Newest order', when(h.lastOrderAt));
  // Nothing can be fresh before an account and its credentials are there: not "OK".
  const configured = Boolean(c?.credentialConfigured);
  showConfigured(c, configured);
  fact('Health', !configured ? 'Not configured: connect a seller account and store its credentials'
    : h.ok ? 'OK' : `${h.activeAlerts.length} alert(s)`, configured && h.ok ? 'ok' : 'bad');
  const alerts = $('alerts');
  // One line per SKU would bury the other alerts: low stock is summed up here and
  // listed in the inventory section.
  const lowStock = h.activeAlerts.filter((a) => a.kind === 'low_stock');
  alerts.replaceChildren(...h.activeAlerts.filter((a) => a.kind !== 'low_stock')
    .map((a) => el('p', { class: 'alert' }, `${a.message} (since ${when(a.since)})`)));
  if (lowStock.length) {
    const some = lowStock.slice(0, 3).map((a) => `${a.sellerSku} (${marketplaceName(a.marketplaceId)})`).join(', ');
    alerts.append(el('p', { class: 'alert' },
      `Low stock: ${lowStock.length} SKU(s) are running out: ${some}${lowStock.length > 3 ? ` and ${lowStock.length - 3} more` : ''}. `,
      el('button', { type: 'button', class: 'link', onclick: showLowStock }, 'Show them in Inventory')));
  }
  if (state.me?.role === 'OWNER') {
    // Locked sign-ins: someone may be guessing a password.
    try {
      const { loginLockouts } = await gql('{ loginLockouts { email failures until } }');
      alerts.append(...loginLockouts.map((l) => el('p', { class: 'alert' },
        `Sign-in locked for ${l.email} after ${l.failures} failed attempts, until ${when(l.until)}.`)));
    } catch (err) {
      notice(explain(err), true);
    }
  }
}

/** Until a seller account and its credentials are stored, nothing can reach Amazon:
 *  the buttons that would are disabled, saying why, and the page says where to go. */
function showConfigured(c, configured) {
  const reason = !c ? 'Connect a seller account first (Settings).'
    : !configured ? 'Store the Amazon credentials first (Settings).' : null;
  const owner = state.me?.role === 'OWNER';
  const line = $('not-configured');
  line.hidden = !reason;
  line.replaceChildren();
  if (reason) {
    line.append(owner
      ? el('span', {}, `${reason.replace(' (Settings).', '')}: `, el('a', { href: '#/settings' }, 'set it up in Settings'), '.')
      : 'Not configured yet: the owner connects the Amazon seller account.');
  }
  for (const id of ['ping', 'sync', 'inventory-sync', 'listings-sync', 'listings-sync-full', 'transactions-sync', 'setup-ping', 'setup-sync']) {
    const b = $(id);
    if (reason) {
      // Its own title comes back once the reason is gone.
      if (b.dataset.blocked === undefined) b.dataset.blocked = b.title;
      b.disabled = true;
      b.title = reason;
    } else if (b.dataset.blocked !== undefined) {
      b.title = b.dataset.blocked;
      delete b.dataset.blocked;
      b.disabled = isFollowed(id);
    }
  }
  fillSetupSteps(c, configured);
}

/** Whether the button belongs to a sync being followed (it stays disabled then). */
function isFollowed(buttonId) {
  return Object.entries(SYNCS).some(([kind, s]) => state.following[kind]
    && (s.button === buttonId || s.more?.includes(buttonId) || s.also?.includes(buttonId)));
}

/** A country's mark: its code on a small flag-like tag. (Emoji flags show as empty
 *  boxes on Windows and on systems without an emoji font.) */
function flag(countryCode) {
  if (!/^[A-Z]{2}$/.test(countryCode ?? '')) return '';
  return el('span', { class: 'flag', 'aria-hidden': 'true' }, countryCode);
}

function marketplaceOf(id) {
  return state.marketplaces.find((m) => m.marketplaceId === id);
}

/** A marketplace's flag and name, its id in the tooltip. */
function marketplaceLabel(id) {
  const m = marketplaceOf(id);
  return el('span', { title: id, class: 'marketplace' }, m ? flag(m.countryCode) : '', marketplaceName(id));
}

/** "Amazon.com" for ATVPDKIKX0DER; the id itself for a marketplace the API does not name. */
function marketplaceName(id) {
  return state.marketplaceNames.get(id) ?? id ?? '—';
}

function fillMarketplaces(ids) {
  for (const select of [$('f-marketplace'), $('i-marketplace'), $('l-marketplace')]) {
    const current = select.value;
    select.replaceChildren(el('option', { value: '' }, 'Any'), ...ids.map((id) => el('option', { value: id }, marketplaceName(id))));
    const wanted = select.dataset.wanted ?? current;
    delete select.dataset.wanted;
    select.value = ids.includes(wanted) ? wanted : '';
  }
}

async function ping() {
  const buttons = [$('ping'), $('setup-ping')];
  for (const b of buttons) b.disabled = true;
  notice('Pinging Amazon…');
  let text;
  let bad = false;
  try {
    const data = await gql('mutation { pingSpApi { lastCheckOk lastCheckError } }');
    const p = data.pingSpApi;
    text = p.lastCheckOk ? 'Ping OK: Amazon accepted the credentials.' : `Ping failed: ${p.lastCheckError}`;
    bad = !p.lastCheckOk;
  } catch (err) {
    text = explain(err);
    bad = true;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
  notice(text, bad);
  $('setup-progress').textContent = text;
  $('setup-progress').className = bad ? 'bad' : 'ok';
  await loadStatus();
}

// --- sync ------------------------------------------------------------------------------

const RUN_FIELDS = 'id kind status trigger dryRun includeItems pages apiCalls throttled found inserted updated unchanged ordersFound ordersInserted ordersUpdated ordersUnchanged itemsUpserted error startedAt finishedAt';

/** Where each kind of run is started and followed: its button and its progress line. */
const SYNCS = {
  ORDERS: { button: 'sync', progress: 'progress', also: ['setup-sync'], alsoProgress: 'setup-progress' },
  INVENTORY: { button: 'inventory-sync', progress: 'inventory-progress' },
  TRANSACTIONS: { button: 'transactions-sync', progress: 'transactions-progress' },
  LISTINGS: { button: 'listings-sync', progress: 'listings-progress', more: ['listings-sync-full'] },
};

async function sync(event) {
  event.preventDefault();
  $('sync').disabled = true;
  $('setup-sync').disabled = true;
  try {
    const data = await gql(
      `mutation($d: Boolean!, $i: Boolean!) { syncAmazonOrders(dryRun: $d, includeItems: $i) { ${RUN_FIELDS} } }`,
      { d: $('dry-run').checked, i: $('include-items').checked },
    );
    follow(data.syncAmazonOrders);
  } catch (err) {
    if (err instanceof GraphQLError && err.codes.includes('SYNC_ALREADY_RUNNING')) {
      const id = err.errors[0].extensions?.runningRunId;
      notice('A sync is already running: following it.');
      if (id) return follow({ id, kind: 'ORDERS', status: 'RUNNING', pages: 0, ordersFound: 0 });
    }
    notice(explain(err), true);
    $('setup-progress').textContent = `The sync did not start: ${explain(err)}`;
    $('setup-progress').className = 'bad';
    $('sync').disabled = false;
    $('setup-sync').disabled = false;
  }
}

async function syncInventory(event) {
  event.preventDefault();
  const progress = $('inventory-progress');
  $('inventory-sync').disabled = true;
  progress.textContent = 'Starting the inventory sync…';
  progress.className = '';
  try {
    const data = await gql(
      `mutation($full: Boolean!) { syncAmazonInventory(full: $full) { ${RUN_FIELDS} } }`,
      { full: $('inventory-full').checked },
    );
    follow(data.syncAmazonInventory);
  } catch (err) {
    if (err instanceof GraphQLError && err.codes.includes('SYNC_ALREADY_RUNNING')) {
      const id = err.errors[0].extensions?.runningRunId;
      if (id) {
        follow({ id, kind: 'INVENTORY', status: 'RUNNING', pages: 0, found: 0, inserted: 0, updated: 0 });
        progress.textContent = `An inventory sync (#${id}) is already running: following it…`;
        return;
      }
    }
    progress.textContent = `The inventory sync did not start: ${explain(err)}`;
    progress.className = 'bad';
    $('inventory-sync').disabled = false;
  }
}

async function syncTransactions(event) {
  event.preventDefault();
  const progress = $('transactions-progress');
  $('transactions-sync').disabled = true;
  progress.textContent = 'Starting the transactions sync…';
  progress.className = '';
  try {
    const data = await gql(`mutation { syncAmazonTransactions { ${RUN_FIELDS} } }`);
    follow(data.syncAmazonTransactions);
  } catch (err) {
    if (err instanceof GraphQLError && err.codes.includes('SYNC_ALREADY_RUNNING')) {
      const id = err.errors[0].extensions?.runningRunId;
      if (id) {
        follow({ id, kind: 'TRANSACTIONS', status: 'RUNNING', pages: 0, found: 0, inserted: 0, updated: 0 });
        progress.textContent = `A transactions sync (#${id}) is already running: following it…`;
        return;
      }
    }
    progress.textContent = `The transactions sync did not start: ${explain(err)}`;
    progress.className = 'bad';
    $('transactions-sync').disabled = false;
  }
}

/** Follows the newest run of each kind if it is still running (after sign-in, and
 *  after an orders sync, which refreshes the stock of what sold in a run of its own). */
async function followRunningSync() {
  try {
    const data = await gql(`{ syncRuns(first: 10) { edges { node { ${RUN_FIELDS} } } } }`);
    const runs = data.syncRuns.edges.map((e) => e.node);
    for (const kind of Object.keys(SYNCS)) {
      const run = runs.find((r) => r.kind === kind);
      if (run?.status === 'RUNNING' && !state.following[kind]) follow(run);
    }
  } catch {
    // The history panel shows the error already.
  }
}

function showProgress(run) {
  const dry = run.dryRun ? ' (dry run)' : '';
  const line = $(SYNCS[run.kind].progress);
  if (run.kind === 'INVENTORY') {
    line.textContent = run.status === 'RUNNING'
      ? `Inventory sync #${run.id}${dry} running: ${run.pages ?? 0} page(s), ${run.found ?? 0} SKU(s) read, ${run.inserted ?? 0} new, ${run.updated ?? 0} updated…`
      : `Inventory sync #${run.id}${dry} ${run.status.toLowerCase()}: ${run.found} SKU(s) read, ${run.inserted} new, ${run.updated} updated, ${run.unchanged} unchanged, ${run.apiCalls} API calls${run.error ? ` — ${run.error}` : ''}.`;
  } else if (run.kind === 'LISTINGS') {
    line.textContent = run.status === 'RUNNING'
      ? `Listings sync #${run.id}${dry} running: ${run.pages ?? 0} page(s), ${run.found ?? 0} listing(s) read, ${run.inserted ?? 0} new, ${run.updated ?? 0} updated…`
      : `Listings sync #${run.id}${dry} ${run.status.toLowerCase()}: ${run.found} listing(s) read, ${run.inserted} new, ${run.updated} updated, ${run.unchanged} unchanged, ${run.apiCalls} API calls${run.error ? ` — ${run.error}` : ''}.`;
  } else if (run.kind === 'TRANSACTIONS') {
    line.textContent = run.status === 'RUNNING'
      ? `Transactions sync #${run.id}${dry} running: ${run.pages ?? 0} page(s), ${run.found ?? 0} transaction(s) read, ${run.inserted ?? 0} new, ${run.updated ?? 0} updated…`
      : `Transactions sync #${run.id}${dry} ${run.status.toLowerCase()}: ${run.found} transaction(s) read, ${run.inserted} new, ${run.updated} updated, ${run.unchanged} unchanged, ${run.apiCalls} API calls${run.error ? ` — ${run.error}` : ''}.`;
  } else if (run.status === 'RUNNING') {
    line.textContent = `Sync #${run.id}${dry} running: ${run.pages} page(s), ${run.ordersFound} orders read, ${run.ordersInserted ?? 0} new, ${run.ordersUpdated ?? 0} updated…`;
  } else {
    line.textContent = `Sync #${run.id}${dry} ${run.status.toLowerCase()}: ${run.ordersFound} orders read, ${run.ordersInserted} new, ${run.ordersUpdated} updated, ${run.itemsUpserted} items, ${run.apiCalls} API calls${run.error ? ` — ${run.error}` : ''}.`;
  }
  line.className = run.status === 'FAILED' ? 'bad' : '';
  const also = SYNCS[run.kind].alsoProgress;
  if (also) {
    $(also).textContent = line.textContent;
    $(also).className = line.className;
  }
}

function stopFollowing(kind) {
  const f = state.following[kind];
  delete state.following[kind];
  if (f instanceof WebSocket) f.close();
  else if (f) clearTimeout(f);
}

function stopFollowingAll() {
  for (const kind of Object.keys(state.following)) stopFollowing(kind);
}

/** Shows a running sync's progress until it ends, over the subscription; polls when
 *  WebSockets are unavailable. The run's sync button stays disabled meanwhile. */
function follow(run) {
  const kind = run.kind in SYNCS ? run.kind : 'ORDERS';
  run = { ...run, kind };
  stopFollowing(kind);
  const buttons = [SYNCS[kind].button, ...(SYNCS[kind].more ?? []), ...(SYNCS[kind].also ?? [])].map((id) => $(id));
  for (const b of buttons) b.disabled = true;
  showProgress(run);
  const done = async (last) => {
    stopFollowing(kind);
    if (last) showProgress({ ...last, kind });
    for (const b of buttons) b.disabled = false;
    await refreshAll();
    // An orders run that sold FBA stock starts an inventory run right after.
    if (kind === 'ORDERS') await followRunningSync();
  };
  let last = run;
  let ended = false;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  let ws;
  try {
    ws = new WebSocket(`${scheme}://${location.host}/graphql/ws`, 'graphql-transport-ws');
  } catch {
    return poll(run.id, kind, done);
  }
  state.following[kind] = ws;
  // The api closes a socket whose client says nothing for 120 s: ping meanwhile.
  let keepAlive = null;
  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` } }));
    keepAlive = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
    }, 30000);
  });
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === 'connection_ack') {
      ws.send(JSON.stringify({
        id: '1', type: 'subscribe',
        payload: { query: `subscription($id: ID!) { syncRunUpdated(id: $id) { ${RUN_FIELDS} } }`, variables: { id: run.id } },
      }));
    } else if (msg.type === 'next') {
      const r = msg.payload?.data?.syncRunUpdated;
      if (r) {
        last = r;
        showProgress(r);
      }
      if (msg.payload?.errors?.length) notice(msg.payload.errors[0].message, true);
    } else if (msg.type === 'error') {
      notice(msg.payload?.[0]?.message ?? 'the progress subscription failed', true);
    } else if (msg.type === 'complete') {
      ended = true;
      done(last);
    } else if (msg.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong' }));
    }
  });
  ws.addEventListener('close', () => {
    clearInterval(keepAlive);
    // Closed before the run ended (proxy, restart): fall back to polling.
    if (!ended && state.following[kind] === ws) poll(run.id, kind, done);
  });
}

function poll(id, kind, done) {
  const tick = async () => {
    try {
      const data = await gql(`query($id: ID!) { syncRun(id: $id) { ${RUN_FIELDS} } }`, { id });
      const run = data.syncRun;
      showProgress(run);
      if (run.status !== 'RUNNING') return done(run);
    } catch (err) {
      notice(explain(err), true);
    }
    // Stopped meanwhile (signed out, or another run of the kind followed): stop here.
    if (state.following[kind] !== timer) return;
    if (sessionStorage.getItem(TOKEN_KEY)) {
      timer = setTimeout(tick, 1000);
      state.following[kind] = timer;
    }
  };
  let timer = setTimeout(tick, 0);
  state.following[kind] = timer;
}

// --- sync history ---------------------------------------------------------------------------

const RUN_KINDS = { ORDERS: 'Orders', INVENTORY: 'Inventory', TRANSACTIONS: 'Transactions', LISTINGS: 'Listings' };

async function loadRuns() {
  const after = state.runsCursors.at(-1);
  let data;
  try {
    data = await gql(`query($after: String) { syncRuns(first: ${RUNS_PAGE}, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${RUN_FIELDS} } } } }`, { after });
  } catch (err) {
    notice(explain(err), true);
    return;
  }
  const page = data.syncRuns;
  state.runsNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  $('runs').tBodies[0].replaceChildren(...page.edges.map(({ node: r }) => el('tr', {},
    el('td', {}, when(r.startedAt)),
    el('td', {}, RUN_KINDS[r.kind] ?? r.kind),
    el('td', { class: r.status === 'FAILED' ? 'bad' : r.status === 'SUCCEEDED' ? 'ok' : '' }, r.status + (r.dryRun ? ' (dry run)' : '')),
    el('td', {}, r.trigger),
    el('td', { class: 'num' }, String(r.found)),
    el('td', { class: 'num' }, String(r.inserted)),
    el('td', { class: 'num' }, String(r.updated)),
    el('td', { class: 'num' }, String(r.apiCalls)),
    el('td', {}, r.error ?? ''),
  )));
  if (!page.edges.length) $('runs').tBodies[0].append(el('tr', {}, el('td', { colspan: 9 }, 'No sync yet.')));
  const n = state.runsCursors.length;
  $('runs-page').textContent = `Page ${n} of ${Math.max(1, Math.ceil(page.totalCount / RUNS_PAGE))}`;
  $('runs-prev').disabled = n <= 1;
  $('runs-next').disabled = !state.runsNext;
}

// --- orders ----------------------------------------------------------------------------------

function ordersFilter() {
  const f = {};
  const status = $('f-status').value;
  if (status) f.statuses = [status];
  if ($('f-marketplace').value) f.marketplaceId = $('f-marketplace').value;
  // Dates are the browser's local days.
  if ($('f-from').value) f.purchasedFrom = new Date(`${$('f-from').value}T00:00:00`).toISOString();
  if ($('f-to').value) {
    const end = new Date(`${$('f-to').value}T00:00:00`);
    end.setDate(end.getDate() + 1);
    f.purchasedTo = end.toISOString();
  }
  if ($('f-sku').value.trim()) f.sku = $('f-sku').value.trim();
  return f;
}

const ORDER_FIELDS = `amazonOrderId marketplaceId purchaseDate orderStatus fulfillmentChannel
  numberOfItemsShipped numberOfItemsUnshipped orderTotal { amount currencyCode } items { sellerSku quantityOrdered }`;

async function loadOrders() {
  const orderId = $('f-order').value.trim();
  if (orderId) return loadOneOrder(orderId);
  const after = state.ordersCursors.at(-1);
  let data;
  try {
    data = await gql(
      `query($after: String, $filter: AmazonOrderFilter) { amazonOrders(first: ${ORDERS_PAGE}, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { ${ORDER_FIELDS} } } } }`,
      { after, filter: ordersFilter() },
    );
  } catch (err) {
    notice(explain(err), true);
    return;
  }
  const page = data.amazonOrders;
  state.ordersNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  showOrders(page.edges.map((e) => e.node), 'No orders match.');
  const n = state.ordersCursors.length;
  $('orders-count').textContent = `${page.totalCount} order(s)`;
  $('orders-page').textContent = `Page ${n} of ${Math.max(1, Math.ceil(page.totalCount / ORDERS_PAGE))}`;
  $('orders-prev').disabled = n <= 1;
  $('orders-next').disabled = !state.ordersNext;
}

/** Search by Amazon order id: that order alone, whatever the other filters say. */
async function loadOneOrder(orderId) {
  let data;
  try {
    data = await gql(`query($id: String!) { amazonOrder(amazonOrderId: $id) { ${ORDER_FIELDS} } }`, { id: orderId });
  } catch (err) {
    if (!(err instanceof GraphQLError && err.codes.includes('NOT_FOUND'))) {
      notice(explain(err), true);
      return;
    }
    data = { amazonOrder: null };
  }
  state.ordersNext = null;
  const found = data.amazonOrder ? [data.amazonOrder] : [];
  showOrders(found, `No synced order has the id ${orderId}.`);
  $('orders-count').textContent = found.length ? `Order ${orderId}` : '';
  $('orders-page').textContent = '';
  $('orders-prev').disabled = true;
  $('orders-next').disabled = true;
}

const ORDER_STATUS = {
  PENDING: ['Pending', 'info'], PENDING_AVAILABILITY: ['Pending availability', 'info'],
  UNSHIPPED: ['Unshipped', 'warn'], PARTIALLY_SHIPPED: ['Partially shipped', 'warn'],
  SHIPPED: ['Shipped', 'ok'], CANCELED: ['Canceled', 'off'], INVOICE_UNCONFIRMED: ['Invoice unconfirmed', 'warn'],
  UNFULFILLABLE: ['Unfulfillable', 'bad'],
};

function statusBadge(status) {
  const [words, tone] = ORDER_STATUS[status] ?? [status.replaceAll('_', ' ').toLowerCase(), 'off'];
  return el('span', { class: `badge status ${tone}` }, words);
}

function orderChannel(channel) {
  if (channel === 'AFN') return el('span', { title: 'Fulfilled by Amazon' }, 'FBA');
  if (channel === 'MFN') return el('span', { title: 'You ship it' }, 'Merchant');
  return channel ?? '—';
}

/** The order in Seller Central, in its marketplace's site (a new tab). */
function sellerCentralLink(o) {
  const site = marketplaceOf(o.marketplaceId)?.sellerCentralUrl;
  if (!site) return '';
  return el('a', {
    href: `${site}/orders-v3/order/${encodeURIComponent(o.amazonOrderId)}`,
    target: '_blank', rel: 'noopener noreferrer', class: 'external',
    title: `Open order ${o.amazonOrderId} in Seller Central`,
  }, 'Seller Central');
}

function showOrders(orders, none) {
  const body = $('orders').tBodies[0];
  body.replaceChildren();
  for (const o of orders) {
    const skus = [...new Set(o.items.map((i) => i.sellerSku).filter(Boolean))];
    const itemUnits = o.items.reduce((sum, i) => sum + i.quantityOrdered, 0);
    const units = o.items.length ? itemUnits : (o.numberOfItemsShipped ?? 0) + (o.numberOfItemsUnshipped ?? 0);
    const row = el('tr', { 'data-order': o.amazonOrderId },
      el('td', {}, el('button', {
        type: 'button', class: 'link', 'aria-expanded': 'false',
        onclick: (e) => toggleItems(e.currentTarget, row, o),
      }, o.amazonOrderId), ' ', sellerCentralLink(o)),
      el('td', {}, when(o.purchaseDate)),
      el('td', {}, statusBadge(o.orderStatus)),
      el('td', {}, marketplaceLabel(o.marketplaceId)),
      el('td', { class: 'sku' }, skus.length > 2 ? `${skus.slice(0, 2).join(', ')} +${skus.length - 2}` : skus.join(', ') || '—'),
      el('td', { class: 'num' }, String(units)),
      el('td', {}, orderChannel(o.fulfillmentChannel)),
      el('td', { class: 'num' }, o.orderTotal ? money(o.orderTotal.amount, o.orderTotal.currencyCode) : 'pending'),
    );
    body.append(row);
  }
  if (!orders.length) body.append(el('tr', {}, el('td', { colspan: 8 }, none)));
}

/** Downloads every order of the filter as CSV (the server streams it; the same
 *  orders as the list, amounts exact). */
async function exportOrdersCsv() {
  const button = $('orders-csv');
  button.disabled = true;
  notice('Preparing the CSV…');
  try {
    const filter = $('f-order').value.trim() ? {} : ordersFilter();
    const res = await fetch(`/export/orders.csv?filter=${encodeURIComponent(JSON.stringify(filter))}`, {
      headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` },
    });
    if (!res.ok) {
      notice(`The export failed: ${await res.text()}`, true);
      return;
    }
    const name = res.headers.get('content-disposition')?.match(/filename="([^"]+)"/)?.[1] ?? 'orders.csv';
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    notice(`Exported ${name}.`);
  } catch (err) {
    notice(`The export failed: ${explain(err)}`, true);
  } finally {
    button.disabled = false;
  }
}

async function toggleItems(button, row, order) {
  const open = row.nextElementSibling?.classList.contains('items');
  if (open) {
    row.nextElementSibling.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  let data;
  try {
    data = await gql(
      `query($id: String!) { amazonOrder(amazonOrderId: $id) {
        items { orderItemId sellerSku asin title quantityOrdered quantityShipped itemPrice { amount currencyCode } }
        financials { sales { ${M} } tax { ${M} } promotions { ${M} } fees { ${M} } feesByType { breakdownType amount { ${M} } }
          refunds { ${M} } netProceeds { ${M} } released transactionCount } } }`,
      { id: order.amazonOrderId },
    );
  } catch (err) {
    notice(explain(err), true);
    return;
  }
  const items = data.amazonOrder?.items ?? [];
  const table = el('table', {},
    el('caption', { class: 'sr-only' }, `Items of order ${order.amazonOrderId}`),
    el('thead', {}, el('tr', {}, ...['SKU', 'ASIN', 'Title', 'Ordered', 'Shipped', 'Price'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...items.map((i) => el('tr', {},
      el('td', {}, i.sellerSku ?? '—'),
      el('td', {}, i.asin ?? '—'),
      el('td', {}, i.title ?? ''),
      el('td', { class: 'num' }, String(i.quantityOrdered)),
      el('td', { class: 'num' }, String(i.quantityShipped)),
      el('td', { class: 'num' }, i.itemPrice ? money(i.itemPrice.amount, i.itemPrice.currencyCode) : 'pending'),
    ))),
  );
  const detail = el('tr', { class: 'items' }, el('td', { colspan: 8 },
    items.length ? table : 'No items synced for this order.',
    orderFinancials(data.amazonOrder?.financials)));
  row.after(detail);
  button.setAttribute('aria-expanded', 'true');
}

const M = 'amount currencyCode';

/** What Amazon's transactions say about an order, each amount exact and per currency. */
function orderFinancials(f) {
  const box = el('div', { class: 'financials' }, el('h3', {}, 'Money from Amazon'));
  if (!f) {
    box.append(el('p', { class: 'muted' }, 'No transaction names this order yet: its money appears after a transactions sync once Amazon has settled it.'));
    return box;
  }
  const facts = el('dl', { class: 'facts' });
  const fact = (label, value, cls) => facts.append(el('div', {}, el('dt', {}, label), el('dd', cls ? { class: cls } : {}, value)));
  fact('Sales', amounts(f.sales));
  if (f.tax.length) fact('Tax', amounts(f.tax));
  if (f.promotions.length) fact('Promotions', amounts(f.promotions));
  fact('Fees', amounts(f.fees, 'none'));
  fact('Refunds', amounts(f.refunds, 'none'));
  fact('Net proceeds', amounts(f.netProceeds), 'strong');
  fact('Released', f.released ? 'yes' : 'no (Amazon still holds some of it)', f.released ? 'ok' : 'warn');
  fact('Transactions', String(f.transactionCount));
  box.append(facts);
  if (f.feesByType.length) {
    box.append(el('table', { class: 'fees' },
      el('caption', {}, 'Fees by type'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Fee'), el('th', { scope: 'col', class: 'num' }, 'Amount'))),
      el('tbody', {}, ...f.feesByType.map((x) => el('tr', {},
        el('td', {}, x.breakdownType), el('td', { class: 'num' }, amountSpan(x.amount)))))));
  }
  return box;
}

// --- inventory -------------------------------------------------------------------------------

const STOCK_FIELDS = `marketplaceId sellerSku asin productName fulfillableQuantity inboundWorkingQuantity
  inboundShippedQuantity inboundReceivingQuantity reservedQuantity unfulfillableQuantity researchingQuantity
  totalQuantity lastUpdatedTime unitsSoldPerDay daysOfCover lowStock`;

function inventoryFilter(lowStockOnly) {
  const f = {};
  if ($('i-marketplace').value) f.marketplaceId = $('i-marketplace').value;
  if ($('i-sku').value.trim()) f.sellerSku = $('i-sku').value.trim();
  if (lowStockOnly) f.lowStockOnly = true;
  return f;
}

const decimal1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

const decimal2 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** Units sold per day: a slow seller's 0.03 is not 0. */
function perDay(units) {
  return units < 1 ? decimal2.format(units) : decimal1.format(units);
}

/** Days of cover: whole days, tenths under ten days, a dash when nothing sold. */
function cover(days) {
  if (days == null) return '—';
  return days < 10 ? decimal1.format(days) : whole.format(days);
}

async function loadInventory() {
  const after = state.inventoryCursors.at(-1);
  let data;
  try {
    // The low-stock count is over the same marketplace and SKU, whether or not
    // the table shows only the low rows.
    data = await gql(
      `query($after: String, $filter: InventoryFilter, $low: InventoryFilter) {
        stock: amazonInventory(first: ${INVENTORY_PAGE}, after: $after, filter: $filter) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { ${STOCK_FIELDS} } } }
        low: amazonInventory(first: 1, filter: $low) { totalCount } }`,
      { after, filter: inventoryFilter($('i-low').checked), low: inventoryFilter(true) },
    );
  } catch (err) {
    notice(explain(err), true);
    return;
  }
  const page = data.stock;
  state.inventoryNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  const body = $('inventory').tBodies[0];
  body.replaceChildren(...page.edges.map(({ node: i }) => stockRow(i)));
  if (!page.edges.length) {
    const filtered = Object.keys(inventoryFilter($('i-low').checked)).length > 0;
    const empty = filtered ? 'No SKUs match.'
      : `No FBA stock synced yet${state.me?.role === 'OWNER' ? ': press "Sync inventory"' : ''}.`;
    body.append(el('tr', {}, el('td', { colspan: 11 }, empty)));
  }
  const n = state.inventoryCursors.length;
  $('inventory-count').replaceChildren(
    el('span', { id: 'inventory-total' }, String(page.totalCount)), ' SKU(s) · ',
    el('strong', { id: 'inventory-low', class: data.low.totalCount ? 'warn' : '' }, String(data.low.totalCount)),
    ' low on stock',
  );
  $('inventory-page').textContent = `Page ${n} of ${Math.max(1, Math.ceil(page.totalCount / INVENTORY_PAGE))}`;
  $('inventory-prev').disabled = n <= 1;
  $('inventory-next').disabled = !state.inventoryNext;
}

function stockRow(i) {
  const num = (v, attrs = {}) => el('td', { class: 'num', ...attrs }, String(v));
  const inbound = i.inboundWorkingQuantity + i.inboundShippedQuantity + i.inboundReceivingQuantity;
  const parts = `${i.inboundWorkingQuantity} being prepared, ${i.inboundShippedQuantity} shipped, ${i.inboundReceivingQuantity} being received`;
  return el('tr', {
    class: i.lowStock ? 'low' : '',
    'data-marketplace': i.marketplaceId, 'data-sku': i.sellerSku, 'data-low': String(i.lowStock),
  },
  el('td', {}, marketplaceName(i.marketplaceId)),
  el('td', {}, el('span', { class: 'sku' }, i.sellerSku), ...(i.lowStock ? [' ', el('span', { class: 'badge low' }, 'Low stock')] : [])),
  el('td', {}, i.productName ?? '—', el('br'), el('span', { class: 'muted' }, `ASIN ${i.asin ?? '—'}`)),
  num(i.fulfillableQuantity),
  el('td', { class: 'num', title: parts }, String(inbound), el('span', { class: 'sr-only' }, ` (${parts})`)),
  num(i.reservedQuantity),
  num(i.unfulfillableQuantity),
  num(i.totalQuantity, i.researchingQuantity ? { title: `Including ${i.researchingQuantity} unit(s) Amazon is looking for` } : {}),
  el('td', { class: 'num' }, perDay(i.unitsSoldPerDay)),
  el('td', { class: 'num', title: i.daysOfCover == null ? 'Nothing sold recently' : null }, cover(i.daysOfCover)),
  el('td', {}, when(i.lastUpdatedTime)));
}

/** From the low-stock alert: the inventory section with only the low rows. */
function showLowStock() {
  $('i-low').checked = true;
  submitFilter('inventory');
  $('inventory-title').focus();
}

// --- listings ----------------------------------------------------------------------------------

const LISTING_FIELDS = `marketplaceId sellerSku asin productType title status fulfillmentChannel
  price { amount currencyCode } quantity issues { code severity message } lastUpdatedTime seenAt goneAt`;

/** Amazon's status in one or two words: buyable listings are discoverable too, as a rule. */
function statusWords(status) {
  if (status.includes('BUYABLE')) return status.includes('DISCOVERABLE') ? 'buyable' : 'buyable, not discoverable';
  return status.includes('DISCOVERABLE') ? 'not buyable' : 'inactive';
}

/** `AFN` is Amazon's word for what sellers call FBA. */
function channelName(channel) {
  if (channel === 'AFN') return 'FBA';
  return channel ?? '—';
}

function listingsFilter() {
  const f = {};
  if ($('l-marketplace').value) f.marketplaceId = $('l-marketplace').value;
  if ($('l-status').value) f.status = $('l-status').value;
  if ($('l-sku').value.trim()) f.sellerSku = $('l-sku').value.trim();
  if ($('l-gone').checked) f.includeGone = true;
  return f;
}

async function loadListings() {
  const after = state.listingsCursors.at(-1);
  const load = ++state.listingsLoad;
  const filter = listingsFilter();
  let data;
  try {
    data = await gql(
      `query($after: String, $filter: ListingFilter) { amazonListings(first: ${LISTINGS_PAGE}, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { ${LISTING_FIELDS} } } } }`,
      { after, filter },
    );
  } catch (err) {
    if (load !== state.listingsLoad) return;
    $('listings-count').textContent = `The listings could not be read: ${explain(err)}`;
    $('listings-count').className = 'bad';
    return;
  }
  // A newer load (a filter applied, a page turned, a sync ended) has started meanwhile: it wins.
  if (load !== state.listingsLoad) return;
  const page = data.amazonListings;
  state.listingsNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  const body = $('listings').tBodies[0];
  body.replaceChildren(...page.edges.map(({ node: l }) => listingRow(l)));
  if (!page.edges.length) {
    const empty = Object.keys(filter).length ? 'No listings match.'
      : `No listings synced yet${state.me?.role === 'OWNER' ? ': press "Sync listings"' : ''}.`;
    body.append(el('tr', {}, el('td', { colspan: 10 }, empty)));
  }
  const n = state.listingsCursors.length;
  $('listings-count').className = 'muted';
  $('listings-count').replaceChildren(el('span', { id: 'listings-total' }, String(page.totalCount)), ' listing(s)');
  $('listings-page').textContent = `Page ${n} of ${Math.max(1, Math.ceil(page.totalCount / LISTINGS_PAGE))}`;
  $('listings-prev').disabled = n <= 1;
  $('listings-next').disabled = !state.listingsNext;
}

/** Amazon's issues as a short list (severity, code, message), each as text. */
function issueList(issues) {
  return el('ul', { class: 'issues' }, ...issues.map((i) => el('li', { class: i.severity === 'ERROR' ? 'bad' : '' },
    el('span', { class: 'badge' }, i.severity.toLowerCase()), ' ', el('code', {}, i.code), ` ${i.message}`)));
}

function issuesCell(issues) {
  if (!issues.length) return el('td', { class: 'num muted' }, '0');
  const errors = issues.filter((i) => i.severity === 'ERROR').length;
  return el('td', { class: 'num' }, el('details', { class: 'issues-cell' },
    el('summary', { class: errors ? 'bad' : 'warn' }, String(issues.length)), issueList(issues)));
}

function listingRow(l) {
  const owner = state.me?.role === 'OWNER';
  const mfn = l.fulfillmentChannel === 'MFN';
  const status = l.status.length ? l.status.map((s) => s.toLowerCase()).join(', ') : 'inactive';
  const row = el('tr', {
    class: l.goneAt ? 'gone' : '',
    'data-marketplace': l.marketplaceId, 'data-sku': l.sellerSku, 'data-channel': channelName(l.fulfillmentChannel),
  },
  el('td', {}, marketplaceName(l.marketplaceId)),
  el('td', {}, el('span', { class: 'sku' }, l.sellerSku),
    ...(l.goneAt ? [' ', el('span', { class: 'badge low', title: `A full sync stopped finding it on ${when(l.goneAt)}` }, 'Gone')] : [])),
  el('td', { class: 'title' }, l.title ?? '—', el('br'), el('span', { class: 'muted' }, `ASIN ${l.asin ?? '—'}`)),
  el('td', {}, el('span', { class: 'badge' }, channelName(l.fulfillmentChannel))),
  el('td', { class: l.status.includes('BUYABLE') ? '' : 'warn', title: status }, statusWords(l.status)),
  el('td', { class: 'num' }, amountSpan(l.price)),
  el('td', { class: 'num', title: mfn ? null : 'FBA: the quantity is Amazon\'s stock (see Inventory)' }, mfn ? String(l.quantity ?? '—') : '—'),
  issuesCell(l.issues),
  el('td', {}, when(l.lastUpdatedTime)));
  if (owner) {
    row.append(el('td', {}, el('button', {
      type: 'button', class: 'small secondary', 'aria-expanded': 'false',
      'aria-label': `Change price or quantity of ${l.sellerSku} in ${marketplaceName(l.marketplaceId)}`,
      onclick: (e) => toggleChangeForm(e.currentTarget, row, l),
    }, 'Change…')));
  }
  return row;
}

/** Under a listing's row: a new price and/or (MFN only) a new quantity, queued at once. */
function toggleChangeForm(button, row, l) {
  if (row.nextElementSibling?.classList.contains('change-row')) {
    row.nextElementSibling.remove();
    button.setAttribute('aria-expanded', 'false');
    button.focus();
    return;
  }
  const mfn = l.fulfillmentChannel === 'MFN';
  const currency = l.price?.currencyCode;
  const price = el('input', {
    type: 'text', name: 'price', inputmode: 'decimal', autocomplete: 'off', size: 10,
    placeholder: l.price?.amount ?? '19.99', pattern: '\\s*\\d+(\\.\\d+)?\\s*',
  });
  const quantity = mfn
    ? el('input', { type: 'number', name: 'quantity', min: 0, step: 1, inputmode: 'numeric', placeholder: l.quantity ?? '' })
    : null;
  const message = el('p', { class: 'change-message', role: 'status', 'aria-live': 'polite' });
  const queue = el('button', { type: 'submit' }, 'Queue change');
  const close = () => toggleChangeForm(button, row, l);
  const form = el('form', {
    class: 'inline change-form', 'aria-label': `New price or quantity for ${l.sellerSku}`, novalidate: true,
    onsubmit: (e) => queueOne(e, l, price, quantity, message, queue),
  },
  el('label', {}, `New price${currency ? ` (${currency})` : ''}`, price),
  mfn ? el('label', {}, 'New quantity', quantity)
    : el('p', { class: 'muted' }, 'FBA listing: its quantity is Amazon\'s stock, so only the price can change here.'),
  queue,
  el('button', { type: 'button', class: 'secondary', onclick: close }, 'Close'));
  const detail = el('tr', { class: 'items change-row' }, el('td', { colspan: 10 }, form, message));
  row.after(detail);
  button.setAttribute('aria-expanded', 'true');
  price.focus();
}

/** "19.99 USD → 21.50 USD, quantity 4 → 10": what a change asks for, exactly. */
function describeChange(c) {
  const parts = [];
  if (c.desiredPrice) parts.push(`price ${exact(c.priceWhenQueued)} → ${exact(c.desiredPrice)}`);
  if (c.desiredQuantity != null) parts.push(`quantity ${c.quantityWhenQueued ?? '—'} → ${c.desiredQuantity}`);
  return parts.join(', ');
}

async function queueOne(event, l, priceInput, quantityInput, message, button) {
  event.preventDefault();
  const price = priceInput.value.trim();
  const quantityText = quantityInput?.value.trim() ?? '';
  const refuse = (text) => {
    message.textContent = text;
    message.className = 'change-message bad';
  };
  if (!price && !quantityText) return refuse('Give a new price, a new quantity or both.');
  if (quantityText && !/^\d+$/.test(quantityText)) return refuse('The quantity must be a whole number, 0 or more.');
  // The price goes to the API as the typed decimal string: never through a float.
  const change = {
    marketplaceId: l.marketplaceId, sellerSku: l.sellerSku,
    price: price || null, quantity: quantityText ? Number.parseInt(quantityText, 10) : null,
  };
  button.disabled = true;
  message.textContent = 'Queuing…';
  message.className = 'change-message';
  try {
    const data = await gql(
      `mutation($changes: [ListingChangeInput!]!) { queueListingChanges(changes: $changes) { ${CHANGE_FIELDS} } }`,
      { changes: [change] },
    );
    const c = data.queueListingChanges[0];
    message.replaceChildren(`Queued as change #${c.id}: ${describeChange(c)}. Nothing is sent to Amazon until you submit it in `,
      el('a', { href: '#queue-title' }, 'the price & quantity queue'), '.');
    message.className = 'change-message ok';
    priceInput.value = '';
    if (quantityInput) quantityInput.value = '';
    await loadQueue();
  } catch (err) {
    // One change: its position ("line 1") says nothing here.
    refuse(`Not queued: ${explain(err).replace(/^nothing was queued: line 1: /, '')}`);
  } finally {
    button.disabled = false;
  }
}

async function syncListings(full) {
  const progress = $('listings-progress');
  $('listings-sync').disabled = true;
  $('listings-sync-full').disabled = true;
  progress.textContent = full ? 'Starting a full listings sync…' : 'Starting the listings sync…';
  progress.className = '';
  try {
    const data = await gql(
      `mutation($full: Boolean!) { syncAmazonListings(full: $full) { ${RUN_FIELDS} } }`,
      { full },
    );
    follow(data.syncAmazonListings);
  } catch (err) {
    if (err instanceof GraphQLError && err.codes.includes('SYNC_ALREADY_RUNNING')) {
      const id = err.errors[0].extensions?.runningRunId;
      if (id) {
        follow({ id, kind: 'LISTINGS', status: 'RUNNING', pages: 0, found: 0, inserted: 0, updated: 0 });
        progress.textContent = `A listings sync (#${id}) is already running: following it…`;
        return;
      }
    }
    progress.textContent = `The listings sync did not start: ${explain(err)}`;
    progress.className = 'bad';
    $('listings-sync').disabled = false;
    $('listings-sync-full').disabled = false;
  }
}

// --- price & quantity queue -------------------------------------------------------------------

const CHANGE_FIELDS = `id marketplaceId sellerSku desiredPrice { amount currencyCode } desiredQuantity
  priceWhenQueued { amount currencyCode } quantityWhenQueued livePrice { amount currencyCode } liveQuantity
  state twoPhase phase attempts submitRequestedAt sentAt deadlineAt queuedBy
  issues { code severity message } history { state at note } createdAt finishedAt`;

const CHANGE_STATES = {
  QUEUED: 'Queued',
  VALIDATED: 'Validated',
  CONFLICT: 'Conflict',
  SUBMITTED: 'Submitted',
  PRICE_LIVE: 'Price live',
  DONE: 'Done',
  NOT_APPLIED: 'Not applied',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
};
const CHANGE_STATE_HELP = {
  QUEUED: 'Waiting: not checked or sent yet',
  VALIDATED: 'A dry run found nothing wrong; nothing was changed on Amazon',
  CONFLICT: 'The live price moved since it was queued: override or cancel it',
  SUBMITTED: 'Accepted by Amazon; waiting for it to show on the listing',
  PRICE_LIVE: 'The new price is live; the quantity follows',
  DONE: 'Live on Amazon',
  NOT_APPLIED: 'Accepted, but Amazon did not show it before the timeout',
  FAILED: 'Refused by a check or by Amazon (see its issues)',
  CANCELED: 'Canceled (or replaced by a newer change of the SKU)',
};

/** Being pushed: sent, half live, or queued again after a submit asked for it. */
function inFlight(c) {
  return c.state === 'SUBMITTED' || c.state === 'PRICE_LIVE' || (c.state === 'QUEUED' && c.submitRequestedAt != null);
}

/** What "Dry run" and "Submit" may take: a change that only waits. */
function submittable(c) {
  return (c.state === 'QUEUED' && !c.submitRequestedAt) || c.state === 'VALIDATED';
}

function queueFilter() {
  const v = $('q-state').value;
  return v ? { states: v.split(',') } : null;
}

async function loadQueue() {
  clearTimeout(state.queuePoll);
  state.queuePoll = null;
  const after = state.queueCursors.at(-1);
  const load = ++state.queueLoad;
  let data;
  try {
    // `moving` says whether to look again soon, whatever the page shows.
    data = await gql(
      `query($after: String, $filter: ListingChangeFilter) {
        changes: listingChanges(first: ${QUEUE_PAGE}, after: $after, filter: $filter) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { ${CHANGE_FIELDS} } } }
        moving: listingChanges(first: 200, filter: { states: [QUEUED, SUBMITTED, PRICE_LIVE] }) {
          edges { node { id state submitRequestedAt } } } }`,
      { after, filter: queueFilter() },
    );
  } catch (err) {
    if (load !== state.queueLoad) return;
    $('queue-count').textContent = `The queue could not be read: ${explain(err)}`;
    $('queue-count').className = 'bad';
    // Keep following a push in flight through a passing error.
    schedulePoll(state.queueWasMoving);
    return;
  }
  if (load !== state.queueLoad) return;
  const page = data.changes;
  const changes = page.edges.map((e) => e.node);
  state.queueNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  // A ticked change that no longer waits cannot be submitted: untick it.
  for (const c of changes) if (!submittable(c)) state.queueSelected.delete(c.id);
  const body = $('queue').tBodies[0];
  body.replaceChildren();
  for (const c of changes) {
    const row = changeRow(c);
    body.append(row);
    if (state.queueOpen.has(c.id)) row.after(changeDetail(c));
  }
  if (!changes.length) {
    const owner = state.me?.role === 'OWNER';
    const empty = queueFilter() ? 'No changes in this state.'
      : `No changes queued yet${owner ? ': use "Change…" on a listing, or a CSV above' : ''}.`;
    body.append(el('tr', {}, el('td', { colspan: 11 }, empty)));
  }
  const moving = data.moving.edges.some(({ node }) => inFlight(node));
  const n = state.queueCursors.length;
  $('queue-count').className = 'muted';
  $('queue-count').replaceChildren(el('span', { id: 'queue-total' }, String(page.totalCount)), ' change(s), newest first',
    moving ? el('span', { id: 'queue-live' }, ' · changes are being pushed: this list updates every few seconds') : '');
  $('queue-page').textContent = `Page ${n} of ${Math.max(1, Math.ceil(page.totalCount / QUEUE_PAGE))}`;
  $('queue-prev').disabled = n <= 1;
  $('queue-next').disabled = !state.queueNext;
  showSelection();
  // When the last push in flight ends, the listings show the new prices.
  if (state.queueWasMoving && !moving) loadListings();
  state.queueWasMoving = moving;
  schedulePoll(moving);
  loadFeeds();
}

// --- feeds -------------------------------------------------------------------------------------

const FEED_STATES = {
  PREPARING: ['Preparing', 'Being uploaded to Amazon'],
  IN_QUEUE: ['In Amazon\'s queue', 'Waiting behind the seller\'s other feeds; it can still be cancelled'],
  IN_PROGRESS: ['Processing', 'Amazon is processing it'],
  DONE: ['Done', 'Processed: see what was accepted and refused'],
  CANCELLED: ['Cancelled', 'Cancelled before Amazon started it; its changes were cancelled'],
  FATAL: ['Failed', 'Amazon aborted it: every change of it failed with the reason'],
};

async function loadFeeds() {
  let data;
  try {
    data = await gql(`{ listingFeeds(first: 10) { totalCount edges { node {
      feedId marketplaceId state messages submittedAt finishedAt messagesProcessed messagesAccepted
      messagesInvalid errors warnings note stuckAt issues { code severity message }
      items(first: 20, problemsOnly: true) { sellerSku state changeId issues { code severity message } } } } } }`);
  } catch (err) {
    $('feeds-count').textContent = `The feeds could not be read: ${explain(err)}`;
    $('feeds-count').className = 'bad';
    return;
  }
  const feeds = data.listingFeeds.edges.map((e) => e.node);
  const body = $('feeds').tBodies[0];
  body.replaceChildren();
  const owner = state.me?.role === 'OWNER';
  for (const f of feeds) {
    const [word, title] = FEED_STATES[f.state] ?? [f.state, ''];
    const badge = el('span', { class: `badge ${f.state === 'DONE' ? 'ok' : f.state === 'FATAL' || f.stuckAt ? 'bad' : ''}`, title }, f.stuckAt ? `${word} (stuck)` : word);
    const actions = el('td', {});
    if (owner && f.state === 'IN_QUEUE') {
      actions.append(el('button', {
        type: 'button', class: 'small', title: 'Cancel the feed at Amazon and its changes',
        onclick: (e) => cancelFeed(f.feedId, e.currentTarget),
      }, 'Cancel'));
    }
    const row = el('tr', { 'data-feed': f.feedId ?? '' },
      el('td', {}, f.feedId ?? '—'),
      el('td', {}, marketplaceName(f.marketplaceId)),
      el('td', {}, badge),
      el('td', { class: 'num' }, String(f.messages)),
      el('td', { class: 'num' }, f.messagesAccepted ?? '—'),
      el('td', { class: 'num' }, f.messagesInvalid ?? '—'),
      el('td', {}, when(f.submittedAt)),
      el('td', {}, when(f.finishedAt)),
      actions);
    body.append(row);
    const problems = [...(f.note ? [el('p', { class: f.state === 'FATAL' ? 'bad' : 'warn' }, f.note)] : []),
      ...f.issues.map((i) => el('p', { class: 'warn' }, `${i.code} ${i.message}`))];
    if (f.items.length) {
      problems.push(el('ul', { class: 'feed-problems' }, ...f.items.map((i) => el('li', {},
        el('strong', {}, i.sellerSku), ` (change ${i.changeId}) ${i.state === 'INVALID' ? 'refused' : 'not processed'}: `,
        i.issues.map((x) => `${x.code} ${x.message}`).join('; ') || '—'))));
      const more = (f.messagesInvalid ?? 0) - f.items.length;
      if (more > 0) problems.push(el('p', { class: 'muted' }, `… and ${more} more refused: each change's issues are in the queue above.`));
    }
    if (problems.length) body.append(el('tr', { class: 'detail' }, el('td', { colspan: 9 }, ...problems)));
  }
  if (!feeds.length) body.append(el('tr', {}, el('td', { colspan: 9 }, 'No feed sent yet: a submission of 200 changes or more (or "One feed") goes as a feed.')));
  $('feeds-count').className = 'muted';
  $('feeds-count').textContent = `${data.listingFeeds.totalCount} feed(s), newest first`;
}

async function cancelFeed(feedId, button) {
  button.disabled = true;
  try {
    await gql('mutation($id: String!) { cancelListingFeed(feedId: $id) { feedId state } }', { id: feedId });
    notice(`Feed ${feedId} cancelled with its changes.`);
  } catch (err) {
    notice(`The feed could not be cancelled: ${explain(err)}`, true);
  }
  await loadQueue();
}

function schedulePoll(moving) {
  clearTimeout(state.queuePoll);
  state.queuePoll = moving && sessionStorage.getItem(TOKEN_KEY) ? setTimeout(loadQueue, QUEUE_POLL_MS) : null;
}

function showSelection() {
  const n = state.queueSelected.size;
  $('queue-selection').textContent = n
    ? `${n} ticked: the buttons act on those only.`
    : 'No rows ticked: the buttons act on every waiting change (queued or validated).';
}

function stateBadge(c) {
  let words = CHANGE_STATES[c.state] ?? c.state;
  if (c.state === 'QUEUED' && c.submitRequestedAt) words = 'Queued, sending';
  if (c.state === 'SUBMITTED' && c.phase) words += ` (${c.phase.toLowerCase()})`;
  return el('span', { class: `badge state state-${c.state.toLowerCase()}`, title: CHANGE_STATE_HELP[c.state] ?? null }, words);
}

function changeRow(c) {
  const owner = state.me?.role === 'OWNER';
  const conflict = c.state === 'CONFLICT';
  const row = el('tr', { class: conflict ? 'conflict' : '', 'data-id': c.id, 'data-sku': c.sellerSku, 'data-state': c.state });
  if (owner) {
    row.append(el('td', {}, submittable(c) ? el('input', {
      type: 'checkbox', 'aria-label': `Tick change ${c.id} (${c.sellerSku})`, checked: state.queueSelected.has(c.id),
      onchange: (e) => {
        if (e.currentTarget.checked) state.queueSelected.add(c.id);
        else state.queueSelected.delete(c.id);
        showSelection();
      },
    }) : ''));
  }
  const stateCell = el('td', {}, stateBadge(c));
  if (conflict) {
    stateCell.append(el('p', { class: 'conflict-note' },
      'The live price moved: ', el('span', { class: 'amount' }, exact(c.priceWhenQueued)), ' when queued, ',
      el('span', { class: 'amount' }, exact(c.livePrice)), ' now.'));
  }
  const actions = el('div', { class: 'row-actions' }, el('button', {
    type: 'button', class: 'link', 'aria-expanded': String(state.queueOpen.has(c.id)),
    'aria-label': `History of change ${c.id} (${c.sellerSku})`,
    onclick: (e) => toggleChangeDetail(e.currentTarget, row, c),
  }, `History (${c.history.length})`));
  if (owner && conflict) {
    actions.append(el('button', {
      type: 'button', class: 'small', title: 'Push it anyway: the live price becomes its new reference',
      onclick: (e) => resolveConflict(c, 'OVERRIDE', e.currentTarget),
    }, 'Override'));
  }
  if (owner && (conflict || submittable(c))) {
    actions.append(el('button', {
      type: 'button', class: 'small secondary', title: 'Drop this change',
      onclick: (e) => resolveConflict(c, 'CANCEL', e.currentTarget),
    }, 'Cancel'));
  }
  row.append(
    el('td', {}, el('span', { class: 'sku' }, c.sellerSku)),
    el('td', {}, marketplaceName(c.marketplaceId)),
    el('td', { class: 'num' }, c.desiredPrice ? amountSpan(c.desiredPrice) : '—'),
    el('td', { class: 'num' }, c.desiredQuantity != null ? String(c.desiredQuantity) : '—'),
    el('td', { class: conflict ? 'num was' : 'num' }, amountSpan(c.priceWhenQueued)),
    el('td', { class: conflict ? 'num moved' : 'num' }, amountSpan(c.livePrice)),
    stateCell,
    c.issues.length ? el('td', {}, issueList(c.issues)) : el('td', { class: 'muted' }, '—'),
    el('td', { class: 'queued', title: c.queuedBy ? `Queued by ${c.queuedBy}` : null }, when(c.createdAt)),
    el('td', {}, actions),
  );
  return row;
}

function toggleChangeDetail(button, row, c) {
  if (row.nextElementSibling?.classList.contains('change-detail')) {
    row.nextElementSibling.remove();
    state.queueOpen.delete(c.id);
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  state.queueOpen.add(c.id);
  row.after(changeDetail(c));
  button.setAttribute('aria-expanded', 'true');
}

/** A change's history, oldest first, and what the push did with it. */
function changeDetail(c) {
  const facts = el('dl', { class: 'facts' });
  const fact = (label, value) => facts.append(el('div', {}, el('dt', {}, label), el('dd', {}, value)));
  fact('Change', `#${c.id}: ${describeChange(c) || '—'}`);
  if (c.queuedBy) fact('Queued by', c.queuedBy);
  fact('Two-phase', c.twoPhase ? 'yes: a raised price goes live before the quantity' : 'no');
  if (c.liveQuantity != null) fact('Live quantity', String(c.liveQuantity));
  fact('Patches sent', String(c.attempts));
  if (c.sentAt) fact('Last sent', whenExactly(c.sentAt));
  if (c.deadlineAt && !c.finishedAt) fact('Not applied unless live by', when(c.deadlineAt));
  if (c.finishedAt) fact('Finished', whenExactly(c.finishedAt));
  return el('tr', { class: 'items change-detail', 'data-id': c.id }, el('td', { colspan: 11 },
    facts,
    el('ol', { class: 'history', 'aria-label': `History of change ${c.id}` }, ...c.history.map((h) => el('li', { 'data-state': h.state },
      el('span', { class: 'muted' }, el('time', { datetime: h.at }, whenExactly(h.at))), ' ',
      el('span', { class: `badge state state-${h.state.toLowerCase()}` }, CHANGE_STATES[h.state] ?? h.state),
      h.note ? ` ${h.note}` : ''))),
  ));
}

async function resolveConflict(c, action, button) {
  const progress = $('queue-progress');
  button.disabled = true;
  try {
    const data = await gql(
      `mutation($id: ID!, $action: ConflictAction!) { resolveListingConflict(id: $id, action: $action) { ${CHANGE_FIELDS} } }`,
      { id: c.id, action },
    );
    const r = data.resolveListingConflict;
    progress.textContent = action === 'CANCEL'
      ? `Change #${r.id} (${r.sellerSku}) canceled.`
      : `Change #${r.id} (${r.sellerSku}) overridden: queued again against the live price ${exact(r.priceWhenQueued)}${r.submitRequestedAt ? '; it goes out with the next push' : '; submit it when ready'}.`;
    progress.className = 'ok';
    state.queueSelected.delete(c.id);
    await loadQueue();
  } catch (err) {
    progress.textContent = `${action === 'CANCEL' ? 'Canceling' : 'Overriding'} change #${c.id} failed: ${explain(err)}`;
    progress.className = 'bad';
    button.disabled = false;
  }
}

/** "Dry run" (Amazon checks, nothing changes) or "Submit" (sent in the background). */
async function submitChanges(dryRun) {
  const ids = state.queueSelected.size ? [...state.queueSelected] : null;
  const progress = $('queue-progress');
  const buttons = [$('queue-dry-run'), $('queue-submit')];
  for (const b of buttons) b.disabled = true;
  const what = ids ? `${ids.length} ticked change(s)` : 'every waiting change';
  progress.textContent = dryRun ? `Dry run: Amazon is checking ${what}…` : `Submitting ${what}…`;
  progress.className = '';
  try {
    const data = await gql(
      `mutation($ids: [ID!], $dry: Boolean!, $twoPhase: Boolean!, $via: SubmitVia!) { submitListingChanges(ids: $ids, dryRun: $dry, twoPhase: $twoPhase, via: $via) { ${CHANGE_FIELDS} } }`,
      { ids, dry: dryRun, twoPhase: $('two-phase').checked, via: $('submit-via').value },
    );
    const list = data.submitListingChanges;
    const count = (s) => list.filter((c) => c.state === s).length;
    if (!list.length) {
      progress.textContent = 'Nothing to submit: no change is waiting (queued or validated).';
    } else if (dryRun) {
      const bad = count('FAILED') + count('CONFLICT');
      progress.textContent = `Dry run done, nothing changed on Amazon: ${count('VALIDATED')} validated, ${count('FAILED')} failed, ${count('CONFLICT')} conflict(s).${bad ? ' See the issues and conflicts below.' : ''}`;
      progress.className = bad ? 'warn' : 'ok';
    } else {
      progress.textContent = `Submitted ${list.length} change(s): they are sent to Amazon in the background and followed until they show on the listings; the states below update by themselves.`;
      progress.className = 'ok';
    }
    state.queueSelected.clear();
    await loadQueue();
  } catch (err) {
    progress.textContent = `${dryRun ? 'The dry run' : 'The submit'} failed: ${explain(err)}`;
    progress.className = 'bad';
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

/** A refused CSV: every bad line by its number, as the API named them. */
function csvRefusal(err) {
  const text = explain(err);
  const m = text.match(/^nothing was queued: (line \d+: [\s\S]*)$/);
  if (!m) return el('p', { class: 'bad', role: 'alert' }, `Nothing was queued: ${text}`);
  const lines = m[1].split(/; (?=line \d+: )/).map((l) => l.match(/^line (\d+): ([\s\S]*)$/));
  return el('div', { class: 'refused', role: 'alert' },
    el('p', { class: 'bad' }, `Nothing was queued: the file was refused whole. Fix ${lines.length === 1 ? 'this line' : `these ${lines.length} lines`} and queue it again.`),
    el('ul', {}, ...lines.map(([, n, why]) => el('li', { 'data-line': n },
      ...(n === '0' ? [why] : [el('strong', {}, `Line ${n}`), `: ${why}`])))));
}

// The request body is at most 64 KiB (the api's limit); JSON escaping adds a little.
const CSV_MAX_BYTES = 60 * 1024;

async function queueCsv(event) {
  event.preventDefault();
  const result = $('csv-result');
  const text = $('csv-text').value;
  if (!text.trim()) {
    result.replaceChildren(el('p', { class: 'bad', role: 'alert' }, 'Choose a CSV file or paste its lines first.'));
    return;
  }
  if (new Blob([JSON.stringify(text)]).size > CSV_MAX_BYTES) {
    result.replaceChildren(el('p', { class: 'bad', role: 'alert' },
      `This CSV is too big for one request (at most about ${CSV_MAX_BYTES / 1024} KiB): split it into smaller files.`));
    return;
  }
  $('csv-queue').disabled = true;
  result.replaceChildren(el('p', {}, 'Queuing…'));
  try {
    const data = await gql(
      `mutation($csv: String!) { queueListingChangesCsv(csv: $csv) { ${CHANGE_FIELDS} } }`,
      { csv: text },
    );
    const n = data.queueListingChangesCsv.length;
    result.replaceChildren(el('p', { class: 'ok' }, `Queued ${n} change(s) from the CSV. Nothing is sent to Amazon until you submit them.`));
    $('csv-text').value = '';
    $('csv-file').value = '';
    state.queueCursors = [null];
    await loadQueue();
  } catch (err) {
    result.replaceChildren(csvRefusal(err));
  } finally {
    $('csv-queue').disabled = false;
  }
}

/** A chosen file is shown in the box, where it can be read and corrected before queuing. */
async function readCsvFile() {
  const file = $('csv-file').files[0];
  if (!file) return;
  if (file.size > CSV_MAX_BYTES) {
    $('csv-result').replaceChildren(el('p', { class: 'bad', role: 'alert' },
      `${file.name} is too big for one request (at most about ${CSV_MAX_BYTES / 1024} KiB): split it into smaller files.`));
    return;
  }
  $('csv-text').value = await file.text();
  $('csv-result').replaceChildren(el('p', { class: 'muted' }, `${file.name} read: check it below, then press "Queue CSV".`));
}

// --- transactions ------------------------------------------------------------------------------

/** The breakdown tree, `BREAKDOWN_DEPTH` (6) levels deep; the level below only says whether
 * there is one. Written out, not built, so the API's limits test reads the very query. */
const BREAKDOWNS = `breakdowns { breakdownType amount { amount currencyCode } breakdowns { breakdownType amount { amount currencyCode } breakdowns { breakdownType amount { amount currencyCode } breakdowns { breakdownType amount { amount currencyCode } breakdowns { breakdownType amount { amount currencyCode } breakdowns { breakdownType amount { amount currencyCode } breakdowns { breakdownType } } } } } } }`;

const TRANSACTION_FIELDS = `transactionId transactionType transactionStatus postedDate marketplaceId amazonOrderIds
  description totalAmount { amount currencyCode } ${BREAKDOWNS}`;

const TRANSACTION_STATUS = { DEFERRED: 'deferred', RELEASED: 'released', DEFERRED_RELEASED: 'deferred, now released' };

function transactionsFilter() {
  const f = {};
  // Dates are the browser's local days, like the orders filter.
  if ($('t-from').value) f.postedFrom = new Date(`${$('t-from').value}T00:00:00`).toISOString();
  if ($('t-to').value) {
    const end = new Date(`${$('t-to').value}T00:00:00`);
    end.setDate(end.getDate() + 1);
    f.postedTo = end.toISOString();
  }
  if ($('t-order').value.trim()) f.amazonOrderId = $('t-order').value.trim();
  if ($('t-type').value) f.transactionTypes = [$('t-type').value];
  if ($('t-status').value) f.statuses = [$('t-status').value];
  return f;
}

/** The first page (`more` false) or the next one, appended ("Show more"). */
async function loadTransactions(more = false) {
  if (more && !state.transactionsNext) return;
  const load = more ? state.transactionsLoad : ++state.transactionsLoad;
  const filter = transactionsFilter();
  $('transactions-more').disabled = true;
  let data;
  try {
    data = await gql(
      `query($after: String, $filter: TransactionFilter) { amazonTransactions(first: ${TRANSACTIONS_PAGE}, after: $after, filter: $filter) {
        pageInfo { hasNextPage endCursor } edges { node { ${TRANSACTION_FIELDS} } } } }`,
      { after: more ? state.transactionsNext : null, filter },
    );
  } catch (err) {
    if (load !== state.transactionsLoad) return;
    $('transactions-count').textContent = `The transactions could not be read: ${explain(err)}`;
    $('transactions-count').className = 'bad';
    $('transactions-more').disabled = !state.transactionsNext;
    return;
  }
  // A newer load (a filter applied, a sync ended) has started meanwhile: it wins.
  if (load !== state.transactionsLoad) return;
  const page = data.amazonTransactions;
  const body = $('transactions').tBodies[0];
  if (!more) {
    body.replaceChildren();
    state.transactionsShown = 0;
  }
  for (const { node: t } of page.edges) body.append(transactionRow(t));
  state.transactionsShown += page.edges.length;
  state.transactionsNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  if (!state.transactionsShown) {
    const empty = Object.keys(filter).length ? 'No transactions match.'
      : `No transactions yet: ${state.me?.role === 'OWNER' ? 'run a transactions sync ("Sync transactions" above)' : 'the owner runs a transactions sync to read them from Amazon'}.`;
    body.append(el('tr', {}, el('td', { colspan: 7 }, empty)));
  }
  $('transactions-count').className = 'muted';
  $('transactions-count').textContent = `${state.transactionsShown} transaction(s) shown, newest first${state.transactionsNext ? '; more below' : ''}`;
  $('transactions-more').disabled = !state.transactionsNext;
  $('transactions-more').hidden = !state.transactionsNext;
}

function transactionRow(t) {
  const row = el('tr', { 'data-transaction': t.transactionId },
    el('td', {}, when(t.postedDate)),
    el('td', {}, el('button', {
      type: 'button', class: 'link', 'aria-expanded': 'false',
      title: 'Show its breakdown',
      onclick: (e) => toggleBreakdown(e.currentTarget, row, t),
    }, t.transactionId)),
    el('td', {}, t.transactionType),
    el('td', {}, TRANSACTION_STATUS[t.transactionStatus] ?? t.transactionStatus),
    el('td', {}, t.amazonOrderIds.length ? t.amazonOrderIds.join(', ') : '—'),
    el('td', {}, t.marketplaceId ? marketplaceName(t.marketplaceId) : '—'),
    el('td', { class: 'num' }, amountSpan(t.totalAmount)),
  );
  return row;
}

function toggleBreakdown(button, row, t) {
  if (row.nextElementSibling?.classList.contains('items')) {
    row.nextElementSibling.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const detail = el('tr', { class: 'items breakdown' }, el('td', { colspan: 7 },
    el('p', {}, el('strong', {}, `${t.transactionType} ${t.transactionId}`), t.description ? ` — ${t.description}` : ''),
    t.breakdowns.length
      ? breakdownTree(t.breakdowns, `Breakdown of transaction ${t.transactionId}`)
      : el('p', { class: 'muted' }, 'Amazon sent no breakdown for this transaction.'),
    el('p', { class: 'tree-total' }, el('span', {}, 'Total'), amountSpan(t.totalAmount)),
  ));
  row.after(detail);
  button.setAttribute('aria-expanded', 'true');
}

/** A breakdown tree as nested lists: the type on the left, its amount right-aligned. */
function breakdownTree(nodes, label) {
  return el('ul', { class: 'tree', ...(label ? { 'aria-label': label } : {}) }, ...nodes.map((b) => {
    const children = b.breakdowns ?? [];
    // The deepest level read has only types: say that there is more rather than hide it.
    const deeper = children.length && !children[0].amount;
    return el('li', { 'data-type': b.breakdownType },
      el('div', { class: 'tree-row' }, el('span', {}, b.breakdownType), amountSpan(b.amount)),
      ...(children.length && !deeper ? [breakdownTree(children)] : []),
      ...(deeper ? [el('p', { class: 'muted' }, `${children.length} deeper part(s) not shown.`)] : []));
  }));
}

// --- reconciliation ------------------------------------------------------------------------------

const ISSUE_KINDS = {
  MISSING_SETTLEMENT: ['No settlement', 'Shipped long enough ago to be settled, but Amazon has posted no Shipment transaction for it'],
  AMOUNT_MISMATCH: ['Amount differs', "The Shipment transactions' principal differs from the order's item prices"],
};

async function loadIssues(more = false) {
  if (more && !state.issuesNext) return;
  const load = more ? state.issuesLoad : ++state.issuesLoad;
  $('reconciliation-more').disabled = true;
  let data;
  try {
    data = await gql(
      `query($after: String) { reconciliationIssues(first: ${ISSUES_PAGE}, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { amazonOrderId marketplaceId kind expected { amount currencyCode } actual { amount currencyCode } } } } }`,
      { after: more ? state.issuesNext : null },
    );
  } catch (err) {
    if (load !== state.issuesLoad) return;
    const body = $('reconciliation').tBodies[0];
    body.replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'bad' }, `The reconciliation could not be read: ${explain(err)}`)));
    $('reconciliation-more').disabled = !state.issuesNext;
    return;
  }
  if (load !== state.issuesLoad) return;
  const page = data.reconciliationIssues;
  const body = $('reconciliation').tBodies[0];
  if (!more) {
    body.replaceChildren();
    state.issuesShown = 0;
  }
  for (const { node: i } of page.edges) {
    const [words, why] = ISSUE_KINDS[i.kind] ?? [i.kind, ''];
    body.append(el('tr', { 'data-order': i.amazonOrderId, 'data-kind': i.kind },
      el('td', {}, i.amazonOrderId),
      el('td', {}, marketplaceName(i.marketplaceId)),
      el('td', { title: why || null }, el('span', { class: 'badge low' }, words)),
      el('td', { class: 'num' }, amounts(i.expected)),
      el('td', { class: 'num' }, amounts(i.actual, 'nothing settled')),
    ));
  }
  state.issuesShown += page.edges.length;
  state.issuesNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  if (!state.issuesShown) {
    body.append(el('tr', {}, el('td', { colspan: 5 },
      'No reconciliation issues: every order the transactions syncs have covered matches its settlement.')));
  }
  $('reconciliation-more').disabled = !state.issuesNext;
  $('reconciliation-more').hidden = !state.issuesNext;
}

// --- chart -------------------------------------------------------------------------------------

async function loadChart() {
  const tz = state.connection?.reportTimezone ?? 'UTC';
  const from = localDay(tz, 29);
  const to = localDay(tz, 0);
  // Fees and net proceeds come from the transactions, read on their own: the
  // sales chart stands even when they cannot be read.
  const [sales, profit] = await Promise.allSettled([
    gql('query($from: Date!, $to: Date!) { salesDaily(from: $from, to: $to) { date currencyCode revenue units orders pendingOrders } }', { from, to }),
    gql('query($from: Date!, $to: Date!) { profitDaily(from: $from, to: $to) { date currencyCode revenue fees refunds netProceeds } }', { from, to }),
  ]);
  if (sales.status === 'rejected') {
    notice(explain(sales.reason), true);
    return;
  }
  state.sales = sales.value.salesDaily;
  state.profit = profit.status === 'fulfilled' ? profit.value.profitDaily : null;
  state.profitError = profit.status === 'rejected' ? explain(profit.reason) : null;
  $('chart-tz').textContent = `Days in ${tz}, ${from} to ${to}`;
  const currencies = [...new Set([...state.sales, ...(state.profit ?? [])].map((d) => d.currencyCode))];
  // Default to the currency with the most revenue.
  const revenueOf = (c) => state.sales.filter((d) => d.currencyCode === c).reduce((s, d) => s + Number(d.revenue), 0);
  currencies.sort((a, b) => revenueOf(b) - revenueOf(a));
  const select = $('chart-currency');
  select.replaceChildren(...currencies.map((c) => el('option', { value: c }, c)));
  if (currencies.includes(state.chartCurrency)) select.value = state.chartCurrency;
  drawChart();
}

/** Adds decimal strings exactly (the API's amounts), for the totals. */
function addDecimal(a, b) {
  const scale = Math.max((a.split('.')[1] ?? '').length, (b.split('.')[1] ?? '').length);
  const toInt = (s) => {
    const [i, f = ''] = s.split('.');
    const neg = i.startsWith('-');
    const v = BigInt(i.replace('-', '') + f.padEnd(scale, '0'));
    return neg ? -v : v;
  };
  const sum = toInt(a) + toInt(b);
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(scale + 1, '0');
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${out}` : out;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  return node;
}

function drawChart() {
  const currency = $('chart-currency').value;
  const days = state.sales.filter((d) => d.currencyCode === currency);
  const profitOf = new Map((state.profit ?? []).filter((p) => p.currencyCode === currency).map((p) => [p.date, p]));
  const totalRevenue = days.reduce((s, d) => addDecimal(s, String(d.revenue)), '0');
  const totalUnits = days.reduce((s, d) => s + d.units, 0);
  const totalOrders = days.reduce((s, d) => s + d.orders, 0);
  const pending = days.reduce((s, d) => s + d.pendingOrders, 0);
  $('chart-totals').textContent = currency
    ? `${money(totalRevenue, currency)} revenue · ${totalUnits} units · ${totalOrders} orders (${pending} pending)`
    : 'No sales yet.';
  $('chart-totals').dataset.revenue = totalRevenue;
  const W = 720; const H = 240; const left = 56; const right = 40; const top = 12; const bottom = 28;
  const maxRev = Math.max(1, ...days.map((d) => Number(d.revenue)));
  const maxUnits = Math.max(1, ...days.map((d) => d.units));
  const n = Math.max(days.length, 1);
  const slot = (W - left - right) / n;
  const y = (v, max) => top + (H - top - bottom) * (1 - v / max);
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `Revenue in ${currency} and units per day over ${days.length} days: ${money(totalRevenue, currency)}, ${totalUnits} units`,
  });
  chart.append(svg('line', { class: 'axis', x1: left, y1: H - bottom, x2: W - right, y2: H - bottom }));
  chart.append(svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end' }, money(maxRev, currency)));
  chart.append(svg('text', { x: left - 4, y: H - bottom, 'text-anchor': 'end' }, '0'));
  chart.append(svg('text', { x: W - right + 4, y: top + 8 }, `${maxUnits} u`));
  const points = [];
  days.forEach((d, i) => {
    const x = left + i * slot;
    const rev = Number(d.revenue);
    const bar = svg('rect', { class: 'bar-rev', x: x + slot * 0.15, width: slot * 0.7, y: y(rev, maxRev), height: H - bottom - y(rev, maxRev) });
    const p = profitOf.get(d.date);
    const fees = p ? `; fees ${p.fees} ${currency}, net proceeds ${p.netProceeds} ${currency}` : '';
    bar.append(svg('title', {}, `${d.date}: ${money(d.revenue, currency)}, ${d.units} units, ${d.orders} orders${fees}`));
    chart.append(bar);
    points.push(`${x + slot / 2},${y(d.units, maxUnits)}`);
    if (i % 5 === 0 || i === days.length - 1) {
      chart.append(svg('text', { x: x + slot / 2, y: H - 10, 'text-anchor': 'middle' }, d.date.slice(5)));
    }
  });
  if (points.length) chart.append(svg('polyline', { class: 'line-units', points: points.join(' ') }));
  const legend = el('div', { class: 'legend', 'aria-hidden': 'true' }, el('span', { class: 'rev' }, `Revenue (${currency})`), el('span', { class: 'units' }, 'Units'));
  $('chart').replaceChildren(chart, legend);
  drawProfit(currency, days, profitOf);
}

/** Beside each day's revenue: that day's fees, refunds and net proceeds in the same
 *  currency, exactly as the API sent them (nothing summed or rounded here). */
function drawProfit(currency, days, profitOf) {
  const body = $('profit').tBodies[0];
  if (state.profit == null) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'bad' },
      `Fees and net proceeds could not be read: ${state.profitError ?? 'no answer'}`)));
    return;
  }
  const dates = [...new Set([...days.map((d) => d.date), ...profitOf.keys()])].sort().reverse();
  const revenueOf = new Map(days.map((d) => [d.date, d.revenue]));
  const cell = (amount) => (amount == null
    ? el('td', { class: 'num muted' }, '—')
    : el('td', { class: 'num' }, amountSpan({ amount: String(amount), currencyCode: currency })));
  body.replaceChildren(...dates.map((date) => {
    const p = profitOf.get(date);
    return el('tr', { 'data-date': date },
      el('td', {}, date),
      cell(revenueOf.get(date)),
      cell(p?.revenue),
      cell(p?.fees), cell(p?.refunds), cell(p?.netProceeds));
  }));
  if (!profitOf.size) {
    body.prepend(el('tr', {}, el('td', { colspan: 6 },
      `No transactions posted in ${currency || 'any currency'} over these days yet: fees and net proceeds appear after a transactions sync.`)));
  }
}

// --- settings: the seller account, its credentials, the first sync ----------------------------

/** What is left to set up, in order, each step saying whether it is done. */
function fillSetupSteps(c, configured) {
  const steps = [
    [Boolean(c), 'Save the seller account: its seller id, region and marketplaces.'],
    [configured, 'Store the Amazon credentials (LWA client id, client secret, refresh token).'],
    [Boolean(c?.lastCheckOk), 'Ping Amazon: it checks the credentials without using the orders quota.'],
    [Boolean(c?.lastOrdersSyncStatus === 'SUCCEEDED'), 'Run the first sync: the orders of the last days come in; later ones arrive by themselves while the worker runs.'],
  ];
  $('setup-steps').replaceChildren(...steps.map(([done, text]) => el('li', { class: done ? 'done' : '' },
    el('span', { class: done ? 'ok' : 'muted' }, done ? '✓ ' : '○ '), text, done ? el('span', { class: 'sr-only' }, ' (done)') : '')));
}

/** The connection form shows what is stored; marketplaces offered are the region's. */
function fillSettings() {
  const c = state.connection;
  const form = $('connection-form');
  if (form.dataset.filledFor !== JSON.stringify(c)) {
    form.dataset.filledFor = JSON.stringify(c);
    $('c-seller').value = c?.sellerId ?? '';
    $('c-region').value = c?.region ?? 'NA';
    $('c-version').value = c?.ordersApiVersion ?? 'V2026_01_01';
    $('c-timezone').value = c?.timezone ?? '';
    $('c-endpoint').value = c?.endpoint ?? '';
    $('c-token-url').value = c?.tokenUrl ?? '';
    $('c-advanced').open = Boolean(c?.endpoint || c?.tokenUrl);
    fillMarketplaceChoices(c?.marketplaceIds ?? []);
  }
  if (!$('timezones').children.length && Intl.supportedValuesOf) {
    $('timezones').replaceChildren(...Intl.supportedValuesOf('timeZone').map((z) => el('option', { value: z })));
  }
  $('credentials-state').textContent = c?.credentialConfigured
    ? `Stored: client ${c.lwaClientId}${c.credentialUpdatedAt ? `, since ${when(c.credentialUpdatedAt)}` : ''}. Saving replaces them.`
    : c ? 'None stored yet.' : 'Save the seller account first.';
  $('credentials-form').querySelector('button').disabled = !c;
}

function fillMarketplaceChoices(checked) {
  const region = $('c-region').value;
  const box = $('c-marketplaces');
  const keep = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value).concat(checked));
  box.replaceChildren(el('legend', {}, 'Marketplaces to sync'), ...state.marketplaces
    .filter((m) => m.region === region)
    .map((m) => el('label', { class: 'choice' },
      el('input', { type: 'checkbox', value: m.marketplaceId, checked: keep.has(m.marketplaceId) }),
      flag(m.countryCode), `${m.name} `, el('span', { class: 'sr-only' }, m.countryCode))));
}

async function saveConnection(event) {
  event.preventDefault();
  const error = $('connection-error');
  error.textContent = '';
  const marketplaceIds = [...$('c-marketplaces').querySelectorAll('input:checked')].map((i) => i.value);
  if (!marketplaceIds.length) {
    error.textContent = 'Choose at least one marketplace.';
    return;
  }
  const input = {
    sellerId: $('c-seller').value.trim(),
    region: $('c-region').value,
    marketplaceIds,
    ordersApiVersion: $('c-version').value,
    timezone: $('c-timezone').value.trim() || null,
    endpoint: $('c-endpoint').value.trim() || null,
    tokenUrl: $('c-token-url').value.trim() || null,
  };
  try {
    await gql('mutation($input: AmazonConnectionInput!) { upsertAmazonConnection(input: $input) { sellerId } }', { input });
    notice('Seller account saved.');
    await loadStatus();
    fillSettings();
    if (!state.connection?.credentialConfigured) $('k-client-id').focus();
  } catch (err) {
    error.textContent = explain(err);
  }
}

async function saveCredentials(event) {
  event.preventDefault();
  const error = $('credentials-error');
  error.textContent = '';
  const input = {
    lwaClientId: $('k-client-id').value.trim(),
    lwaClientSecret: $('k-client-secret').value.trim(),
    refreshToken: $('k-refresh-token').value.trim(),
  };
  try {
    await gql('mutation($input: AmazonCredentialInput!) { setAmazonCredential(input: $input) { credentialConfigured } }', { input });
    // The secrets leave the page as soon as the server has them.
    $('credentials-form').reset();
    notice('Credentials stored sealed. Ping Amazon to check them.');
    await loadStatus();
    fillSettings();
    $('setup-ping').focus();
  } catch (err) {
    error.textContent = explain(err);
  }
}

// --- users -------------------------------------------------------------------------------------

async function loadUsers() {
  let data;
  try {
    data = await gql('{ users { id email role createdAt mustChangePassword } }');
  } catch (err) {
    notice(explain(err), true);
    return;
  }
  $('users').tBodies[0].replaceChildren(...data.users.map((u) => el('tr', { 'data-user': u.email },
    el('td', {}, u.email, u.email === state.me?.email ? el('span', { class: 'muted' }, ' (you)') : ''),
    el('td', {}, el('span', { class: 'badge' }, u.role === 'OWNER' ? 'owner' : 'viewer'),
      u.mustChangePassword ? el('span', { class: 'muted' }, ' one-time password') : ''),
    el('td', {}, when(u.createdAt)),
    el('td', {}, u.role === 'OWNER' ? '' : el('button', {
      type: 'button', class: 'secondary', 'aria-label': `Remove ${u.email}`,
      onclick: (e) => removeUser(u, e.currentTarget),
    }, 'Remove')),
  )));
}

async function removeUser(user, button) {
  if (!window.confirm(`Remove ${user.email}? Their sessions end at once.`)) return;
  button.disabled = true;
  try {
    await gql('mutation($id: ID!) { deleteUser(id: $id) { email } }', { id: user.id });
    notice(`${user.email} removed.`);
  } catch (err) {
    notice(explain(err), true);
    button.disabled = false;
  }
  await loadUsers();
}

async function addViewer(event) {
  event.preventDefault();
  const error = $('user-error');
  const problem = passwordProblem($('u-password').value);
  error.textContent = problem ?? '';
  if (problem) return;
  try {
    const data = await gql('mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: VIEWER) { email } }',
      { e: $('u-email').value, p: $('u-password').value });
    notice(`Viewer ${data.createUser.email} added.`);
    $('user-form').reset();
    await loadUsers();
  } catch (err) {
    error.textContent = explain(err);
  }
}

// --- wiring ------------------------------------------------------------------------------------

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
