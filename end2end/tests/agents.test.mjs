// The Agents page in headless Chromium, each test in a fresh browser context, with JavaScript on
// (hydrated: forms go through the client) and off (plain form posts and redirects):
//   - "Enroll an agent" makes a one-time token, shown once, and the agent is listed as pending;
//   - a free site is assigned to it from its row: the site shows in the row and is no longer
//     offered; then it is unassigned and offered again.
// scripts/e2e.sh gives the server an agent listener and a master key (without them no token can
// be made). Names carry a per-run suffix: the database outlives a single test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TEST_TIMEOUT, createSite, fileBrowser, openPage, signInAsAdmin, submitInMode, uniqueName,
  withPage,
} from './support.mjs';

const browser = fileBrowser();

const PAGE = '/admin/agents';
const rowSelector = (name) => `#agents-table tr[data-name="${name}"]`;

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`agents (${mode})`, () => {
    test(`${mode}: a new agent gets a one-time token, then a site assigned and unassigned`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const code = uniqueName(js ? 'a' : 'g').slice(0, 16).toUpperCase();
        const site = await createSite(page, js, `E2E agent POP ${code}`, code);

        await openPage(page, js, PAGE, '#create-agent-form');
        assert.equal(await page.locator('#agents-unavailable').count(), 0,
          'the server should have an agent listener (scripts/e2e.sh sets AGENT_LISTEN)');
        const name = uniqueName(js ? 'e2eagent' : 'e2eagentn');
        await page.locator('#new-agent-name').fill(name);
        await submitInMode(page, js, '#create-agent-form');
        await page.locator('#new-agent-token').waitFor();
        assert.ok((await page.locator('#new-agent-token').textContent()).includes(name));
        const token = await page.locator('#new-agent-token-text').getAttribute('data-token');
        assert.match(token, /^ispvmenroll_[0-9a-f]{64}_[0-9a-f]{64}$/,
          'the token: its secret and the agent CA\'s fingerprint');
        assert.ok((await page.locator('#new-agent-command').textContent()).includes(token));
        const row = rowSelector(name);
        await page.locator(row).waitFor();
        assert.equal(await page.locator(row).getAttribute('data-state'), 'pending');

        // Assign the new site from the agent's row.
        const assign = `${row} form.assign-site`;
        await page.locator(`${assign} select[name="site"]`).selectOption(site);
        await submitInMode(page, js, assign);
        const assigned = page.locator(`${row} li[data-site="${code}"]`);
        await assigned.waitFor();
        assert.equal(await page.locator('#new-agent-token').count(), 0, 'the token is shown once');
        assert.equal(await page.locator(`#agents-table option[value="${site}"]`).count(), 0,
          'an assigned site is no longer offered');

        // And unassign it: it is offered again.
        await submitInMode(page, js, `${row} li[data-site="${code}"] form`);
        await assigned.waitFor({ state: 'detached' });
        await page.locator(`${assign} option[value="${site}"]`).waitFor({ state: 'attached' });
      }));
  });
}
