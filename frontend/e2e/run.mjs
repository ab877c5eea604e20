// End-to-end journeys: Debian's Chromium (driven by playwright-core) against the real `agora`
// binary, a fresh PostgreSQL database, the demo shop, and a real SMTP server whose mailbox the
// journeys read links from. Every page visited is checked with axe-core (no serious or critical
// violations) and for Content-Security-Policy violations, and photographed at phone and desktop
// widths.
//
//   node e2e/run.mjs /path/to/agora
//
// The test command passes the release binary, which serves the apps it embeds (built from
// frontend/dist just before it); any other build is pointed at frontend/dist.
//
// TEST_DATABASE_URL names the server (a database is created per run and dropped after);
// AGORA_E2E_SCREENSHOTS where the screenshots go (default e2e/screenshots).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const here = import.meta.dirname;
const repo = resolve(here, '..', '..');
const binary = process.argv[2];
if (!binary || !existsSync(binary)) {
  console.error('usage: node e2e/run.mjs /path/to/agora');
  process.exit(2);
}
const screenshots = resolve(process.env.AGORA_E2E_SCREENSHOTS ?? join(here, 'screenshots'));
const axeSource = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const DEADLINE_MS = 20_000;

const children = [];
const cleanups = [];
let passed = 0;
let failed = 0;
let cleanedUp = false;

/** Stops what the run started and drops what it made, also when setting up failed. */
function cleanUp() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of children) {
    if (child.exitCode === null) {
      child.stopping = true;
      child.kill('SIGKILL');
    }
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      cleanup();
    } catch (error) {
      console.error(`cleanup: ${error}`);
    }
  }
}
process.on('exit', cleanUp);

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Polls `check` until it returns something truthy, or fails after the deadline. */
async function eventually(what, check, deadline = DEADLINE_MS) {
  const until = Date.now() + deadline;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(command, args, env, name) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.on('exit', (code) => {
    if (code && !child.stopping) console.error(`${name} exited with ${code}:\n${output.slice(-4000)}`);
  });
  children.push(child);
  return { child, output: () => output };
}

function psql(url, sql) {
  execFileSync('psql', ['-w', '-X', '-q', url, '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
}

// ---- the world: database, mailbox, binary ------------------------------------------------------
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `agora_e2e_${process.pid}_${Date.now()}`;
psql(serverUrl, `CREATE DATABASE ${database}`);
cleanups.push(() => psql(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`);

const dataDir = mkdtempSync(join(tmpdir(), 'agora-e2e-'));
const mailDir = mkdtempSync(join(tmpdir(), 'agora-e2e-mail-'));
cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
cleanups.push(() => rmSync(mailDir, { recursive: true, force: true }));

/** The first Python that imports aiosmtpd (Debian's is /usr/bin/python3, maybe not the one on PATH). */
function aiosmtpdPython() {
  for (const python of [process.env.AGORA_TEST_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    try {
      execFileSync(python, ['-c', 'import aiosmtpd'], { stdio: 'ignore' });
      return python;
    } catch {
      // Try the next one.
    }
  }
  throw new Error('no Python with aiosmtpd: install python3-aiosmtpd or set AGORA_TEST_PYTHON');
}

const smtpPort = await freePort();
const sink = start(
  aiosmtpdPython(),
  [join(repo, 'tests', 'integration', 'smtp_sink.py'), String(smtpPort), mailDir],
  process.env,
  'smtp sink',
);
await eventually('the SMTP sink', () => sink.output().includes('ready'));

const port = await freePort();
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  AGORA_DATA_DIR: dataDir,
  AGORA_BIND: `127.0.0.1:${port}`,
  AGORA_SECURE_COOKIES: 'false',
  AGORA_PUBLIC_URL: `http://{slug}.localhost:${port}`,
  AGORA_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  AGORA_MAIL_FROM: 'Demo shop <shop@demo.example>',
  // A release binary is tested as shipped, with the apps it embeds; a debug build (a helper's
  // copied target) would read the dist of the checkout it was compiled in, so it is pointed here.
  ...(binary.includes('/release/') ? {} : { AGORA_FRONTEND_DIR: resolve(here, '..', 'dist') }),
  AGORA_TOKEN_KEY: randomBytes(32).toString('hex'),
  AGORA_WORKERS: '2',
  // Webhook endpoints and the SSO issuer in the journeys are local stand-ins on 127.0.0.1.
  AGORA_OUTBOUND_ALLOW_PRIVATE: 'true',
  RUST_LOG: 'warn',
};
execFileSync(binary, ['demo'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const signIns = Object.fromEntries(
  readFileSync(join(dataDir, 'demo-sign-ins.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const agora = start(binary, ['serve'], env, 'agora');
const origin = `http://127.0.0.1:${port}`;
await eventually('agora to answer /healthz', async () => (await fetch(`${origin}/healthz`).catch(() => null))?.ok);
const shop = `http://demo.localhost:${port}`;
const platform = `http://localhost:${port}`;

/** The owner's API session, for the setup a journey needs from the API (not from its screens). */
async function ownerApi() {
  const res = await fetch(`${origin}/api/v1/admin/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo' },
    body: JSON.stringify({ email: 'owner@demo.example', password: signIns.owner, client: 'api' }),
  });
  if (!res.ok) throw new Error(`owner login: ${res.status} ${await res.text()}`);
  const { access_token } = await res.json();
  return async (method, path, body) => {
    const answer = await fetch(`${origin}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo', Authorization: `Bearer ${access_token}` },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
    return answer.status === 204 ? null : answer.json();
  };
}

/** The link with `marker` in the newest email to `to` in the real mailbox. */
async function linkFromMailbox(to, marker) {
  return eventually(`an email to ${to} with ${marker}`, () => {
    for (const file of readdirSync(mailDir).filter((f) => f.endsWith('.json'))) {
      const mail = JSON.parse(readFileSync(join(mailDir, file), 'utf8'));
      if (!mail.rcpt_tos.includes(to)) continue;
      const link = `${mail.text ?? ''} ${mail.html ?? ''}`
        .match(/https?:\/\/[^\s"'<>]+/g)
        ?.find((u) => u.includes(marker));
      if (link) return link.replaceAll('&amp;', '&');
    }
    return null;
  });
}

// ---- the browser -------------------------------------------------------------------------------
mkdirSync(screenshots, { recursive: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // Shops live at <slug>.localhost; Chromium resolves those to loopback itself, this makes sure.
    '--host-resolver-rules=MAP *.localhost 127.0.0.1',
  ],
});

const cspViolations = [];
async function newPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(DEADLINE_MS);
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      cspViolations.push(`${page.url()}: ${message.text()}`);
    }
  });
  return page;
}

/** axe-core on the page as it is now: no serious or critical violation allowed. */
async function accessible(page, name) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  if (violations.length) throw new Error(`accessibility of ${name}:\n  ${violations.join('\n  ')}`);
}

/** Checks a page with axe, then photographs it at phone and desktop widths. */
async function look(page, name) {
  await accessible(page, name);
  for (const [label, size] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(screenshots, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

// AGORA_E2E_ONLY=<part of a name>[|<another>] runs only the journeys whose name has one of them
// (while working on one).
const only = process.env.AGORA_E2E_ONLY?.split('|');

async function journey(name, run) {
  if (only && !only.some((part) => name.includes(part))) return;
  const started = Date.now();
  try {
    await run();
    passed++;
    console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.log(
      `FAIL ${name}\n  ${String(error?.stack ?? error)
        .split('\n')
        .join('\n  ')}`,
    );
  }
}

// ---- journeys ----------------------------------------------------------------------------------
const shopper = {
  name: 'Erika Muster',
  email: `erika.${Date.now()}@example.com`,
  password: 'a long and happy password 7',
};

await journey('a shopper registers using only the keyboard', async () => {
  const page = await newPage();
  await page.goto(`${shop}/register`);
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  await look(page, 'storefront-register');
  // From the top of the page, Tab alone reaches the form: skip link, header, then the fields.
  let presses = 0;
  while ((await page.evaluate(() => document.activeElement?.id)) !== 'name') {
    await page.keyboard.press('Tab');
    if (++presses > 20) throw new Error('the name field cannot be reached with Tab');
  }
  await page.keyboard.type(shopper.name);
  await page.keyboard.press('Tab');
  await page.keyboard.type(shopper.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(shopper.password);
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: shopper.email }).waitFor();
  await look(page, 'storefront-registered');
  await page.context().close();
});

await journey('bad input is shown next to its field', async () => {
  const page = await newPage();
  await page.goto(`${shop}/register`);
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  const email = page.getByLabel('Email');
  await eventually(
    'the email field to be marked invalid',
    async () => (await email.getAttribute('aria-invalid')) === 'true',
  );
  const message = await page.locator('#email-error').textContent();
  if (!message?.trim()) throw new Error('no message under the email field');
  await look(page, 'storefront-register-errors');
  await page.context().close();
});

await journey('the verification link from the mailbox confirms the address', async () => {
  const link = await linkFromMailbox(shopper.email, '/verify-email?token=');
  if (!link.startsWith(`${shop}/verify-email?token=`)) throw new Error(`the link points elsewhere: ${link}`);
  const page = await newPage();
  await page.goto(link);
  await page.getByRole('status').filter({ hasText: 'confirmed' }).waitFor();
  await look(page, 'storefront-email-verified');
  await page.context().close();
});

await journey('the shopper signs in, edits an address and switches to German', async () => {
  const page = await newPage();
  const languages = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/v1/store/')) languages.push(request.headers()['accept-language']);
  });
  await page.goto(`${shop}/account/addresses`);
  // Not signed in: the account page sends the shopper to sign in and back.
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await look(page, 'storefront-login');
  await page.getByLabel('Email').fill(shopper.email);
  await page.getByLabel('Password').fill(shopper.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Addresses' }).waitFor();
  const fill = async (values) => {
    for (const [label, value] of values) await page.getByLabel(label, { exact: true }).fill(value);
  };
  await fill([
    ['Recipient', shopper.name],
    ['Street and number', 'Hauptstraße 1'],
    ['Postal code', '10115'],
    ['City', 'Berlin'],
    ['Country code (e.g. DE)', 'DE'],
  ]);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('address').filter({ hasText: 'Berlin' }).waitFor();
  await page.getByRole('button', { name: 'Edit: Hauptstraße 1' }).click();
  // The form takes the address's values on the next change detection: typing before then would
  // mix the old city into the new one.
  await page.waitForFunction(() => document.getElementById('address-city')?.value === 'Berlin');
  await page.getByLabel('City', { exact: true }).fill('Potsdam');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('address').filter({ hasText: 'Potsdam' }).waitFor();
  const shown = await page.locator('address').innerText();
  if (shown.includes('Berlin')) throw new Error(`the edit kept the old city: ${shown}`);
  if ((await page.locator('address').count()) !== 1) throw new Error('editing added a second address');
  await look(page, 'storefront-addresses');
  for (const [path, heading, shot] of [
    ['/account', 'Profile', 'storefront-profile'],
    ['/account/sessions', 'Signed-in browsers', 'storefront-sessions'],
    ['/account/privacy', 'Download your data', 'storefront-privacy'],
  ]) {
    await page.getByRole('link', { name: heading === 'Download your data' ? 'Your data' : heading }).click();
    await page.getByRole('heading', { name: heading }).waitFor();
    await look(page, shot);
    void path;
  }
  await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
  await page.getByRole('heading', { name: 'Ihr Konto' }).waitFor();
  await page.getByRole('link', { name: 'Adressen' }).click();
  await page.getByRole('heading', { name: 'Adressen' }).waitFor();
  if (languages.at(-1) !== 'de') throw new Error(`the API was asked in ${languages.at(-1)}, not de`);
  await look(page, 'storefront-addresses-de');
  await page.context().close();
});

await journey('staff see only the sections their permissions allow', async () => {
  const api = await ownerApi();
  await api('POST', '/api/v1/admin/roles', { key: 'key_keeper', name: 'Key keeper', permissions: ['api_keys.manage'] });
  const member = `keys.${Date.now()}@demo.example`;
  await api('POST', '/api/v1/admin/staff', { email: member, name: 'Kim Keys', roles: ['key_keeper'] });

  const owner = await newPage();
  await owner.goto(`${shop}/admin/staff`);
  await owner.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
  await look(owner, 'admin-sign-in');
  await owner.getByLabel('Email').fill('owner@demo.example');
  await owner.getByLabel('Password').fill(signIns.owner);
  await owner.getByRole('button', { name: 'Sign in' }).click();
  await owner.getByRole('heading', { name: 'Staff' }).waitFor();
  const ownerNav = await owner.getByRole('navigation', { name: 'Admin' }).getByRole('link').allTextContents();
  for (const section of ['Staff', 'Roles', 'API keys', 'Security policy']) {
    if (!ownerNav.map((s) => s.trim()).includes(section))
      throw new Error(`the owner does not see ${section}: ${ownerNav}`);
  }
  // Members' roles by the names staff gave them, as the invite form lists them.
  await owner
    .getByRole('row', { name: /Kim Keys/ })
    .getByText('Key keeper')
    .waitFor();
  await look(owner, 'admin-staff');
  for (const [link, heading, shot] of [
    ['Roles', 'Roles', 'admin-roles'],
    ['Security policy', 'Security policy', 'admin-security'],
    ['Your account', 'Your account', 'admin-my-account'],
  ]) {
    await owner.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: link }).click();
    await owner.getByRole('heading', { name: heading, exact: true }).waitFor();
    await look(owner, shot);
  }
  await owner.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await owner.getByTestId('totp-secret').waitFor();
  await look(owner, 'admin-mfa-enrolment');
  await owner.context().close();

  const invitation = await linkFromMailbox(member, '/admin/accept-invitation?token=');
  const page = await newPage();
  await page.goto(invitation);
  await page.getByRole('heading', { name: 'Welcome: choose your password' }).waitFor();
  await look(page, 'admin-accept-invitation');
  await page.getByLabel('New password').fill('kim keeps the keys safe 42');
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill(member);
  await page.getByLabel('Password').fill('kim keeps the keys safe 42');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const nav = (await page.getByRole('navigation', { name: 'Admin' }).getByRole('link').allTextContents()).map((s) =>
    s.trim(),
  );
  if (JSON.stringify(nav) !== JSON.stringify(['Overview', 'API keys', 'Your account'])) {
    throw new Error(`a key keeper's navigation shows ${JSON.stringify(nav)}`);
  }
  // A deep link to a section they may not use leads back to the overview.
  await page.goto(`${shop}/admin/staff`);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Warehouse sync');
  await page.getByLabel('api_keys.manage').check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = await page.getByTestId('new-api-key').textContent();
  if (!key?.trim()) throw new Error('the new key is not shown');
  await look(page, 'admin-api-key-created');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByTestId('new-api-key').waitFor({ state: 'detached' });
  if ((await page.getByText(key.trim()).count()) !== 0) throw new Error('the key is still on the page');
  await page.context().close();
});

await journey('an operator signs in to the platform console', async () => {
  const page = await newPage();
  await page.goto(`${platform}/`);
  await page.getByRole('heading', { name: 'Platform console' }).waitFor();
  await look(page, 'platform-sign-in');
  await page.getByLabel('Email').fill('operator@demo.example');
  await page.getByLabel('Password').fill(signIns.operator);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Shops' }).waitFor();
  await page.getByRole('cell', { name: 'demo', exact: true }).waitFor();
  await look(page, 'platform-shops');
  await page.context().close();
});

await (
  await import('./journeys/admin-operations.mjs')
).default({ journey, newPage, look, eventually, shop, signIns, shopper });
await (
  await import('./journeys/admin-catalog.mjs')
).default({ journey, newPage, look, eventually, linkFromMailbox, origin, shop, signIns });
await (await import('./journeys/storefront-catalog.mjs')).run({ journey, newPage, look, ownerApi, shop, eventually });
await (await import('./journeys/storefront-keyboard.mjs')).default({ journey, newPage, look, shop, eventually });
await (
  await import('./journeys/admin-catalog-bulk.mjs')
).default({ journey, newPage, look, eventually, origin, shop, signIns });
await (await import('./journeys/shop-branding.mjs')).default({ journey, newPage, look, eventually, shop, signIns });

await (
  await import('./journeys/platform-console.mjs')
).default({ journey, newPage, look, eventually, ownerApi, origin, platform, signIns });

await (
  await import('./journeys/storefront-sso.mjs')
).default({ journey, newPage, look, ownerApi, linkFromMailbox, shop, signIns, repo });
await (
  await import('./journeys/admin-sso.mjs')
).default({ journey, newPage, look, ownerApi, linkFromMailbox, origin, shop, signIns, repo });

await (await import('./journeys/inventory.mjs')).default({ journey, newPage, look, eventually, origin, shop, signIns });
await (await import('./journeys/pricing-shipping.mjs')).default({ journey, newPage, look, origin, shop, signIns });
await (await import('./journeys/pricing-taxes.mjs')).default({ journey, newPage, look, origin, shop, signIns });
await (await import('./journeys/pricing-promotions.mjs')).default({ journey, newPage, look, origin, shop, signIns });
// After the taxes and promotions journeys: it reuses the Germany zone and SUMMER10 they made.
await (
  await import('./journeys/cart.mjs')
).default({ journey, newPage, look, eventually, ownerApi, origin, shop, signIns });

await journey('no page broke its Content-Security-Policy', async () => {
  if (cspViolations.length) throw new Error(cspViolations.join('\n'));
});

// ---- teardown ----------------------------------------------------------------------------------
await browser.close();
for (const child of children.reverse()) {
  child.stopping = true;
  child.kill('SIGTERM');
}
await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
cleanUp();
void agora;
console.log(`screenshots in ${screenshots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
