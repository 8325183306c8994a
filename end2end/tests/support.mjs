// Shared helpers for the browser tests (not a test file itself): configuration from the
// environment, launching Debian's headless Chromium through playwright-core, fresh contexts
// with JavaScript on or off, signing in, waiting for hydration, and a screenshot of the page
// when a test fails (end2end/test-results/, git-ignored).

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const thisDir = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.resolve(thisDir, '..', 'test-results');

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (run the browser tests through scripts/e2e.sh, or set ` +
      'BASE_URL, E2E_ADMIN_USER and E2E_ADMIN_PASSWORD yourself)');
  }
  return value;
}

export const BASE_URL = required('BASE_URL').replace(/\/+$/, '');
export const ADMIN_USER = required('E2E_ADMIN_USER');
export const ADMIN_PASSWORD = required('E2E_ADMIN_PASSWORD');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Per test: a hung page fails the test instead of the whole run. */
export const TEST_TIMEOUT = 120_000;
/** Actions and element waits (the machine may be busy compiling). */
const ACTION_TIMEOUT = 20_000;
/** Page loads, and hydration (downloading and instantiating the wasm bundle). */
const NAVIGATION_TIMEOUT = 45_000;

// No internet here: without these Chromium keeps trying to reach Google's services.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * One headless Chromium for the calling test file: launched before its tests and closed after
 * them. Returns a function giving the browser, to call inside a test.
 */
export function fileBrowser() {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

let counter = 0;
/** A username no earlier run has used: lowercase letters and digits, as the app requires. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${process.pid.toString(36)}${counter}`;
}

/** A password the app accepts for new users (at least 12 characters). */
export function newPassword() {
  return `E2e-pw-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Runs `fn(page, ctx)` in a fresh browser context (no cookies) with JavaScript on or off.
 * With JavaScript on, uncaught page errors and Rust panics in the console fail the test.
 * On failure a screenshot and the page's HTML are saved under end2end/test-results/.
 */
export async function withPage(browser, t, { js }, fn) {
  const context = await browser.newContext({ baseURL: BASE_URL, javaScriptEnabled: js });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  // Each problem names the page it happened on: a hydration panic is a page's bug.
  page.on('pageerror', (err) => problems.push(`page error at ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /panicked|RuntimeError|unreachable/.test(msg.text())) {
      problems.push(`console error at ${page.url()}: ${msg.text()}`);
    }
  });
  try {
    await fn(page, context);
    assert.deepEqual(problems, [], 'the page reported errors (see above)');
  } catch (err) {
    await saveFailure(page, t.name).catch(() => {});
    if (problems.length) {
      err.message += `\nPage errors:\n  ${problems.join('\n  ')}`;
    }
    throw err;
  } finally {
    await context.close();
  }
}

async function saveFailure(page, testName) {
  await mkdir(resultsDir, { recursive: true });
  const base = path.join(resultsDir, testName.replace(/[^a-zA-Z0-9]+/g, '-').slice(0, 80));
  await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5_000 });
  await writeFile(`${base}.html`, `<!-- ${page.url()} -->\n${await page.content()}`);
  process.stderr.write(`[e2e] failure artefacts: ${base}.png, ${base}.html (at ${page.url()})\n`);
}

/** The path (and query) of the page's current URL. */
export function here(page) {
  const url = new URL(page.url());
  return { pathname: url.pathname, search: url.search, params: url.searchParams };
}

/** Waits until the current URL has this pathname (full loads and client-side navigation). */
export async function waitForPath(page, pathname) {
  await page.waitForURL((url) => url.pathname === pathname);
}

/** Waits for the client-side Effect that marks `<body data-hydrated="true">`. */
export async function waitForHydration(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({
    state: 'attached',
    timeout: NAVIGATION_TIMEOUT,
  });
}

/** Asserts that no script ran on the page (JavaScript-off contexts). */
export async function assertNotHydrated(page) {
  assert.equal(await page.locator('body[data-hydrated]').count(), 0,
    'body has data-hydrated although JavaScript is off');
}

/** The absolute URL a form posts to (its `action`), resolved against the page. */
export async function formAction(page, formSelector) {
  const action = await page.locator(formSelector).getAttribute('action');
  assert.ok(action, `${formSelector} has no action attribute (it must work without JavaScript)`);
  return new URL(action, page.url()).href;
}

/**
 * Clicks `submit` and returns the POST request sent to `actionUrl` together with its response.
 * With JavaScript on the hydrated form sends it with fetch; with it off the browser navigates.
 */
export async function submitForm(page, submit, actionUrl) {
  const matches = (r) => r.method() === 'POST' && r.url().split('?')[0] === actionUrl.split('?')[0];
  const [response] = await Promise.all([
    page.waitForResponse((res) => matches(res.request())),
    submit.click(),
  ]);
  return { request: response.request(), response };
}

/** Asserts that a plain form POST was answered with a redirect to `pathname`. */
export function assertRedirect(response, pathname, what) {
  const status = response.status();
  assert.ok(status >= 300 && status < 400, `${what}: expected a redirect, got HTTP ${status}`);
  const location = response.headers().location;
  assert.ok(location, `${what}: redirect without a Location header`);
  assert.equal(new URL(location, response.url()).pathname, pathname, `${what}: redirect target`);
}

/**
 * Fills in and submits the sign-in form on the current /login page. With JavaScript on the
 * page must already be hydrated so that the form goes through the client.
 */
export async function fillLogin(page, username, password) {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  const action = await formAction(page, '#login-form');
  return submitForm(page, page.locator('#login-form button[type="submit"]'), action);
}

/** Opens /login (optionally with ?next=), signs in as the admin and waits to leave /login. */
export async function signInAsAdmin(page, { js, expectPath = '/' } = {}) {
  await page.goto('/login');
  if (js) await waitForHydration(page);
  await fillLogin(page, ADMIN_USER, ADMIN_PASSWORD);
  await waitForPath(page, expectPath);
}

/** Opens `path`, hydrated when JavaScript is on (asserted not hydrated when off), and waits for `selector`. */
export async function openPage(page, js, path, selector) {
  await page.goto(path);
  await page.locator(selector).waitFor();
  if (js) {
    await waitForHydration(page);
  } else {
    await assertNotHydrated(page);
  }
}

/**
 * Submits `formSelector` with its submit button and checks how it was sent for the mode: through
 * the client with JavaScript on, as a plain post answered by a redirect with it off.
 */
export async function submitInMode(page, js, formSelector) {
  const action = await formAction(page, formSelector);
  const sent = await submitForm(page, page.locator(`${formSelector} button[type="submit"]`), action);
  if (js) {
    assert.ok(['fetch', 'xhr'].includes(sent.request.resourceType()),
      `the hydrated form should submit through the client, not as a ${sent.request.resourceType()}`);
  } else {
    assert.equal(sent.request.resourceType(), 'document', 'expected a plain form post');
    const status = sent.response.status();
    assert.ok(status >= 300 && status < 400, `expected a redirect, got HTTP ${status}`);
  }
  return sent;
}

/** Waits until the URL's path matches `re`; returns the match. */
export async function waitForMatch(page, re) {
  await page.waitForURL((url) => re.test(url.pathname));
  return re.exec(here(page).pathname);
}

/** Creates a site through "Add a site" (in the mode's way); returns its id. */
export async function createSite(page, js, name, code) {
  await openPage(page, js, '/inventory/sites', '#create-site-form');
  await page.locator('#new-site-name').fill(name);
  await page.locator('#new-site-code').fill(code);
  await page.locator('#new-site-timezone').fill('Europe/Vienna');
  await submitInMode(page, js, '#create-site-form');
  const [, id] = await waitForMatch(page, /^\/inventory\/sites\/(\d+)$/);
  await page.locator('#site-code', { hasText: code.toUpperCase() }).waitFor();
  return id;
}

/** Creates a device at `site` through "Add a device" (in the mode's way); returns its id. */
export async function createDevice(page, js, site, { name, role, address }) {
  await openPage(page, js, `/inventory/devices?site=${site}`, '#create-device-form');
  assert.equal(await page.locator('#new-device-site').inputValue(), site, 'the filtered site is preselected');
  await page.locator('#new-device-name').fill(name);
  await page.locator('#new-device-role').selectOption(role);
  await page.locator('#new-device-mgmt-address').fill(address);
  await submitInMode(page, js, '#create-device-form');
  const [, id] = await waitForMatch(page, /^\/inventory\/devices\/(\d+)$/);
  await page.locator('h1', { hasText: name }).waitFor();
  return id;
}
