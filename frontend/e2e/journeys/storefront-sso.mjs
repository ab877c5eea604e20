// Single sign-on on the storefront: the shop's owner sets up a real OpenID Connect provider
// (panva/oidc-provider from tests/oidc-provider, the one the Rust tests use, on 127.0.0.1) for
// customers; the sign-in page then offers "Sign in with …", and a shopper goes through the
// provider's login and consent pages and lands in their account, signed in, and can change it.
//
// Called by run.mjs with { journey, newPage, look, ownerApi, shop, signIns, repo }.
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

export default async function storefrontSso({ journey, newPage, look, ownerApi, shop, signIns, repo }) {
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
}
