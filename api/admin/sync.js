// Syncs: starting one, following its progress live (the syncRunUpdated
// subscription, polling when WebSockets fail), and the sync history.

import { $, GraphQLError, TOKEN_KEY, el, explain, gql, hooks, notice, state, subscribe, when } from './core.js';

const RUNS_PAGE = 10;
export const RUN_FIELDS = 'id kind status trigger dryRun includeItems pages apiCalls throttled found inserted updated unchanged ordersFound ordersInserted ordersUpdated ordersUnchanged itemsUpserted error startedAt finishedAt';

/** Where each kind of run is started and followed: its button and its progress line. */
export const SYNCS = {
  ORDERS: { button: 'sync', progress: 'progress', also: ['setup-sync'], alsoProgress: 'setup-progress' },
  INVENTORY: { button: 'inventory-sync', progress: 'inventory-progress', name: 'inventory sync', rows: 'SKU(s)' },
  TRANSACTIONS: { button: 'transactions-sync', progress: 'transactions-progress', name: 'transactions sync', rows: 'transaction(s)' },
  LISTINGS: { button: 'listings-sync', progress: 'listings-progress', more: ['listings-sync-full'], name: 'listings sync', rows: 'listing(s)' },
};

export async function sync(event) {
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

export async function syncInventory(event) {
  event.preventDefault();
  const full = $('inventory-full').checked;
  await startSync('INVENTORY', () => gql(
    `mutation($full: Boolean!) { syncAmazonInventory(full: $full) { ${RUN_FIELDS} } }`, { full }));
}

export async function syncTransactions(event) {
  event.preventDefault();
  await startSync('TRANSACTIONS', () => gql(`mutation { syncAmazonTransactions { ${RUN_FIELDS} } }`));
}

/** Starts a dataset's sync (inventory, transactions, listings) with `request`, its
 *  mutation, and follows the run; one already running is followed instead. */
export async function startSync(kind, request, starting = `Starting the ${SYNCS[kind].name}…`) {
  const { name } = SYNCS[kind];
  const progress = $(SYNCS[kind].progress);
  const buttons = [SYNCS[kind].button, ...(SYNCS[kind].more ?? [])].map((id) => $(id));
  for (const b of buttons) b.disabled = true;
  progress.textContent = starting;
  progress.className = '';
  try {
    follow(Object.values(await request())[0]);
  } catch (err) {
    if (err instanceof GraphQLError && err.codes.includes('SYNC_ALREADY_RUNNING')) {
      const id = err.errors[0].extensions?.runningRunId;
      if (id) {
        follow({ id, kind, status: 'RUNNING', pages: 0, found: 0, inserted: 0, updated: 0 });
        progress.textContent = `${/^[aeiou]/.test(name) ? 'An' : 'A'} ${name} (#${id}) is already running: following it…`;
        return;
      }
    }
    progress.textContent = `The ${name} did not start: ${explain(err)}`;
    progress.className = 'bad';
    for (const b of buttons) b.disabled = false;
  }
}

/** Follows the newest run of each kind if it is still running (after sign-in, and
 *  after an orders sync, which refreshes the stock of what sold in a run of its own). */
export async function followRunningSync() {
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
  const { name, rows } = SYNCS[run.kind];
  if (rows) {
    const title = `${name[0].toUpperCase()}${name.slice(1)} #${run.id}${dry}`;
    line.textContent = run.status === 'RUNNING'
      ? `${title} running: ${run.pages ?? 0} page(s), ${run.found ?? 0} ${rows} read, ${run.inserted ?? 0} new, ${run.updated ?? 0} updated…`
      : `${title} ${run.status.toLowerCase()}: ${run.found} ${rows} read, ${run.inserted} new, ${run.updated} updated, ${run.unchanged} unchanged, ${run.apiCalls} API calls${run.error ? ` — ${run.error}` : ''}.`;
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

export function stopFollowingAll() {
  for (const kind of Object.keys(state.following)) stopFollowing(kind);
}

/** Shows a running sync's progress until it ends, over the subscription; polls when
 *  WebSockets are unavailable. The run's sync button stays disabled meanwhile. */
export function follow(run) {
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
    await hooks.refreshAll();
    // An orders run that sold FBA stock starts an inventory run right after.
    if (kind === 'ORDERS') await followRunningSync();
  };
  let last = run;
  let ended = false;
  let ws;
  try {
    ws = subscribe(`subscription($id: ID!) { syncRunUpdated(id: $id) { ${RUN_FIELDS} } }`, { id: run.id }, {
      next: (data, errors) => {
        const r = data?.syncRunUpdated;
        if (r) {
          last = r;
          showProgress(r);
        }
        if (errors?.length) notice(errors[0].message, true);
      },
      error: (message) => notice(message, true),
      complete: () => {
        ended = true;
        done(last);
      },
      // Closed before the run ended (proxy, restart): fall back to polling.
      close: () => {
        if (!ended && state.following[kind] === ws) poll(run.id, kind, done);
      },
    });
  } catch {
    return poll(run.id, kind, done);
  }
  state.following[kind] = ws;
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

export async function loadRuns() {
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
