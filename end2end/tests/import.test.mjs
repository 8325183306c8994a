// CSV import in headless Chromium, JavaScript on and off. The upload is a plain multipart form
// in both modes; applying goes through the hydrated client with JavaScript on.
//   - a sites file with one bad row: its page shows the row error (line and column) and offers
//     no "apply"; no site of the file exists afterwards;
//   - the same file without the bad row: applying it creates its sites.
// Codes carry a per-run suffix: the database outlives a single test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TEST_TIMEOUT, assertNotHydrated, fileBrowser, openPage, signInAsAdmin, submitInMode, uniqueName,
  waitForHydration, waitForMatch, withPage,
} from './support.mjs';

const browser = fileBrowser();

const IMPORT_PAGE = /^\/inventory\/import\/(\d+)$/;

async function uploadSites(page, js, csv) {
  await openPage(page, js, '/inventory/import', '#import-form');
  await page.locator('#import-kind').selectOption('sites');
  await page.locator('#import-file').setInputFiles({
    name: 'sites.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv, 'utf8'),
  });
  await Promise.all([
    page.waitForURL((url) => IMPORT_PAGE.test(url.pathname)),
    page.locator('#import-form button[type="submit"]').click(),
  ]);
  const [, id] = await waitForMatch(page, IMPORT_PAGE);
  await page.locator('#import-state').waitFor();
  // The upload was a plain post: the import page is a new document, which with JavaScript on
  // must hydrate before its apply form submits through the client.
  if (js) {
    await waitForHydration(page);
  } else {
    await assertNotHydrated(page);
  }
  return id;
}

async function siteCount(page, js, query) {
  await openPage(page, js, `/inventory/sites?q=${encodeURIComponent(query)}`, '#site-count');
  return (await page.locator('#site-count').innerText()).trim();
}

for (const js of [true, false]) {
  const mode = js ? 'JS on' : 'JS off';

  describe(`CSV import (${mode})`, () => {
    test(`${mode}: one bad row shows its error and imports nothing; the fixed file applies`, { timeout: TEST_TIMEOUT }, (t) =>
      withPage(browser(), t, { js }, async (page) => {
        await signInAsAdmin(page, { js });
        const tag = uniqueName(js ? 'i' : 'k').slice(-10).toUpperCase();
        const good = [`A${tag},Import ${tag} A,Europe/Vienna`, `B${tag},Import ${tag} B,UTC`];
        const header = 'code,name,timezone';

        const bad = [header, good[0], `bad code!,Import ${tag} bad,UTC`, good[1]].join('\n');
        await uploadSites(page, js, bad);
        assert.equal(await page.locator('#import-state').innerText(), 'previewed');
        const row = page.locator('#import-errors tbody tr');
        assert.equal(await row.count(), 1, 'exactly one row error');
        const cells = await row.first().locator('td').allInnerTexts();
        assert.equal(cells[0], '3', 'the bad row is line 3 of the file');
        assert.equal(cells[1], 'code');
        assert.match(cells[2], /letters, digits/);
        assert.equal(await page.locator('#apply-import-form').count(), 0, 'no apply with errors');
        assert.equal(await siteCount(page, js, `Import ${tag}`), '0 sites', 'nothing imported');

        await uploadSites(page, js, [header, ...good].join('\n'));
        assert.equal(await page.locator('#import-created').innerText(), '2');
        await page.locator('#apply-import-form').waitFor();
        await submitInMode(page, js, '#apply-import-form');
        await page.locator('#import-state', { hasText: 'applied' }).waitFor();
        assert.equal(await siteCount(page, js, `Import ${tag}`), '2 sites');
      }));
  });
}
