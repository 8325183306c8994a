// The users admin page in headless Chromium, each test in a fresh browser context, with
// JavaScript on (hydrated: the form goes through the client, the filter narrows the table as
// you type) and off (plain form posts, redirects, and the server-side ?q= filter):
//   - "Add a user" creates a user that appears in the table and can sign in;
//   - a taken username is refused with a message and nothing is added;
//   - JS on: typing in the filter box, without submitting, narrows the table (needs hydration);
//   - JS off: submitting the filter form loads /admin/users?q=… filtered by the server.
// Usernames carry a per-run suffix: the database outlives a single test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ADMIN_USER, TEST_TIMEOUT, assertNotHydrated, assertRedirect, fileBrowser, fillLogin, formAction,
  here, newPassword, signInAsAdmin, submitForm, uniqueName, waitForHydration, waitForPath,
  withPage,
} from './support.mjs';

const browser = fileBrowser();

const row = (page, username) => page.locator(`#users-table tr[data-username="${username}"]`);
const bodyRows = (page) => page.locator('#users-table tbody tr');

/** "N of M users" → { shown: N, total: M }. */
async function userCount(page) {
  const text = (await page.locator('#user-count').textContent()).trim();
  const m = /^(\d+) of (\d+) users$/.exec(text);
  assert.ok(m, `#user-count reads "${text}", expected "N of M users"`);
  return { shown: Number(m[1]), total: Number(m[2]) };
}

/** Waits until #user-count reads exactly `text` (it updates after a refetch or a keystroke). */
async function waitForCount(page, text) {
  await page.locator('#user-count', { hasText: new RegExp(`^\\s*${text}\\s*$`) }).waitFor();
}

/** Signs in as the admin and opens /admin/users (hydrated when JavaScript is on). */
async function openUsersPage(page, js) {
  await signInAsAdmin(page, { js });
  await page.goto('/admin/users');
  await row(page, ADMIN_USER).waitFor();
  if (js) {
    await waitForHydration(page);
  } else {
    await assertNotHydrated(page);
  }
}

/** Fills in and submits the "Add a user" form; returns the POST request and its response. */
async function submitNewUser(page, { username, displayName, role, password }) {
  const form = page.locator('#create-user-form');
  assert.equal((await form.locator('h2').textContent()).trim(), 'Add a user');
  await page.locator('#new-username').fill(username);
  await page.locator('#new-display-name').fill(displayName);
  await page.locator('#new-role').selectOption(role);
  await page.locator('#new-password').fill(password);
  const action = await formAction(page, '#create-user-form');
  return submitForm(page, form.locator('button[type="submit"]'), action);
}

/** Creates a user through the form and waits for its row. */
async function createUser(page, js, user) {
  const sent = await submitNewUser(page, user);
  if (js) {
    assert.ok(['fetch', 'xhr'].includes(sent.request.resourceType()),
      `the hydrated form should submit through the client, not as a ${sent.request.resourceType()}`);
  } else {
    assert.equal(sent.request.resourceType(), 'document', 'expected a plain form post');
    assertRedirect(sent.response, '/admin/users', 'create-user POST');
  }
  await waitForPath(page, '/admin/users');
  await row(page, user.username).waitFor();
  assert.equal(await page.locator('#create-user-form p.notice.error').count(), 0,
    'an error is shown after a successful create');
}

function newUser(prefix, role = 'operator') {
  const username = uniqueName(prefix);
  return { username, displayName: `E2E ${username}`, role, password: newPassword() };
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`users admin (${mode})`, () => {
    test(`${mode}: "Add a user" creates a user that shows in the table`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await openUsersPage(page, js);
        const before = await userCount(page);
        assert.equal(before.shown, before.total, 'unfiltered page shows every user');

        const user = newUser(js ? 'e2ejs' : 'e2enojs');
        await createUser(page, js, user);

        const cells = (await row(page, user.username).locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells.slice(0, 4), [user.username, user.displayName, user.role, 'active']);
        assert.equal(cells[4], 'never', 'a new user has never signed in');
        await waitForCount(page, `${before.total + 1} of ${before.total + 1} users`);
        if (!js) await assertNotHydrated(page);

        // The new account works: it signs in (own context, no admin session).
        await withPage(browser(), { name: `${t.name} (new user signs in)` }, { js }, async (other) => {
          await other.goto('/login');
          if (js) await waitForHydration(other);
          await fillLogin(other, user.username, user.password);
          await waitForPath(other, '/');
          assert.equal((await other.locator('header.topbar span.who').textContent()).trim(), user.username);
        });
      }));

    test(`${mode}: a taken username is refused with a message`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await openUsersPage(page, js);
        const before = await userCount(page);

        const sent = await submitNewUser(page, {
          username: ADMIN_USER, displayName: 'Duplicate', role: 'viewer', password: newPassword(),
        });
        if (!js) assertRedirect(sent.response, '/admin/users', 'refused create-user POST');
        const error = page.locator('#create-user-form p.notice.error');
        await error.waitFor();
        assert.match((await error.textContent()).trim(), /^username: /);
        assert.equal(here(page).pathname, '/admin/users');
        assert.equal((await userCount(page)).total, before.total, 'a user was added anyway');
      }));

    if (js) {
      test(`${mode}: typing in the filter narrows the table without submitting`, { timeout: TEST_TIMEOUT }, (t) =>
        withPage(browser(), t, { js }, async (page) => {
          await openUsersPage(page, js);
          const user = newUser('e2efilter', 'viewer');
          await createUser(page, js, user);
          // A fresh load: the filter then starts from a just-hydrated page, whatever the
          // create form did to it.
          await page.goto('/admin/users');
          await row(page, user.username).waitFor();
          await waitForHydration(page);
          const { total } = await userCount(page);
          assert.ok(total >= 2, `need at least two users to filter, have ${total}`);
          const url = page.url();

          // By username, typed key by key.
          const filter = page.locator('#user-filter');
          await filter.pressSequentially(user.username);
          await waitForCount(page, `1 of ${total} users`);
          assert.deepEqual(await bodyRows(page).evaluateAll((rows) => rows.map((r) => r.dataset.username)),
            [user.username]);
          assert.equal(await row(page, ADMIN_USER).count(), 0, 'the admin row is still shown');
          assert.equal(page.url(), url, 'the filter submitted the form instead of filtering in place');

          // By display name, case-insensitively.
          await filter.fill(user.displayName.toUpperCase());
          await waitForCount(page, `1 of ${total} users`);
          assert.equal(await row(page, user.username).count(), 1);

          // Nothing matches.
          await filter.fill(`${user.username}-nomatch`);
          await waitForCount(page, `0 of ${total} users`);
          assert.equal(await bodyRows(page).count(), 0);

          // Cleared: every row is back.
          await filter.fill('');
          await waitForCount(page, `${total} of ${total} users`);
          assert.equal(await bodyRows(page).count(), total);
          await row(page, ADMIN_USER).waitFor();
          assert.equal(page.url(), url);
        }));
    } else {
      test(`${mode}: the filter form filters on the server (?q=)`, { timeout: TEST_TIMEOUT }, (t) =>
        withPage(browser(), t, { js }, async (page) => {
          await openUsersPage(page, js);
          const user = newUser('e2eq', 'viewer');
          await createUser(page, js, user);

          await page.locator('#user-filter').fill(user.username);
          await Promise.all([
            page.waitForURL((u) => u.pathname === '/admin/users' && u.searchParams.get('q') === user.username),
            page.locator('form[role="search"] button[type="submit"]').click(),
          ]);
          await assertNotHydrated(page);
          assert.deepEqual(await bodyRows(page).evaluateAll((rows) => rows.map((r) => r.dataset.username)),
            [user.username]);
          assert.equal(await row(page, ADMIN_USER).count(), 0, 'the server did not filter out admin');
          assert.deepEqual(await userCount(page), { shown: 1, total: 1 });
          assert.equal(await page.locator('#user-filter').inputValue(), user.username,
            'the filter box shows the query');
        }));
    }
  });
}
