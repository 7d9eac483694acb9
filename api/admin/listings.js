// Listings, the price & quantity queue (CSV, dry run, submit, conflicts) and
// the feeds that carry large submissions.

import { $, TOKEN_KEY, amountSpan, el, exact, explain, gql, marketplaceName, notice, state, when, whenExactly } from './core.js';
import { RUN_FIELDS, startSync } from './sync.js';

// While changes are being pushed, the queue is read again this often.
const QUEUE_POLL_MS = 3000;
const QUEUE_PAGE = 25;
const LISTINGS_PAGE = 25;
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

export async function loadListings() {
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

export async function syncListings(full) {
  await startSync('LISTINGS', () => gql(
    `mutation($full: Boolean!) { syncAmazonListings(full: $full) { ${RUN_FIELDS} } }`, { full },
  ), full ? 'Starting a full listings sync…' : 'Starting the listings sync…');
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

export async function loadQueue() {
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
export async function submitChanges(dryRun) {
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

export async function queueCsv(event) {
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
export async function readCsvFile() {
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
