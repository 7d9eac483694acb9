// What every view uses: the GraphQL client, the page's state, formatting, and
// marketplaces by name. The sign-in token lives in sessionStorage: it lasts as
// long as the tab.

export const TOKEN_KEY = 'admin.token';

/** What the entry (app.js) does for the views, set by it before anything runs: a view
 *  calls these instead of importing the entry, so imports run one way (app.js → views
 *  → core.js) and no module waits on one that imports it. */
export const hooks = {
  start: async () => {}, // after sign-in: read who is signed in and show the page
  refreshAll: async () => {}, // read every view again
  submitFilter: (_view) => {}, // a view's filter form was submitted
  signOut: (_why) => {}, // forget the session, saying why
};

export const $ = (id) => document.getElementById(id);

export const state = {
  me: null,
  view: 'overview', // the view the URL names (#/orders?status=SHIPPED …)
  shownFilters: {}, // by view: the filter (as URL parameters) its table was read with
  minPasswordChars: 12, // the API's rule, read from `setup` before sign-in
  marketplaces: [], // every marketplace: { marketplaceId name countryCode region sellerCentralUrl }
  connection: null,
  ordersCursors: [null], // cursor before each visited page; the last is the current page's
  ordersNext: null,
  ordersLoad: 0, // bumped per orders load from the top: a slower, older answer is dropped
  ordersWatch: null, // the ordersChanged subscription's socket
  ordersWatchRetry: null,
  arrived: { inserted: 0, updated: 0, ids: new Set() }, // orders committed since last shown
  arrivedTimer: null,
  runsCursors: [null],
  runsNext: null,
  inventoryCursors: [null],
  inventoryNext: null,
  inventoryLoad: 0,
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

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.codes = errors.map((e) => e.extensions?.code);
    this.errors = errors;
  }
}

export async function gql(query, variables = {}) {
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
      hooks.signOut('Your session ended: sign in again.');
    }
    throw err;
  }
  return body.data;
}

/** Opens a GraphQL subscription over `/graphql/ws` (graphql-transport-ws), signed in
 *  with this tab's token, and returns its socket (`close()` ends it). `on.next(data,
 *  errors)` gets each event, `on.error(message)` a refusal, `on.complete()` the end
 *  of the stream, and `on.close()` is called whenever the socket closes. */
export function subscribe(query, variables, on) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/graphql/ws`, 'graphql-transport-ws');
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
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
    } else if (msg.type === 'next') {
      on.next?.(msg.payload?.data, msg.payload?.errors);
    } else if (msg.type === 'error') {
      on.error?.(msg.payload?.[0]?.message ?? 'the subscription was refused');
    } else if (msg.type === 'complete') {
      on.complete?.();
    } else if (msg.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong' }));
    }
  });
  ws.addEventListener('close', () => {
    clearInterval(keepAlive);
    on.close?.();
  });
  return ws;
}

// --- formatting ------------------------------------------------------------------

export function money(amount, currency) {
  if (amount == null) return '—';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

/** An amount exactly as the API sent it (a decimal string) with its currency:
 *  never through a float, so 0.1 + 0.2 mistakes and rounding cannot happen. */
export function exact(m) {
  return m ? `${m.amount} ${m.currencyCode}` : '—';
}

function isNegative(amount) {
  return String(amount ?? '').trim().startsWith('-');
}

/** A span with an exact amount, marked (and coloured) when negative. */
export function amountSpan(m) {
  return el('span', { class: m && isNegative(m.amount) ? 'amount neg' : 'amount' }, exact(m));
}

/** Amounts per currency (a [Money!]!), each exactly; `none` when the list is empty. */
export function amounts(list, none = '—') {
  if (!list?.length) return none;
  return list.map(exact).join(', ');
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

// A change's steps come seconds apart: its history says the seconds.
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function whenExactly(iso) {
  return iso ? dateTimeSeconds.format(new Date(iso)) : '—';
}

export function ago(seconds) {
  if (seconds == null) return 'never';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v != null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

export function notice(text, isError = false) {
  const n = $('notice');
  n.textContent = text;
  n.className = isError ? 'bad' : '';
}

export function explain(err) {
  return err instanceof GraphQLError ? err.message : `Cannot reach the server: ${err.message}`;
}

/** Today's date (YYYY-MM-DD) in `timeZone`, and `days` earlier. */
export function localDay(timeZone, daysBack = 0) {
  const d = new Date(Date.now() - daysBack * 86400000);
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

// --- marketplaces ------------------------------------------------------------------

/** A country's mark: its code on a small flag-like tag. (Emoji flags show as empty
 *  boxes on Windows and on systems without an emoji font.) */
export function flag(countryCode) {
  if (!/^[A-Z]{2}$/.test(countryCode ?? '')) return '';
  return el('span', { class: 'flag', 'aria-hidden': 'true' }, countryCode);
}

export function marketplaceOf(id) {
  return state.marketplaces.find((m) => m.marketplaceId === id);
}

/** A marketplace's flag and name, its id in the tooltip. */
export function marketplaceLabel(id) {
  const m = marketplaceOf(id);
  return el('span', { title: id, class: 'marketplace' }, m ? flag(m.countryCode) : '', marketplaceName(id));
}

/** "Amazon.com" for ATVPDKIKX0DER; the id itself for a marketplace the API does not name. */
export function marketplaceName(id) {
  return state.marketplaceNames.get(id) ?? id ?? '—';
}

/** The two password fields of a form agree and follow the API's rule; else why not. */
export function passwordProblem(password, again) {
  if ([...password].length < state.minPasswordChars) return `The password needs at least ${state.minPasswordChars} characters.`;
  if (again !== undefined && password !== again) return 'The two passwords differ.';
  return null;
}
