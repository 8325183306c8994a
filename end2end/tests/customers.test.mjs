// Customers and services in headless Chromium, each test in a fresh browser context, with
// JavaScript on (hydrated: forms go through the client) and off (plain form posts, redirects,
// and GET forms for search and filters):
//   - "Add a customer" creates a customer, lands on its page, and the search finds it;
//   - a taken account id is refused with a message on that field, and nothing is added;
//   - "Add a service for this customer" creates a service for it that the services list (filtered
//     by search) and the customer's page both show.
// Names carry a per-run suffix: the database outlives a single test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TEST_TIMEOUT, assertNotHydrated, fileBrowser, here, openPage, signInAsAdmin, submitInMode,
  uniqueName, waitForHydration, waitForMatch, withPage,
} from './support.mjs';

const browser = fileBrowser();

const CUSTOMER_PAGE = /^\/inventory\/customers\/(\d+)$/;
const SERVICE_PAGE = /^\/inventory\/services\/(\d+)$/;

/** Fills in and submits "Add a customer" on /inventory/customers; returns the new id. */
async function createCustomer(page, js, customer) {
  await openPage(page, js, '/inventory/customers', '#create-customer-form');
  await page.locator('#new-customer-name').fill(customer.name);
  await page.locator('#new-customer-account-id').fill(customer.account);
  await page.locator('#new-customer-timezone').fill('Europe/Vienna');
  await page.locator('#new-customer-sla-target').fill('99.9');
  await submitInMode(page, js, '#create-customer-form');
  const [, id] = await waitForMatch(page, CUSTOMER_PAGE);
  await page.locator('#customer-name', { hasText: customer.name }).waitFor();
  assert.equal((await page.locator('#customer-account').textContent()).trim(), customer.account);
  assert.equal((await page.locator('#customer-sla').textContent()).trim(), '99.9 %');
  return id;
}

function newCustomer(prefix) {
  const suffix = uniqueName(prefix);
  return { name: `E2E customer ${suffix}`, account: `E2E-${suffix}` };
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`customers and services (${mode})`, () => {
    test(`${mode}: "Add a customer" creates a customer that the search finds`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const customer = newCustomer(js ? 'cjs' : 'cnojs');
        await createCustomer(page, js, customer);

        await openPage(page, js, '/inventory/customers', '#customer-search');
        await page.locator('#customer-search').fill(customer.account);
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/inventory/customers'
            && u.searchParams.get('q') === customer.account),
          page.locator('form[role="search"] button[type="submit"]').click(),
        ]);
        const row = page.locator(`#customers-table tr[data-account="${customer.account}"]`);
        await row.waitFor();
        const cells = (await row.locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells, [customer.name, customer.account, 'Europe/Vienna', '99.9 %', '0']);
        assert.equal(await page.locator('#customers-table tbody tr').count(), 1, 'the search did not filter');
        assert.equal((await page.locator('#customer-count').textContent()).trim(), '1 customer');
        if (!js) await assertNotHydrated(page);
      }));

    test(`${mode}: a taken account id is refused on that field`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const customer = newCustomer(js ? 'dupjs' : 'dupnojs');
        await createCustomer(page, js, customer);

        await openPage(page, js, '/inventory/customers', '#create-customer-form');
        await page.locator('#new-customer-name').fill(`${customer.name} again`);
        await page.locator('#new-customer-account-id').fill(customer.account.toLowerCase());
        await submitInMode(page, js, '#create-customer-form');
        const error = page.locator('#create-customer-form p.notice.error');
        await error.waitFor();
        assert.match((await error.textContent()).trim(), /^account_id: /);
        assert.equal(await error.getAttribute('data-field'), 'account_id');
        assert.equal(await page.locator('#new-customer-account-id').getAttribute('aria-invalid'), 'true',
          'the refused field is marked');
        assert.equal(here(page).pathname, '/inventory/customers');

        await openPage(page, js, `/inventory/customers?q=${encodeURIComponent(customer.account)}`, '#customers-table');
        assert.equal(await page.locator('#customers-table tbody tr').count(), 1, 'a second customer was added');
      }));

    test(`${mode}: a service created for a customer is listed`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const customer = newCustomer(js ? 'svcjs' : 'svcnojs');
        const customerId = await createCustomer(page, js, customer);

        // From the customer's page to the services page with the customer preselected.
        await openPage(page, js, `/inventory/customers/${customerId}`, '#customer-name');
        await Promise.all([
          page.waitForURL((u) => u.pathname === '/inventory/services'
            && u.searchParams.get('customer') === customerId),
          page.getByRole('link', { name: 'Add a service for this customer' }).click(),
        ]);
        await page.locator('#create-service-form').waitFor();
        if (js) await waitForHydration(page);
        assert.equal(await page.locator('#new-service-customer').inputValue(), customerId,
          'the customer is preselected');

        const service = `E2E L2 ${uniqueName(js ? 'js' : 'nojs')}`;
        await page.locator('#new-service-name').fill(service);
        await page.locator('#new-service-kind').selectOption('l2');
        await page.locator('#new-service-sla-target').fill('99.95');
        await submitInMode(page, js, '#create-service-form');
        await waitForMatch(page, SERVICE_PAGE);
        await page.locator('#service-name', { hasText: service }).waitFor();
        assert.equal((await page.locator('#service-kind').textContent()).trim(), 'L2');
        assert.equal((await page.locator('#service-customer').textContent()).trim(), customer.name);
        assert.equal((await page.locator('#service-sla').textContent()).trim(), '99.95 %');

        await openPage(page, js, `/inventory/services?q=${encodeURIComponent(service)}`, '#services-table');
        const row = page.locator(`#services-table tr[data-name="${service}"]`);
        await row.waitFor();
        const cells = (await row.locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells, [service, 'L2', customer.name, '—', '99.95 %', 'enabled']);

        await openPage(page, js, `/inventory/customers/${customerId}`, '#customer-services');
        await page.locator('#customer-services a', { hasText: service }).waitFor();
      }));
  });
}
