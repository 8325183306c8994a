// The credential profiles pages in headless Chromium, each test in a fresh browser context, with
// JavaScript on (hydrated: forms go through the client, the create form shows only the chosen
// kind's secret fields) and off (plain form posts and redirects, every kind's fields shown):
//   - "Add a credential profile" creates a RouterOS login that shows in the list, and neither the
//     list nor the profile's page, as served, contains its password;
//   - a too-short SNMP v3 passphrase is refused with a message naming the field, nothing added;
//   - a profile is renamed (its secret kept) and deleted.
// Names carry a per-run suffix: the database outlives a single test. scripts/e2e.sh gives the
// server a master key (without one, saving a profile answers 503).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TEST_TIMEOUT, assertNotHydrated, assertRedirect, fileBrowser, formAction, here, signInAsAdmin,
  submitForm, uniqueName, waitForHydration, waitForPath, withPage,
} from './support.mjs';

const browser = fileBrowser();

const LIST = '/inventory/credentials';
const row = (page, name) => page.locator(`#credentials-table tr[data-name="${name}"]`);
const createForm = (page) => page.locator('#create-credential-form');

/** A secret no page could contain by accident. */
function distinctiveSecret() {
  return `E2e-secret-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Signs in as the admin and opens the credentials page (hydrated when JavaScript is on). */
async function openList(page, js) {
  await signInAsAdmin(page, { js });
  await page.goto(LIST);
  await createForm(page).waitFor();
  if (js) {
    await waitForHydration(page);
  } else {
    await assertNotHydrated(page);
  }
}

/** The HTML the server sends for `path` with this context's cookies (not the live DOM). */
async function served(page, path) {
  const res = await page.request.get(path, { headers: { accept: 'text/html' } });
  assert.equal(res.status(), 200, `GET ${path}`);
  return res.text();
}

/** Submits the create form; checks how it was sent (client fetch vs document POST). */
async function submitCreate(page, js, { expectRedirect = true } = {}) {
  const action = await formAction(page, '#create-credential-form');
  const sent = await submitForm(page, createForm(page).locator('button[type="submit"]'), action);
  if (js) {
    assert.ok(['fetch', 'xhr'].includes(sent.request.resourceType()),
      `the hydrated form should submit through the client, not as a ${sent.request.resourceType()}`);
  } else {
    assert.equal(sent.request.resourceType(), 'document', 'expected a plain form post');
    if (expectRedirect) assertRedirect(sent.response, LIST, 'create-credential POST');
  }
  return sent;
}

/** Creates a RouterOS login through the form and waits for its row. */
async function createRouterOs(page, js, { name, username, password }) {
  await page.locator('#new-credential-name').fill(name);
  await page.locator('#new-credential-kind').selectOption('routeros');
  await page.locator('#new-credential-description').fill('core routers (e2e)');
  await page.locator('#routeros-username').fill(username);
  await page.locator('#routeros-password').fill(password);
  await submitCreate(page, js);
  await waitForPath(page, LIST);
  await row(page, name).waitFor();
  assert.equal(await createForm(page).locator('p.notice.error').count(), 0,
    'an error is shown after a successful create');
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`credentials (${mode})`, () => {
    test(`${mode}: a new RouterOS login is listed and its password is never served`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await openList(page, js);
        // Hydrated, the form shows only the chosen kind's fields; without JavaScript, all.
        const v2c = page.locator('fieldset[data-kind="snmp_v2c"]');
        if (js) {
          assert.equal(await v2c.isVisible(), false, 'SNMP fields shown for a RouterOS login');
          await page.locator('#new-credential-kind').selectOption('snmp_v2c');
          await page.locator('#snmp_v2c-community').waitFor();
          assert.equal(await page.locator('#routeros-password').isVisible(), false);
        } else {
          assert.equal(await v2c.isVisible(), true, 'without JavaScript every kind is offered');
        }

        const profile = { name: uniqueName('e2ecred'), username: 'ispvm-api', password: distinctiveSecret() };
        await createRouterOs(page, js, profile);
        const cells = (await row(page, profile.name).locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells.slice(0, 4), [profile.name, 'RouterOS login', 'core routers (e2e)', '0']);
        if (!js) await assertNotHydrated(page);

        const listHtml = await served(page, LIST);
        assert.ok(listHtml.includes(profile.name), 'the served list lacks the new profile');
        assert.ok(!listHtml.includes(profile.password), 'the served list contains the password');

        const link = row(page, profile.name).locator('a');
        const path = new URL(await link.getAttribute('href'), page.url()).pathname;
        await Promise.all([waitForPath(page, path), link.click()]);
        await page.locator('#credential-name-heading', { hasText: profile.name }).waitFor();
        assert.equal(await page.locator('#credential-kind').textContent(), 'RouterOS login');
        assert.equal(await page.locator('#routeros-password').inputValue(), '',
          'the edit form must not hold the stored password');
        const pageHtml = await served(page, path);
        assert.ok(pageHtml.includes(profile.name));
        assert.ok(!pageHtml.includes(profile.password), 'the served profile page contains the password');
        assert.ok(!(await page.content()).includes(profile.password), 'the live page contains the password');
      }));

    test(`${mode}: a short SNMP v3 passphrase is refused with a message`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await openList(page, js);
        const name = uniqueName('e2ev3');
        await page.locator('#new-credential-name').fill(name);
        await page.locator('#new-credential-kind').selectOption('snmp_v3');
        await page.locator('#snmp_v3-snmp-user').fill('monitor');
        await page.locator('#snmp_v3-auth-protocol').selectOption('SHA256');
        await page.locator('#snmp_v3-auth-passphrase').fill('short');
        await page.locator('#snmp_v3-priv-protocol').selectOption('none');
        await submitCreate(page, js, { expectRedirect: false });
        const error = createForm(page).locator('p.notice.error');
        await error.waitFor();
        assert.equal(await error.getAttribute('data-field'), 'auth_passphrase');
        assert.match((await error.textContent()).trim(), /^auth_passphrase: must be at least 8 characters$/);
        assert.equal(here(page).pathname, LIST);
        assert.equal(await row(page, name).count(), 0, 'the profile was added anyway');
      }));

    test(`${mode}: a profile is renamed, keeping its secret, and deleted`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await openList(page, js);
        const profile = { name: uniqueName('e2eedit'), username: 'api', password: distinctiveSecret() };
        await createRouterOs(page, js, profile);
        const path = new URL(await row(page, profile.name).locator('a').getAttribute('href'), page.url()).pathname;
        await page.goto(path);
        await page.locator('#update-credential-form').waitFor();
        if (js) await waitForHydration(page);

        const renamed = `${profile.name}-renamed`;
        await page.locator('#credential-name').fill(renamed);
        const update = await formAction(page, '#update-credential-form');
        const sent = await submitForm(page, page.locator('#update-credential-form button[type="submit"]'), update);
        if (!js) assertRedirect(sent.response, path, 'update-credential POST');
        await page.locator('#credential-name-heading', { hasText: renamed }).waitFor();
        await page.locator('#update-credential-form p.notice.ok', { hasText: 'Saved.' }).waitFor();
        assert.ok(!(await served(page, path)).includes(profile.password));

        const del = await formAction(page, '#delete-credential-form');
        const deleted = await submitForm(page, page.locator('#delete-credential-form button[type="submit"]'), del);
        if (!js) assertRedirect(deleted.response, LIST, 'delete-credential POST');
        await waitForPath(page, LIST);
        await page.locator('#credentials-table').waitFor();
        assert.equal(await row(page, renamed).count(), 0, 'the deleted profile is still listed');
      }));
  });
}
