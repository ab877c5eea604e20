// The operators' console, as an operator uses it: signs in, opens a shop for its owner, finds
// the invitation email's job for the new shop, finds a webhook delivery failing against a
// receiver that is down (the demo shop's endpoint points at a closed port on 127.0.0.1) and
// retries it, delivers one of the new shop's events again, adds a second operator and disables
// them, and reads the console in German.
//
// Imported by run.mjs, which hands over its world: the browser helpers, the platform's and the
// shop's addresses, the owner's API session for setup and the demo's sign-ins.
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that nothing listens on: connections to it are refused at once. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Clicks Refresh until `locator` matches something (the queue moves on its own). */
async function refreshUntil(page, eventually, what, locator) {
  await eventually(what, async () => {
    if (await locator.count()) return true;
    await page.getByRole('button', { name: 'Refresh' }).click();
    return false;
  });
}

export default async function platformConsole({
  journey,
  newPage,
  look,
  eventually,
  ownerApi,
  origin,
  platform,
  signIns,
}) {
  await journey('an operator runs the platform: shops, jobs, events and operators', async () => {
    // A receiver that is down: the demo shop's endpoint fails each delivery with a refused
    // connection, and retries it later (the retry base is a minute, so it waits in "retry").
    const api = await ownerApi();
    const endpoint = await api('POST', '/api/v1/admin/webhooks/endpoints', {
      url: `http://127.0.0.1:${await closedPort()}/hooks`,
      description: 'Warehouse system (down)',
      event_types: ['*'],
    });
    await api('POST', `/api/v1/admin/webhooks/endpoints/${endpoint.id}/ping`);

    const slug = `fjord${Date.now().toString(36)}`;
    const page = await newPage();
    await page.goto(`${platform}/admin/platform/jobs`);
    // Not signed in: the console sends the operator to sign in first.
    await page.getByRole('heading', { name: 'Platform console' }).waitFor();
    await page.getByLabel('Email').fill('operator@demo.example');
    await page.getByLabel('Password').fill(signIns.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Shops' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Platform' });

    // ---- shops: open one for its owner ----
    await page.getByLabel('Address (slug)').fill(slug);
    await page.getByLabel('Name', { exact: true }).fill('Fjord Outfitters');
    await page.getByLabel('Currency (e.g. EUR)').fill('NOK');
    await page.getByLabel("Owner's email").fill(`owner@${slug}.example`);
    await page.getByLabel("Owner's name").fill('Ingrid Fjord');
    await page.getByRole('button', { name: 'Open shop' }).click();
    await page.getByRole('status').filter({ hasText: 'Fjord Outfitters is open.' }).waitFor();
    await page.getByRole('row', { name: new RegExp(`Fjord Outfitters ${slug}`) }).waitFor();
    await look(page, 'platform-shop-opened');

    // ---- jobs: the owner's invitation went out ----
    await nav.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await page.getByLabel('Kind', { exact: true }).fill('notifications.deliver_email');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/kind=notifications\.deliver_email/);
    const invitation = page.getByRole('row').filter({ hasText: slug }).filter({ hasText: 'succeeded' });
    await refreshUntil(page, eventually, 'the invitation email job of the new shop', invitation);

    // ---- jobs: the failing webhook delivery, retried ----
    await page.getByLabel('State').selectOption('retry');
    await page.getByLabel('Kind', { exact: true }).fill('webhooks.deliver');
    await page.getByRole('button', { name: 'Show' }).click();
    const failing = page.getByRole('row').filter({ hasText: 'demo' }).filter({ hasText: 'failed, will retry' });
    await refreshUntil(page, eventually, 'the failing webhook delivery', failing);
    const error = (await failing.first().locator('.job-error').textContent()) ?? '';
    if (!/refused|connect/i.test(error)) throw new Error(`the failing job shows the error ${JSON.stringify(error)}`);
    await look(page, 'platform-jobs');
    await failing
      .first()
      .getByRole('button', { name: /^Retry webhooks\.deliver job / })
      .click();
    await page.getByRole('status').filter({ hasText: 'The webhooks.deliver job is queued again' }).waitFor();
    // The receiver is still down: the retried job runs at once, fails again and waits to retry.
    await refreshUntil(page, eventually, 'the retried job failing again', failing);

    // ---- events: the new shop's opening, delivered again ----
    await nav.getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events', exact: true }).waitFor();
    await page.getByLabel('Event name').fill('tenancy.tenant_created.v1');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/name=tenancy\.tenant_created\.v1/);
    // Newest first: the shop just opened, once its delivery to the webhooks fan-out is done.
    const opening = page.locator('tbody tr').first();
    await eventually('the opening of the new shop, delivered', async () => {
      const payload = (await opening.locator('pre').first().textContent()) ?? '';
      if (payload.includes(slug) && (await opening.getByText('succeeded').count())) return true;
      await page.getByRole('button', { name: 'Refresh' }).click();
      return false;
    });
    await look(page, 'platform-events');
    await opening.getByRole('button', { name: /^Deliver again: tenancy\.tenant_created\.v1 of / }).click();
    await page.getByRole('status').filter({ hasText: 'tenancy.tenant_created.v1: 1 deliveries queued.' }).waitFor();
    // The event's deliveries are its jobs: the link shows them.
    await opening.getByRole('link', { name: /^Its jobs: the deliveries of tenancy\.tenant_created\.v1 / }).click();
    await page.waitForURL(/\/admin\/platform\/jobs\?event=/);
    await page.getByRole('row').filter({ hasText: 'event.deliver' }).first().waitFor();

    // ---- operators: a second one, added and disabled ----
    await nav.getByRole('link', { name: 'Operators' }).click();
    await page.getByRole('heading', { name: 'Operators', exact: true }).waitFor();
    const second = { email: `ola.${Date.now()}@platform.example`, password: 'ola keeps the platform running 9' };
    await page.getByLabel('Email').fill(second.email);
    await page.getByLabel('Name').fill('Ola Nordmann');
    await page.getByLabel('First password').fill('short');
    await page.getByRole('button', { name: 'Add operator' }).click();
    await page.locator('#operator-password-error').waitFor();
    await look(page, 'platform-operators-errors');
    await page.getByLabel('First password').fill(second.password);
    await page.getByRole('button', { name: 'Add operator' }).click();
    await page.getByRole('status').filter({ hasText: 'Ola Nordmann can now sign in.' }).waitFor();
    const signIn = (password) =>
      fetch(`${origin}/api/v1/platform/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: second.email, password, client: 'api' }),
      });
    if (!(await signIn(second.password)).ok) throw new Error('the new operator cannot sign in');
    await page.getByRole('button', { name: 'Disable Ola Nordmann' }).click();
    await page.getByRole('status').filter({ hasText: 'Ola Nordmann is disabled.' }).waitFor();
    await page
      .getByRole('row', { name: /Ola Nordmann/ })
      .getByText('disabled')
      .waitFor();
    await page.getByRole('button', { name: 'Enable Ola Nordmann' }).waitFor();
    const refused = await signIn(second.password);
    if (refused.ok) throw new Error('a disabled operator could still sign in');
    await look(page, 'platform-operators');

    // ---- the console in German ----
    await nav.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { name: 'Betreiber', exact: true }).waitFor();
    const navigation = page.getByRole('navigation', { name: 'Plattform' });
    await navigation.getByRole('link', { name: 'Aufträge' }).click();
    await page.getByRole('heading', { name: 'Aufträge', exact: true }).waitFor();
    await look(page, 'platform-jobs-de');
    await navigation.getByRole('combobox', { name: 'Sprache' }).selectOption('en');
    await page.context().close();
  });
}
