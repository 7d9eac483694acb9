// Orders: the filtered list, one order by its id, its items and money, and the
// CSV export.

import { $, GraphQLError, TOKEN_KEY, amountSpan, amounts, el, explain, gql, marketplaceLabel, marketplaceOf, money, notice, state, subscribe, when } from './core.js';
import { loadStatus } from './status.js';

const ORDERS_PAGE = 20;
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

export async function loadOrders() {
  // Bumped per load: an older answer arriving late is dropped, not shown.
  state.ordersLoad += 1;
  const load = state.ordersLoad;
  const orderId = $('f-order').value.trim();
  if (orderId) return loadOneOrder(orderId, load);
  const after = state.ordersCursors.at(-1);
  const n = state.ordersCursors.length;
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
  if (load !== state.ordersLoad) return;
  const page = data.amazonOrders;
  state.ordersNext = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  showOrders(page.edges.map((e) => e.node), 'No orders match.');
  $('orders-count').textContent = `${page.totalCount} order(s)`;
  $('orders-page').textContent = `Page ${n} of ${Math.max(1, Math.ceil(page.totalCount / ORDERS_PAGE))}`;
  $('orders-prev').disabled = n <= 1;
  $('orders-next').disabled = !state.ordersNext;
}

/** Search by Amazon order id: that order alone, whatever the other filters say. */
async function loadOneOrder(orderId, load) {
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
  if (load !== state.ordersLoad) return;
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
export async function exportOrdersCsv() {
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

// --- live: orders as they are committed -------------------------------------------------------

/** Follows the orders any process commits (the `ordersChanged` subscription: the
 *  worker's freshness loop, a manual sync, the CLI) while this tab is signed in,
 *  reconnecting when the socket closes. */
export function watchOrders() {
  stopWatchingOrders();
  const token = sessionStorage.getItem(TOKEN_KEY);
  let ws = null;
  try {
    ws = subscribe('subscription { ordersChanged { runId inserted updated amazonOrderIds } }', {}, {
      next: (data) => {
        const e = data?.ordersChanged;
        if (e && e.inserted + e.updated > 0) ordersArrived(e);
      },
      error: (message) => notice(`Live orders: ${message}`, true),
      close: () => {
        if (state.ordersWatch !== ws) return; // stopped on purpose
        state.ordersWatch = null;
        if (sessionStorage.getItem(TOKEN_KEY) === token) state.ordersWatchRetry = setTimeout(watchOrders, 5000);
      },
    });
  } catch {
    return; // no WebSockets here: the list is read again after each sync this tab starts
  }
  state.ordersWatch = ws;
}

export function stopWatchingOrders() {
  clearTimeout(state.ordersWatchRetry);
  clearTimeout(state.arrivedTimer);
  const ws = state.ordersWatch;
  state.ordersWatch = null;
  ws?.close();
}

/** A run's pages come seconds apart: they are shown together. */
function ordersArrived(e) {
  const a = state.arrived;
  a.inserted += e.inserted;
  a.updated += e.updated;
  for (const id of e.amazonOrderIds) a.ids.add(id);
  clearTimeout(state.arrivedTimer);
  state.arrivedTimer = setTimeout(showArrived, 400);
}

async function showArrived() {
  const a = state.arrived;
  state.arrived = { inserted: 0, updated: 0, ids: new Set() };
  const parts = [];
  if (a.inserted) parts.push(`${a.inserted} new`);
  if (a.updated) parts.push(`${a.updated} updated`);
  const words = `${parts.join(' and ')} order(s) came in at ${new Date().toLocaleTimeString()}`;
  const line = $('orders-live');
  line.hidden = false;
  // On the newest page the list is read again and the rows that came are marked;
  // further back (or on one order) the page stays put and offers them.
  if (state.ordersCursors.length === 1 && !$('f-order').value.trim()) {
    line.textContent = `${words}.`;
    await loadOrders();
    for (const row of $('orders').tBodies[0].rows) {
      if (a.ids.has(row.dataset.order)) row.classList.add('arrived');
    }
  } else {
    line.replaceChildren(`${words}: `, el('button', {
      type: 'button', class: 'link',
      onclick: () => {
        state.ordersCursors = [null];
        loadOrders();
      },
    }, 'show the newest'));
  }
  await loadStatus();
}

