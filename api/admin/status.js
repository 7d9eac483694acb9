// The Overview's connection card: the seller account, its health and alerts,
// Ping, and what is disabled until the account is configured.

import { $, ago, el, explain, gql, marketplaceName, notice, state, when } from './core.js';
import { showLowStock } from './inventory.js';
import { SYNCS } from './sync.js';

const CONNECTION = `amazonConnection { sellerId region marketplaceIds ordersApiVersion sandbox
  endpoint tokenUrl timezone credentialUpdatedAt
  credentialConfigured lwaClientId reportTimezone lastCheckAt lastCheckOk lastCheckError
  lastOrdersSyncAt lastOrdersSyncStatus lastOrdersSyncError lastOrdersSyncOrdersCount lastOrdersSyncItemsCount }`;

export async function loadStatus() {
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
    .map((a) => el('p', { class: 'alert' }, `${a.message} (since ${when(a.since)})`,
      // Price or quantity changes needing attention are decided in the queue.
      ...(a.kind === 'listing_changes' ? [' ', el('a', { href: '#/listings' }, 'Open the queue')] : []))));
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

function fillMarketplaces(ids) {
  for (const select of [$('f-marketplace'), $('i-marketplace'), $('l-marketplace')]) {
    const current = select.value;
    select.replaceChildren(el('option', { value: '' }, 'Any'), ...ids.map((id) => el('option', { value: id }, marketplaceName(id))));
    const wanted = select.dataset.wanted ?? current;
    delete select.dataset.wanted;
    select.value = ids.includes(wanted) ? wanted : '';
  }
}

export async function ping() {
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
