// Finances: Amazon's transactions with their breakdown trees, and the
// reconciliation of orders with their settlements.

import { $, amountSpan, amounts, el, explain, gql, marketplaceName, state, when } from './core.js';

const ISSUES_PAGE = 25;
const TRANSACTIONS_PAGE = 25;
/** The breakdown tree, six levels deep; the level below only says whether
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
export async function loadTransactions(more = false) {
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

export async function loadIssues(more = false) {
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
