// Sites, devices and links in headless Chromium, each test in a fresh browser context, with
// JavaScript on (hydrated: forms go through the client) and off (plain form posts and
// redirects):
//   - "Add a site", then two devices at it, then an uplink between them from the second
//     device's page; the site's server-drawn topology shows both devices and the link;
//   - a device with a bad management address is refused on that field and nothing is added;
//   - a link edited in place from its row's "Edit": a bad capacity is refused on its field,
//     then a good one is saved and shown, and the edit form closes;
//   - a probe added on a device's page: a bad target is refused on its field, a good one is
//     listed in the agent's spelling with "no result yet", then removed.
// Names carry a per-run suffix: the database outlives a single test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TEST_TIMEOUT, createDevice, createSite, fileBrowser, openPage, signInAsAdmin, submitInMode,
  uniqueName, waitForHydration, waitForMatch, withPage,
} from './support.mjs';

const browser = fileBrowser();

const DEVICE_PAGE = /^\/inventory\/devices\/(\d+)$/;

async function addUplink(page, js, deviceId, upstreamId, capacity) {
  await openPage(page, js, `/inventory/devices/${deviceId}`, '#add-link-form');
  await page.locator('#link-a-device').selectOption(upstreamId);
  await page.locator('#link-a-interface').fill('sfp-sfpplus1');
  await page.locator('#link-b-interface').fill('ether1');
  await page.locator('#link-kind').selectOption('physical');
  await page.locator('#link-capacity').fill(capacity);
  await submitInMode(page, js, '#add-link-form');
  await waitForMatch(page, DEVICE_PAGE);
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`sites, devices and links (${mode})`, () => {
    test(`${mode}: a site, two devices and an uplink, drawn on the site's topology`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const code = uniqueName(js ? 's' : 'n').slice(0, 16);
        const site = await createSite(page, js, `E2E POP ${code}`, code);
        const core = { name: uniqueName('core'), role: 'core', address: '10.255.0.1' };
        const access = { name: uniqueName('acc'), role: 'access', address: '10.255.0.2' };
        const coreId = await createDevice(page, js, site, core);
        const accessId = await createDevice(page, js, site, access);

        // On the access router's page: its uplink to the core.
        await openPage(page, js, `/inventory/devices/${accessId}`, '#add-link-form');
        await page.locator('#link-a-device').selectOption(coreId);
        await page.locator('#link-a-interface').fill('sfp-sfpplus1');
        await page.locator('#link-b-interface').fill('ether1');
        await page.locator('#link-kind').selectOption('physical');
        await page.locator('#link-capacity').fill('10000');
        await submitInMode(page, js, '#add-link-form');
        await waitForMatch(page, DEVICE_PAGE);
        const linkRow = page.locator('#links-table tbody tr', { hasText: core.name });
        await linkRow.waitFor();
        const cells = (await linkRow.locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells.slice(0, 4), [
          `${core.name} sfp-sfpplus1 → ${access.name} ether1`, 'physical', '10000 Mbit/s',
          'uplink (this device depends on it)',
        ]);
        await page.locator('#interfaces-table tr[data-interface="ether1"]').waitFor();

        await openPage(page, js, `/inventory/sites/${site}`, '#site-topology svg');
        const svg = page.locator('#site-topology svg');
        for (const d of [core, access]) {
          assert.equal(await svg.locator(`a[data-device="${d.name}"]`).count(), 1, `${d.name} is drawn`);
        }
        assert.equal(await svg.locator('line.link').count(), 1, 'the uplink is drawn');
        assert.equal((await page.locator('#site-devices').textContent()).trim(), '2 devices');
      }));

    test(`${mode}: a link's capacity is edited in place`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const code = uniqueName(js ? 'e' : 'f').slice(0, 16);
        const site = await createSite(page, js, `E2E edit ${code}`, code);
        const core = { name: uniqueName('core'), role: 'core', address: '10.254.0.1' };
        const access = { name: uniqueName('acc'), role: 'access', address: '10.254.0.2' };
        const coreId = await createDevice(page, js, site, core);
        const accessId = await createDevice(page, js, site, access);
        await addUplink(page, js, accessId, coreId, '1000');
        const linkRow = page.locator('#links-table tbody tr', { hasText: core.name });
        await linkRow.locator('td', { hasText: '1000 Mbit/s' }).waitFor();

        // "Edit" is a plain link: the page again, with the link's form filled in.
        await linkRow.locator('a.edit').click();
        await page.waitForURL((url) => url.searchParams.has('edit_link'));
        const form = page.locator('#edit-link-form');
        await form.waitFor();
        if (js) await waitForHydration(page);
        assert.equal(await page.locator('#edit-link-a-device').inputValue(), coreId);
        assert.equal(await page.locator('#edit-link-b-device').inputValue(), accessId);
        assert.equal(await page.locator('#edit-link-capacity').inputValue(), '1000');
        assert.equal(await page.locator('#edit-link-upstream').isChecked(), true);

        await page.locator('#edit-link-capacity').fill('fast');
        await submitInMode(page, js, '#edit-link-form');
        const error = page.locator('#edit-link-form p.notice.error');
        await error.waitFor();
        assert.match((await error.textContent()).trim(), /^capacity_mbps: must be a whole number of Mbit\/s/);
        assert.equal(await page.locator('#edit-link-capacity').getAttribute('aria-invalid'), 'true');

        await page.locator('#edit-link-capacity').fill('2500');
        await submitInMode(page, js, '#edit-link-form');
        await page.waitForURL((url) => DEVICE_PAGE.test(url.pathname) && !url.searchParams.has('edit_link'));
        await linkRow.locator('td', { hasText: '2500 Mbit/s' }).waitFor();
        assert.equal(await page.locator('#edit-link-form').count(), 0, 'the edit form is closed');
        const cells = (await linkRow.locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells.slice(0, 4), [
          `${core.name} sfp-sfpplus1 → ${access.name} ether1`, 'physical', '2500 Mbit/s',
          'uplink (this device depends on it)',
        ]);
      }));

    test(`${mode}: a probe is added to a device and removed`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const code = uniqueName(js ? 'p' : 'q').slice(0, 16);
        const site = await createSite(page, js, `E2E probes ${code}`, code);
        const device = { name: uniqueName('bng'), role: 'edge', address: '10.253.0.1' };
        const id = await createDevice(page, js, site, device);
        await openPage(page, js, `/inventory/devices/${id}`, '#add-probe-form');

        await page.locator('#probe-kind').selectOption('tcp');
        await page.locator('#probe-target').fill('10.253.0.9');
        await submitInMode(page, js, '#add-probe-form');
        const error = page.locator('#add-probe-form p.notice.error');
        await error.waitFor();
        assert.match((await error.textContent()).trim(), /^target: tcp target "10\.253\.0\.9" must be host:port/);
        assert.equal(await page.locator('#probe-target').getAttribute('aria-invalid'), 'true');

        await page.locator('#probe-kind').selectOption('dns');
        await page.locator('#probe-target').fill('Portal.Example@10.253.0.53');
        await page.locator('#probe-interval').fill('30');
        await submitInMode(page, js, '#add-probe-form');
        await waitForMatch(page, DEVICE_PAGE);
        const row = page.locator('#probes-table tr[data-probe="dns:portal.example@10.253.0.53"]');
        await row.waitFor();
        const cells = (await row.locator('td').allTextContents()).map((s) => s.trim());
        assert.deepEqual(cells.slice(0, 5), ['dns', 'portal.example@10.253.0.53', '30 s', '2000 ms', 'no result yet']);

        await submitInMode(page, js, '#probes-table tr[data-probe="dns:portal.example@10.253.0.53"] form');
        await waitForMatch(page, DEVICE_PAGE);
        await row.waitFor({ state: 'detached' });
        assert.equal(await page.locator('#probes-table tbody tr').count(), 0);
      }));

    test(`${mode}: a bad management address is refused on its field`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const code = uniqueName(js ? 'b' : 'c').slice(0, 16);
        const site = await createSite(page, js, `E2E bad ${code}`, code);
        await openPage(page, js, `/inventory/devices?site=${site}`, '#create-device-form');
        await page.locator('#new-device-name').fill(uniqueName('bad'));
        await page.locator('#new-device-mgmt-address').fill('10.0.0.300');
        await submitInMode(page, js, '#create-device-form');
        const error = page.locator('#create-device-form p.notice.error');
        await error.waitFor();
        assert.match((await error.textContent()).trim(), /^mgmt_address: must be an IPv4 or IPv6 address/);
        assert.equal(await page.locator('#new-device-mgmt-address').getAttribute('aria-invalid'), 'true');
        await openPage(page, js, `/inventory/sites/${site}`, '#site-devices');
        assert.equal((await page.locator('#site-devices').textContent()).trim(), '0 devices');
      }));
  });
}
