// Single sign-on on the storefront: the shop's owner sets up a real OpenID Connect provider
// (panva/oidc-provider from tests/oidc-provider, the one the Rust tests use, on 127.0.0.1) for
// customers; the sign-in page then offers "Sign in with …", and a shopper goes through the
// provider's login and consent pages and lands in their account, signed in, and can change it.
// A shopper who already has a verified account with the provider's email is not signed in by
// the provider alone: they confirm the link once, after signing in with their password, and the
// provider alone signs them in from then on.
//
// Called by run.mjs with { journey, newPage, look, ownerApi, linkFromMailbox, shop, signIns, repo }.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CLIENT_ID = 'agora-demo-shop';
const CLIENT_SECRET = 'provider-issued-secret-for-the-journey';

/** The provider, redirecting to the shop's callback; resolves once it prints its port. */
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

export default async function storefrontSso({
  journey,
  newPage,
  look,
  ownerApi,
  linkFromMailbox,
  shop,
  signIns,
  repo,
}) {
  await journey('a shopper signs in with the shop’s single sign-on provider', async () => {
    const email = `sven.${Date.now()}@sso.example`;
    const provider = await startProvider(repo, `${shop}/api/v1/store/auth/oidc/callback`, {
      sven: { email, email_verified: true, name: 'Sven Single' },
    });
    try {
      const api = await ownerApi();
      await api('PUT', '/api/v1/admin/oidc', {
        issuer_url: provider.issuer,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        account_kind: 'customer',
        return_path: '/account',
        current_password: signIns.owner,
      });

      const page = await newPage();
      await page.goto(`${shop}/login`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const button = page.getByRole('link', { name: 'Sign in with 127.0.0.1' });
      await button.waitFor();
      await look(page, 'storefront-login-sso');
      await button.click();

      // The provider's own pages: its login form, then its consent form.
      await page.waitForURL(`${provider.issuer}/**`);
      await page.locator('input[name=login]').fill('sven');
      await page.locator('input[name=password]').fill('any password: the test provider checks none');
      await page.locator('button[type=submit]').click();
      await page.getByRole('button', { name: 'Continue' }).click();

      // Back in the shop, on the configured return path, signed in as the provider's person.
      await page.waitForURL(`${shop}/account`);
      await page.getByRole('heading', { name: 'Profile' }).waitFor();
      await page.getByText(email).first().waitFor();
      // Signed in by the redirect alone, the page still changes things (it fetched the
      // session's CSRF token).
      await page.getByLabel('Name', { exact: true }).fill('Sven S. Single');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await look(page, 'storefront-account-after-sso');
      await page.context().close();
    } finally {
      provider.stop();
    }
  });

  await journey('an existing customer links the shop’s sign-in provider to their account', async () => {
    const shopper = {
      name: 'Vera Vorhanden',
      email: `vera.${Date.now()}@sso.example`,
      password: 'vera keeps her password 12',
    };
    // A customer of the shop with a confirmed address, as any shopper becomes one.
    const page = await newPage();
    await page.goto(`${shop}/register`);
    await page.getByLabel('Name').fill(shopper.name);
    await page.getByLabel('Email').fill(shopper.email);
    await page.getByLabel('Password').fill(shopper.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('status').filter({ hasText: shopper.email }).waitFor();
    await page.goto(await linkFromMailbox(shopper.email, '/verify-email?token='));
    await page.getByRole('status').filter({ hasText: 'confirmed' }).waitFor();
    await page.context().close();

    // The provider vouches for the same, verified, address.
    const provider = await startProvider(repo, `${shop}/api/v1/store/auth/oidc/callback`, {
      vera: { email: shopper.email, email_verified: true, name: 'Vera at the provider' },
    });
    try {
      const api = await ownerApi();
      await api('PUT', '/api/v1/admin/oidc', {
        issuer_url: provider.issuer,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        account_kind: 'customer',
        return_path: '/account',
        current_password: signIns.owner,
      });

      const first = await newPage();
      await first.goto(`${shop}/login`);
      await first.getByRole('link', { name: 'Sign in with 127.0.0.1' }).click();
      await signInAtProvider(first, provider, shop, 'vera');
      // Not signed in by the provider: the sign-in page explains and asks for the password. The
      // link token is gone from the address once read.
      await first.getByTestId('link-intro').waitFor();
      if (first.url().includes('oidc_link')) throw new Error(`the token stayed in the address: ${first.url()}`);
      const intro = await first.getByTestId('link-intro').innerText();
      if (!intro.includes('this shop already has an account with it')) throw new Error(`the page says: ${intro}`);
      if ((await first.getByRole('link', { name: 'Sign in with 127.0.0.1' }).count()) !== 0) {
        throw new Error('the provider is offered again while the link waits for the password');
      }
      await look(first, 'storefront-sso-link-sign-in');
      await first.getByLabel('Email').fill(shopper.email);
      await first.getByLabel('Password').fill(shopper.password);
      await first.getByRole('button', { name: 'Sign in' }).click();
      await first.getByRole('heading', { name: 'Link your 127.0.0.1 sign-in to this account?' }).waitFor();
      await first.getByText(`(${shopper.email})`).waitFor();
      await look(first, 'storefront-sso-link-confirm');
      await first.getByRole('button', { name: 'Link 127.0.0.1' }).click();
      await first.getByRole('status').filter({ hasText: 'Linked' }).waitFor();
      await look(first, 'storefront-sso-linked');
      await first.getByRole('button', { name: 'Continue' }).click();
      await first.getByRole('heading', { name: 'Profile' }).waitFor();
      await first.context().close();

      // Another browser, no session: the provider alone signs Vera in to her account.
      const next = await newPage();
      await next.goto(`${shop}/login`);
      await next.getByRole('link', { name: 'Sign in with 127.0.0.1' }).click();
      await signInAtProvider(next, provider, shop, 'vera');
      await next.waitForURL(`${shop}/account`);
      await next.getByRole('heading', { name: 'Profile' }).waitFor();
      await next.getByText(shopper.email).first().waitFor();
      // Her own account, as she named it, not a new one from the provider's claims.
      const name = await next.getByLabel('Name', { exact: true }).inputValue();
      if (name !== shopper.name) throw new Error(`signed in as an account named ${name}`);
      await next.context().close();
    } finally {
      provider.stop();
    }
  });
}
