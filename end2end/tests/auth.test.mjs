// Sign-in, navigation and sign-out in headless Chromium, each test in a fresh browser context,
// once with JavaScript on (the hydrated app: forms go through the client, links are routed
// client-side) and once with it off (plain form posts answered by redirects):
//   - the full flow: /login → home (tenant tiles) → users page → sign out;
//   - a wrong password shows "wrong username or password" and stays on /login;
//   - an unknown route answers HTTP 404 with the "Not found" page;
//   - a signed-out visit to /admin/users redirects to /login?next=/admin/users, and signing in
//     there leads back to /admin/users.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ADMIN_PASSWORD, ADMIN_USER, TEST_TIMEOUT, assertNotHydrated, assertRedirect, fileBrowser,
  fillLogin, formAction, here, submitForm, waitForHydration, waitForPath, withPage,
} from './support.mjs';

const TENANT_NAME = process.env.E2E_TENANT_NAME || 'Demo ISP';

const browser = fileBrowser();

/** How a form was sent: through the hydrated client (fetch) or as a browser navigation. */
function assertSentBy(request, js, what) {
  if (js) {
    assert.ok(['fetch', 'xhr'].includes(request.resourceType()),
      `${what}: the hydrated form should submit through the client, but the browser sent a ` +
      `${request.resourceType()} request`);
  } else {
    assert.equal(request.resourceType(), 'document', `${what}: expected a plain form post`);
  }
}

/** Reads a tile of the home page: its number and label. */
async function tile(page, id) {
  const value = (await page.locator(`#${id} .value`).textContent()).trim();
  const label = (await page.locator(`#${id} .label`).textContent()).trim();
  assert.match(value, /^\d+$/, `#${id} .value is not a number: "${value}"`);
  assert.ok(label.length > 0, `#${id} has no label`);
  return Number(value);
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`sign-in and navigation (${mode})`, () => {
    test(`${mode}: sign in, home, users page, sign out`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        const res = await page.goto('/login');
        assert.equal(res.status(), 200, 'GET /login');
        if (js) {
          await waitForHydration(page);
        } else {
          await assertNotHydrated(page);
        }
        assert.equal(await page.locator('#login-form input[type="hidden"][name="next"]').count(), 1,
          'the sign-in form carries a hidden next field');

        // Sign in.
        const login = await fillLogin(page, ADMIN_USER, ADMIN_PASSWORD);
        assertSentBy(login.request, js, 'sign-in');
        if (!js) assertRedirect(login.response, '/', 'sign-in POST');
        await waitForPath(page, '/');

        // Home: the signed-in layout and the tenant tiles (waiting for a tile first: during a
        // client-side navigation the previous page can still be on screen for a moment).
        await page.locator('#tile-users').waitFor();
        const topbar = page.locator('header.topbar');
        assert.equal((await topbar.locator('span.who').textContent()).trim(), ADMIN_USER);
        const nav = topbar.locator('nav a');
        await nav.first().waitFor();
        const links = (await nav.allTextContents()).map((s) => s.trim());
        for (const name of ['Home', 'Users', 'Audit log']) {
          assert.ok(links.includes(name), `nav link "${name}" missing for an admin (got ${links})`);
        }
        assert.equal((await page.locator('#main h1').textContent()).trim(), TENANT_NAME);
        const users = await tile(page, 'tile-users');
        const active = await tile(page, 'tile-active');
        const admins = await tile(page, 'tile-admins');
        assert.ok(users >= 1 && active >= 1 && admins >= 1,
          `tiles count at least the signed-in admin (users ${users}, active ${active}, admins ${admins})`);
        assert.ok(active <= users, `active users (${active}) cannot exceed users (${users})`);
        if (js) {
          await waitForHydration(page);
        } else {
          await assertNotHydrated(page);
        }

        // To the users page through the nav link.
        if (js) {
          await page.evaluate(() => {
            window.__e2eSameDocument = true;
          });
        }
        await topbar.getByRole('link', { name: 'Users', exact: true }).click();
        await waitForPath(page, '/admin/users');
        await page.locator(`#users-table tr[data-username="${ADMIN_USER}"]`).waitFor();
        assert.match((await page.locator('#user-count').textContent()).trim(), /^\d+ of \d+ users$/);
        if (js) {
          // The hydrated router handles the link: no full page load, so the marker survives.
          assert.equal(await page.evaluate(() => window.__e2eSameDocument === true), true,
            'following the Users link reloaded the page: client-side routing (hydration) is not working');
        } else {
          await assertNotHydrated(page);
        }

        // Sign out, then the admin pages are closed again.
        const signOut = page.locator('header form button');
        assert.equal((await signOut.textContent()).trim(), 'Sign out');
        const action = await formAction(page, 'header form');
        const logout = await submitForm(page, signOut, action);
        assertSentBy(logout.request, js, 'sign-out');
        if (!js) assertRedirect(logout.response, '/login', 'sign-out POST');
        await waitForPath(page, '/login');
        await page.locator('#login-form').waitFor();

        await page.goto('/admin/users');
        await waitForPath(page, '/login');
        assert.equal(here(page).params.get('next'), '/admin/users');
        assert.equal(await page.locator('header.topbar').count(), 0, 'still signed in after sign-out');
      }));

    test(`${mode}: a wrong password shows an error and stays on /login`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await page.goto('/login');
        if (js) await waitForHydration(page);

        const wrong = `not-${ADMIN_PASSWORD}`;
        const attempt = await fillLogin(page, ADMIN_USER, wrong);
        assertSentBy(attempt.request, js, 'sign-in');
        if (!js) assertRedirect(attempt.response, '/login', 'failed sign-in POST');

        const error = page.locator('#login-form p.notice.error');
        await error.waitFor();
        assert.equal((await error.textContent()).trim(), 'wrong username or password');
        assert.equal(here(page).pathname, '/login');
        assert.equal(await page.locator('header.topbar').count(), 0, 'signed in with a wrong password');

        // The form still works from the error page.
        await fillLogin(page, ADMIN_USER, ADMIN_PASSWORD);
        await waitForPath(page, '/');
        assert.equal((await page.locator('header.topbar span.who').textContent()).trim(), ADMIN_USER);
      }));

    test(`${mode}: an unknown route answers 404 with the Not found page`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        const res = await page.goto('/no-such-page');
        assert.equal(res.status(), 404, 'GET /no-such-page');
        if (js) {
          await waitForHydration(page);
        } else {
          await assertNotHydrated(page);
        }
        assert.equal((await page.locator('h1').textContent()).trim(), 'Not found');
        assert.equal(here(page).pathname, '/no-such-page');
      }));

    test(`${mode}: signed out, /admin/users redirects to /login?next=/admin/users`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page, context) => {
        // The server itself answers a navigation (Accept: text/html, as a browser sends) with
        // the redirect, no script involved.
        const raw = await context.request.get('/admin/users', {
          maxRedirects: 0,
          headers: { accept: 'text/html,application/xhtml+xml' },
        });
        const status = raw.status();
        assert.ok(status >= 300 && status < 400, `GET /admin/users signed out: expected a redirect, got ${status}`);
        const location = new URL(raw.headers().location ?? '', raw.url());
        assert.equal(location.pathname, '/login');
        assert.equal(location.searchParams.get('next'), '/admin/users');

        const res = await page.goto('/admin/users');
        assert.ok(res.request().redirectedFrom(), 'the browser was not redirected');
        assert.equal(here(page).pathname, '/login');
        assert.equal(here(page).params.get('next'), '/admin/users');
        assert.equal(await page.locator('#login-form input[name="next"]').inputValue(), '/admin/users');
        if (js) await waitForHydration(page);

        // Signing in there leads back to the page asked for.
        const login = await fillLogin(page, ADMIN_USER, ADMIN_PASSWORD);
        if (!js) assertRedirect(login.response, '/admin/users', 'sign-in POST with next');
        await waitForPath(page, '/admin/users');
        await page.locator(`#users-table tr[data-username="${ADMIN_USER}"]`).waitFor();
      }));
  });
}
