// Single sign-on in the admin: the shop's owner sets up a real OpenID Connect provider
// (panva/oidc-provider from tests/oidc-provider, the one the Rust tests use, on 127.0.0.1) for
// staff, with a role for members it creates. The admin's sign-in page then offers "Sign in with …".
// A newcomer goes through the provider's pages and lands in the admin signed in, and saves at
// once (the page fetched the session's CSRF token: the redirect brought none). An existing staff
// member with the same verified email is not signed in by the provider alone: they confirm the
// link after their password, and from then on the provider signs them in, with their
// authenticator's second step when they have one.
//
// Called by run.mjs with { journey, newPage, look, ownerApi, linkFromMailbox, origin, shop, signIns, repo }.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CLIENT_ID = 'agora-demo-admin';
const CLIENT_SECRET = 'provider-issued-secret-for-the-staff-journey';
const PROVIDER = '127.0.0.1';

/** The provider, redirecting to the admin's callback; resolves once it prints its port. */
function startProvider(repo, redirectUri, accounts) {
  const dir = join(repo, 'tests', 'oidc-provider');
  if (!existsSync(join(dir, 'node_modules', 'oidc-provider'))) {
    throw new Error(
      'oidc-provider is not installed: run scripts/test.sh, or npm install --no-audit --no-fund --prefix tests/oidc-provider',
    );
  }
  const child = spawn(process.execPath, ['server.mjs', CLIENT_ID, CLIENT_SECRET, redirectUri], {
    cwd: dir,
    env: { ...process.env, OIDC_ACCOUNTS: JSON.stringify(accounts) },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`the OIDC provider exited with ${code}: ${output}`)));
    child.stdout.on('data', (data) => {
      output += data;
      const port = output.match(/listening (\d+)/)?.[1];
      if (port) resolve({ issuer: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') });
    });
  });
}

/** The provider's own pages: its login form, then its consent form (asked again per session). */
async function signInAtProvider(page, provider, shop, login) {
  await page.waitForURL(`${provider.issuer}/**`);
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password: the test provider checks none');
  await page.locator('button[type=submit]').click();
  const consent = page.getByRole('button', { name: 'Continue' });
  await Promise.race([consent.waitFor(), page.waitForURL(`${shop}/**`)]);
  if (page.url().startsWith(provider.issuer)) await consent.click();
  await page.waitForURL(`${shop}/**`);
}

/** From the admin's sign-in page, through the provider, back into the admin. */
async function signInWithProvider(newPage, provider, shop, login) {
  const page = await newPage();
  await page.goto(`${shop}/admin/sign-in`);
  await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
  await signInAtProvider(page, provider, shop, login);
  return page;
}

/** Adds a category on the admin's categories page: an unsafe request, refused without the CSRF token. */
async function addCategory(page, name) {
  await page.getByRole('heading', { name: 'Categories', exact: true }).waitFor();
  await page.getByLabel('Name (English)').fill(name);
  await page.getByRole('button', { name: 'Add category' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: `Added ${name}` })
    .waitFor();
}

/** Signed in as the member named `name`: the admin's navigation names them. */
async function signedInAs(page, name) {
  await page.getByRole('navigation', { name: 'Admin' }).getByText(name).waitFor();
}

export default async function adminSso({
  journey,
  newPage,
  look,
  ownerApi,
  linkFromMailbox,
  origin,
  shop,
  signIns,
  repo,
}) {
  const run = Date.now();
  const newcomer = { login: 'nina', email: `nina.${run}@staff.example`, name: 'Nina Neu' };
  const member = {
    login: 'vera',
    email: `vera.${run}@demo.example`,
    name: 'Vera Vorhanden',
    password: 'vera keeps her own password 12',
  };
  let provider = null;

  await journey('admin-sso: the owner sets up a provider for staff, and the sign-in page offers it', async () => {
    provider = await startProvider(repo, `${shop}/api/v1/admin/auth/oidc/callback`, {
      [newcomer.login]: { email: newcomer.email, email_verified: true, name: newcomer.name },
      [member.login]: { email: member.email, email_verified: true, name: 'Vera at the provider' },
    });
    const api = await ownerApi();
    // Members it creates may run the catalog; they land on its categories page.
    await api('PUT', '/api/v1/admin/oidc', {
      issuer_url: provider.issuer,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      account_kind: 'staff',
      staff_role: 'catalog_manager',
      return_path: '/admin/categories',
      current_password: signIns.owner,
    });
    const page = await newPage();
    await page.goto(`${shop}/admin/sign-in`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    const button = page.getByRole('link', { name: `Sign in with ${PROVIDER}` });
    await button.waitFor();
    if ((await button.getAttribute('href')) !== '/api/v1/admin/auth/oidc/start') {
      throw new Error(`the button leads to ${await button.getAttribute('href')}`);
    }
    await look(page, 'admin-sign-in-sso');
    await page.context().close();
  });

  await journey('admin-sso: a newcomer signs in through the provider and saves at once', async () => {
    if (!provider) throw new Error('no provider: the set-up journey failed');
    const page = await signInWithProvider(newPage, provider, shop, newcomer.login);
    // Back in the admin on the configured return path, signed in as a new member with the
    // configured role, by the redirect alone.
    await page.waitForURL(`${shop}/admin/categories`);
    await signedInAs(page, newcomer.name);
    const nav = (await page.getByRole('navigation', { name: 'Admin' }).getByRole('link').allTextContents()).map((s) =>
      s.trim(),
    );
    if (!nav.includes('Categories') || nav.includes('Staff')) {
      throw new Error(`a catalog manager's navigation shows ${JSON.stringify(nav)}`);
    }
    // The first change after the redirect goes through: the app fetched the session's token.
    await addCategory(page, `Picked by Nina ${run}`);
    await look(page, 'admin-categories-after-sso');
    await page.context().close();
  });

  await journey('admin-sso: an existing member confirms the link after their password', async () => {
    if (!provider) throw new Error('no provider: the set-up journey failed');
    // A staff member of the shop who set their password from the invitation (which confirms
    // the address), as every invited member does.
    const api = await ownerApi();
    await api('POST', '/api/v1/admin/staff', { email: member.email, name: member.name, roles: ['catalog_manager'] });
    const invitation = new URL(await linkFromMailbox(member.email, '/admin/accept-invitation?token='));
    const accepted = await fetch(`${origin}/api/v1/admin/auth/password-reset/confirm`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo' },
      body: JSON.stringify({ token: invitation.searchParams.get('token'), password: member.password }),
    });
    if (!accepted.ok) throw new Error(`accepting the invitation: ${accepted.status} ${await accepted.text()}`);

    const first = await signInWithProvider(newPage, provider, shop, member.login);
    // Not signed in by the provider: the sign-in page explains and asks for the password. The
    // link token is gone from the address once read.
    await first.getByTestId('link-intro').waitFor();
    if (first.url().includes('oidc_link')) throw new Error(`the token stayed in the address: ${first.url()}`);
    if (!first.url().startsWith(`${shop}/admin/sign-in`)) throw new Error(`the link landed on ${first.url()}`);
    if ((await first.getByRole('link', { name: `Sign in with ${PROVIDER}` }).count()) !== 0) {
      throw new Error('the provider is offered again while the link waits for the password');
    }
    await look(first, 'admin-sso-link-sign-in');
    await first.getByLabel('Email').fill(member.email);
    await first.getByLabel('Password').fill(member.password);
    await first.getByRole('button', { name: 'Sign in' }).click();
    await first.getByRole('heading', { name: `Link your ${PROVIDER} sign-in to this account?` }).waitFor();
    await first.getByText(`(${member.email})`).waitFor();
    await look(first, 'admin-sso-link-confirm');
    await first.getByRole('button', { name: `Link ${PROVIDER}` }).click();
    await first.getByRole('status').filter({ hasText: 'Linked' }).waitFor();
    await first.getByRole('button', { name: 'Continue' }).click();
    // On to the page the provider returned her to, signed in with her password.
    await first.waitForURL(`${shop}/admin/categories`);
    await addCategory(first, `Picked by Vera ${run}`);
    await first.context().close();

    // Another browser: the provider alone signs her in to her own account now.
    const next = await signInWithProvider(newPage, provider, shop, member.login);
    await next.waitForURL(`${shop}/admin/categories`);
    await signedInAs(next, member.name);
    await addCategory(next, `Picked again by Vera ${run}`);
    await next.context().close();
  });

  await journey('admin-sso: a member with an authenticator gives the second step after the provider', async () => {
    if (!provider) throw new Error('no provider: the set-up journey failed');
    // Vera (linked above) switches on two-step verification through the API.
    const login = await fetch(`${origin}/api/v1/admin/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo' },
      body: JSON.stringify({ email: member.email, password: member.password, client: 'api' }),
    });
    if (!login.ok) throw new Error(`member login: ${login.status} ${await login.text()}`);
    const { access_token } = await login.json();
    const asVera = async (path, body) => {
      const res = await fetch(`${origin}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo', Authorization: `Bearer ${access_token}` },
        body: JSON.stringify(body ?? {}),
      });
      if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const { secret } = await asVera('/api/v1/admin/me/mfa/totp');
    const { recovery_codes } = await asVera('/api/v1/admin/me/mfa/totp/activate', { code: totp(secret) });

    const page = await signInWithProvider(newPage, provider, shop, member.login);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    if (page.url().includes('mfa_challenge')) throw new Error(`the challenge stayed in the address: ${page.url()}`);
    await page.getByText(`${PROVIDER} confirmed who you are`).waitFor();
    await look(page, 'admin-sso-second-step');
    // A recovery code: the app's current code was just spent on switching it on.
    await page.getByLabel('Code from your authenticator app, or a recovery code').fill(recovery_codes[0]);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${shop}/admin/categories`);
    await signedInAs(page, member.name);
    await addCategory(page, `Picked after two steps ${run}`);
    await page.context().close();
  });

  // Not a journey of its own: the provider goes whatever passed.
  provider?.stop();
}

/** The RFC 6238 code an authenticator app shows now for a base32 secret. */
function totp(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
