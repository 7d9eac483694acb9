// Signing in and out, creating the owner on a fresh install, and passwords
// (a one-time password is replaced before anything else).

import { $, TOKEN_KEY, explain, gql, hooks, notice, passwordProblem, state } from './core.js';
import { stopWatchingOrders } from './orders.js';
import { stopFollowingAll } from './sync.js';

export async function signIn(event) {
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
    await hooks.start();
  } catch (err) {
    $('sign-in-error').textContent = explain(err);
  }
}

/** Ends every session of this account on the server, then signs out here whatever the answer. */
export async function signOutEverywhere() {
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

export function signOut(message = 'Signed out.') {
  sessionStorage.removeItem(TOKEN_KEY);
  stopFollowingAll();
  stopWatchingOrders();
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
export async function welcome() {
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

export function showPasswordRules() {
  for (const node of document.querySelectorAll('.password-rule')) {
    node.textContent = `At least ${state.minPasswordChars} characters; a few words are easier to remember than symbols.`;
  }
  for (const id of ['owner-password', 'mc-new', 'u-password', 'p-new']) $(id).minLength = state.minPasswordChars;
}

export async function createOwner(event) {
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
    await hooks.start();
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

export async function replaceOneTimePassword(event) {
  event.preventDefault();
  const error = $('must-change-error');
  const problem = passwordProblem($('mc-new').value, $('mc-again').value);
  error.textContent = problem ?? '';
  if (problem) return;
  try {
    await changePassword($('mc-current').value, $('mc-new').value);
    $('must-change-form').reset();
    $('must-change').hidden = true;
    await hooks.start();
  } catch (err) {
    error.textContent = explain(err);
  }
}

export async function changeOwnPassword(event) {
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
