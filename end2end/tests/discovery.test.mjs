// The link discovery review in headless Chromium, each test in a fresh browser context, with
// JavaScript on (hydrated: forms go through the client) and off (plain form posts and
// redirects). Two new devices; an agent (the bearer token scripts/e2e.sh makes) reports that
// the first hears the second on a port, and an unknown router on another:
//   - the review lists the pair as `new` and accepting it creates the link: the proposal then
//     `matches`, and the device's page lists the link;
//   - the unknown neighbour is dismissed and drops off the list.
// Names carry a per-run suffix: the database outlives a single test.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';

import {
  BASE_URL, TEST_TIMEOUT, createDevice, createSite, fileBrowser, openPage, signInAsAdmin,
  submitInMode, uniqueName, withPage,
} from './support.mjs';

const TOKEN = process.env.E2E_INGEST_TOKEN;

before(() => {
  assert.ok(TOKEN, 'E2E_INGEST_TOKEN (scripts/e2e.sh makes it)');
});
const browser = fileBrowser();

const PAGE = '/inventory/discovery';

/** Reports `events` as an agent does: one batch over the ingest API. */
async function ingest(events) {
  const res = await fetch(`${BASE_URL}/api/ingest/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      batch_id: randomUUID(),
      agent: { name: 'e2e-agent', version: '0.0.0' },
      sent_at: Date.now(),
      events,
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.events.accepted, events.length, JSON.stringify(body));
}

function neighbor(device, iface, identity, remote) {
  return {
    device, ts: Date.now(), kind: 'neighbor', interface: iface, identity,
    mac: '4C:5E:0C:00:00:01', platform: 'MikroTik', remote_interface: remote, protocols: ['lldp'],
  };
}

/** The review's row of the proposal naming both `a` and `b`. */
function proposal(page, a, b) {
  return page.locator('#discovery-table tbody tr', { hasText: a }).filter({ hasText: b });
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`link discovery (${mode})`, () => {
    test(`${mode}: a new neighbour is accepted as a link, an unknown one dismissed`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const code = uniqueName(js ? 'd' : 'h').slice(0, 16).toUpperCase();
        const site = await createSite(page, js, `E2E discovery ${code}`, code);
        const edge = uniqueName('e2eedge');
        const core = uniqueName('e2ecore');
        const transit = uniqueName('transit');
        const edgeId = await createDevice(page, js, site, { name: edge, role: 'edge', address: '10.66.0.1' });
        await createDevice(page, js, site, { name: core, role: 'core', address: '10.66.0.2' });
        await ingest([
          neighbor(edge, 'sfp28-1', core, 'sfp28-4'),
          neighbor(edge, 'sfp28-8', transit, 'xe-0/0/1'),
        ]);

        await openPage(page, js, PAGE, '#discovery-table');
        const found = proposal(page, edge, core);
        await found.waitFor();
        assert.equal(await found.getAttribute('data-state'), 'new');
        const key = await found.getAttribute('data-key');
        const row = `#discovery-table tr[data-key="${key}"]`;
        await submitInMode(page, js, `${row} form:has(button.primary)`);
        await page.locator(`${row}[data-state="matches"]`).waitFor();
        const shown = await page.locator(`${row} td:nth-child(4)`).textContent();
        assert.ok(shown.includes(`${core} sfp28-4`), `the proposal shows the link it matches: ${shown}`);

        await openPage(page, js, `/inventory/devices/${edgeId}`, '#links-table');
        const links = await page.locator('#links-table').textContent();
        assert.ok(links.includes(core) && links.includes('sfp28-1'), `the edge device lists its new link: ${links}`);

        await openPage(page, js, PAGE, '#discovery-table');
        const unknown = proposal(page, edge, transit);
        assert.equal(await unknown.getAttribute('data-state'), 'unknown');
        const unknownRow = `#discovery-table tr[data-key="${await unknown.getAttribute('data-key')}"]`;
        await submitInMode(page, js, `${unknownRow} form:has(button.link)`);
        await page.locator(unknownRow).waitFor({ state: 'detached' });
        await page.locator('p.hint', { hasText: 'dismissed proposals are hidden' }).waitFor();
      }));
  });
}
