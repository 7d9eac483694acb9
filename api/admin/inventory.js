// Inventory: FBA stock with its low-stock highlights.

import { $, el, explain, gql, hooks, marketplaceName, notice, state, when } from './core.js';

const INVENTORY_PAGE = 25;
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

export async function loadInventory() {
  const load = ++state.inventoryLoad;
  const after = state.inventoryCursors.at(-1);
  const n = state.inventoryCursors.length;
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
  // A later load (another page or filter) was asked for meanwhile: this answer is stale.
  if (load !== state.inventoryLoad) return;
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
export function showLowStock() {
  $('i-low').checked = true;
  hooks.submitFilter('inventory');
  $('inventory-title').focus();
}
