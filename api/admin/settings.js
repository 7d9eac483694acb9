// Settings: the seller account, its credentials, and users (the first-run steps are
// drawn with the status, in status.js).

import { $, el, explain, flag, gql, notice, passwordProblem, state, when } from './core.js';
import { loadStatus } from './status.js';

/** The connection form shows what is stored; marketplaces offered are the region's. */
export function fillSettings() {
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

export function fillMarketplaceChoices(checked) {
  const region = $('c-region').value;
  const box = $('c-marketplaces');
  const keep = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value).concat(checked));
  box.replaceChildren(el('legend', {}, 'Marketplaces to sync'), ...state.marketplaces
    .filter((m) => m.region === region)
    .map((m) => el('label', { class: 'choice' },
      el('input', { type: 'checkbox', value: m.marketplaceId, checked: keep.has(m.marketplaceId) }),
      flag(m.countryCode), `${m.name} `, el('span', { class: 'sr-only' }, m.countryCode))));
}

export async function saveConnection(event) {
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

export async function saveCredentials(event) {
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

export async function loadUsers() {
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

export async function addViewer(event) {
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
