// The shop-operations screens, as a merchant uses them: a webhook endpoint pointing at a small
// receiver this journey runs on 127.0.0.1 (pinged, then a delivery sent again), an email template
// refused for a broken one-time link, previewed unsaved and then saved, single sign-on set up and
// found in the audit log with the webhook and template changes, a registered shopper found in the
// customers list, exported and erased, and the admin switched to German.
//
// Imported by run.mjs, which hands over its world: the browser helpers, the shop's address and
// the demo's sign-ins.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

/** A webhook receiver: records every request and answers 200. */
async function startReceiver() {
  const received = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url, headers: request.headers, body });
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('thanks');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => server.close() };
}

/** `Agora-Signature` checked with the secret the screen showed once (`t=<unix>,v1=<hex>` per signing.rs). */
function signedWith(secret, delivery) {
  const header = String(delivery.headers['agora-signature'] ?? '');
  const parts = Object.fromEntries(
    header.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  if (!parts.t) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${delivery.body}`).digest('hex');
  return header.split(',').some((p) => p === `v1=${expected}`);
}

/** Waits until the audit log lists only actions starting with `prefix` (and some). */
async function onlyActions(page, eventually, prefix) {
  await eventually(`the audit log filtered to ${prefix}`, async () => {
    const actions = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    return actions.length > 0 && actions.every((a) => a.trim().startsWith(prefix));
  });
}

export default async function adminOperations({ journey, newPage, look, eventually, shop, signIns, shopper }) {
  await journey('a merchant runs webhooks, emails, single sign-on and the audit log, then in German', async () => {
    const receiver = await startReceiver();
    const page = await newPage();
    try {
      await page.goto(`${shop}/admin/webhooks`);
      await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
      await page.getByLabel('Email').fill('owner@demo.example');
      await page.getByLabel('Password').fill(signIns.owner);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const nav = page.getByRole('navigation', { name: 'Admin' });

      // ---- webhooks: register, secret once, ping, delivery log, send again ----
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.locator('#endpoint-url-error').waitFor();
      await look(page, 'admin-webhooks-errors');
      await page.getByLabel('URL').fill(`${receiver.url}/agora`);
      await page.getByLabel('Description (for your team)').fill('Warehouse system');
      await page.getByLabel('All events').check();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const secret = (await page.getByTestId('webhook-secret').textContent())?.trim() ?? '';
      if (!secret.startsWith('whsec_')) throw new Error(`the signing secret shown is ${JSON.stringify(secret)}`);
      await page.getByRole('row', { name: /Warehouse system/ }).waitFor();
      await look(page, 'admin-webhooks');
      await page.getByRole('link', { name: 'Open the endpoint' }).click();
      await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
      if ((await page.getByText(secret).count()) !== 0) throw new Error('the secret is shown again on the endpoint');

      await page.getByRole('button', { name: 'Send a test event' }).click();
      const ping = await eventually('the ping at the receiver', () =>
        receiver.received.find((r) => r.headers['agora-event'] === 'webhooks.ping.v1'),
      );
      if (!signedWith(secret, ping)) {
        throw new Error(`the ping is not signed with the secret shown: ${ping.headers['agora-signature']}`);
      }
      const delivered = page.getByRole('row').filter({ hasText: 'webhooks.ping.v1' }).filter({ hasText: 'Delivered' });
      await eventually('the ping in the delivery log', async () => {
        if (await delivered.count()) return true;
        await page.getByRole('button', { name: 'Refresh' }).click();
        return false;
      });
      if (!(await delivered.first().innerText()).includes('200')) throw new Error('the log lacks the receiver’s 200');
      await look(page, 'admin-webhook-endpoint');

      await page
        .getByRole('button', { name: /^Send again: webhooks\.ping\.v1 of / })
        .first()
        .click();
      await eventually('the redelivery at the receiver', () => receiver.received.length >= 2);
      const again = page.getByRole('row').filter({ hasText: 'sent again' });
      await eventually('the redelivery in the log', async () => {
        if (await again.count()) return true;
        await page.getByRole('button', { name: 'Refresh' }).click();
        return false;
      });

      await page.getByRole('button', { name: 'Disable', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'The endpoint is disabled' }).waitFor();
      await page.getByRole('button', { name: 'Enable', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'enabled again' }).waitFor();

      // ---- emails: a broken one-time link is refused under its field, a valid edit saved ----
      await nav.getByRole('link', { name: 'Emails' }).click();
      await page.getByRole('heading', { name: 'Emails', exact: true }).waitFor();
      await look(page, 'admin-email-templates');
      await page.getByRole('link', { name: 'Edit Password reset (en)' }).click();
      const text = page.getByLabel('Plain text');
      await eventually('the template in the form', async () => (await text.inputValue()).includes('{{ reset_url }}'));
      const original = await text.inputValue();
      await text.fill(original.replace('{{ reset_url }}', '{{ reset_url }}&from=email'));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const fieldError = page.locator('#template-text-error');
      await fieldError.waitFor();
      if (!(await fieldError.textContent())?.includes('one-time link')) {
        throw new Error(`the message under the text is ${await fieldError.textContent()}`);
      }
      if ((await text.getAttribute('aria-invalid')) !== 'true') throw new Error('the text field is not marked invalid');
      await look(page, 'admin-email-template-error');
      await text.fill(original.replace(/^Hello /, 'Good day '));
      // The unsaved draft, rendered with sample values; the link in it is an example.
      await page.getByRole('button', { name: 'Preview changes' }).click();
      const draft = page.getByTestId('draft-preview');
      await draft.getByTestId('draft-text').getByText('Good day Alex Example', { exact: false }).waitFor();
      if (!(await draft.getByTestId('draft-text').innerText()).includes('token=sample')) {
        throw new Error('the draft preview does not show the sample one-time link');
      }
      if ((await draft.locator('iframe').getAttribute('sandbox')) !== '')
        throw new Error('the HTML preview is not sandboxed');
      await look(page, 'admin-email-draft-preview');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      if (await fieldError.count()) throw new Error('the field error stayed after a valid save');
      await page.getByText('Your wording').first().waitFor();
      await page.getByRole('button', { name: 'Send a test and preview' }).click();
      const preview = page.getByTestId('email-preview');
      await preview.getByText('Good day Alex Example', { exact: false }).first().waitFor();
      await look(page, 'admin-email-preview');
      await page.getByRole('navigation', { name: 'Email sections' }).getByRole('link', { name: 'Sent emails' }).click();
      await page
        .getByRole('button', { name: /^Open “Reset your password at .*” to owner@demo\.example$/ })
        .first()
        .click();
      await page.getByTestId('email-message').getByText('Good day', { exact: false }).first().waitFor();
      await look(page, 'admin-email-log');

      // ---- shop settings, and single sign-on: the owner's password asked afresh ----
      await nav.getByRole('link', { name: 'Shop settings' }).click();
      await page.getByRole('heading', { name: 'Shop settings' }).waitFor();
      const languages = await page.getByLabel('Languages', { exact: true }).inputValue();
      await page.getByLabel('Languages', { exact: true }).fill(`${languages}, not a language`);
      await page.getByLabel('Time zone').fill('Berlin time');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.locator('#shop-timezone-error').waitFor();
      await page.locator('#shop-locales-error').waitFor();
      await look(page, 'admin-shop-settings-errors');
      await page.getByLabel('Languages', { exact: true }).fill(languages);
      await page.getByLabel('Time zone').fill('Europe/Berlin');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await look(page, 'admin-shop-settings');

      await nav.getByRole('link', { name: 'Single sign-on' }).click();
      await page.getByRole('heading', { name: 'Single sign-on' }).waitFor();
      await page.getByLabel('Issuer URL').fill(receiver.url);
      await page.getByLabel('Client ID').fill('agora-demo-shop');
      await page.getByLabel('Client secret', { exact: true }).fill('client secret from the provider');
      await page.getByLabel('Customers, in the shop').check();
      await page.getByLabel('Your current password').fill('not the owner’s password');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.locator('#sso-password-error').waitFor();
      await page.getByLabel('Client secret', { exact: true }).fill('client secret from the provider');
      await page.getByLabel('Your current password').fill(signIns.owner);
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await page.getByText('/auth/oidc/callback', { exact: false }).first().waitFor();
      await look(page, 'admin-single-sign-on');

      // ---- the audit log shows that change ----
      await nav.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await page.getByLabel('Action', { exact: true }).fill('oidc.');
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      await onlyActions(page, eventually, 'oidc.');
      const configured = page.getByRole('row').filter({ hasText: 'oidc.configured' });
      if (!(await configured.innerText()).includes('agora-demo-shop')) throw new Error('the entry lacks its details');
      await look(page, 'admin-audit-log');
      // The webhook and template changes made above, with who made them.
      for (const [family, action] of [
        ['webhooks.', 'webhooks.endpoint.created'],
        ['webhooks.', 'webhooks.endpoint.disabled'],
        ['notifications.', 'notifications.template.saved'],
      ]) {
        await page.getByLabel('Action', { exact: true }).fill(family);
        await page.getByRole('button', { name: 'Show', exact: true }).click();
        await onlyActions(page, eventually, family);
        const row = page.getByRole('row').filter({ hasText: action }).first();
        await row.waitFor();
        if ((await row.innerText()).includes('whsec_')) throw new Error(`${action} shows a signing secret`);
      }

      // ---- a customer: found in the customers list, opened, exported, erased ----
      await nav.getByRole('link', { name: 'Customers' }).click();
      await page.getByRole('heading', { name: 'Customers' }).waitFor();
      await page.getByLabel('Email or name').fill(shopper.email.split('@')[0].toUpperCase());
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      await eventually('only the shopper listed', async () => {
        const rows = await page.locator('tbody tr').allTextContents();
        return rows.length === 1 && rows[0].includes(shopper.email);
      });
      await look(page, 'admin-customers');
      await page.locator('tbody tr').first().getByRole('link').click();
      const profile = page.getByTestId('customer-profile');
      await profile.getByText(shopper.email).first().waitFor();
      await page.getByRole('button', { name: 'Export their data' }).click();
      await page.getByTestId('customer-export').waitFor();
      await page.getByRole('link', { name: 'Download the copy (JSON)' }).waitFor();
      await look(page, 'admin-customer');
      await page.getByLabel(`I confirm that ${shopper.email} asked for erasure`).check();
      await page.getByRole('button', { name: 'Erase this customer’s data' }).click();
      await page.getByRole('status').filter({ hasText: 'erased' }).waitFor();
      await page.getByRole('heading', { name: 'Erased customer' }).waitFor();
      if ((await page.getByText(shopper.email).count()) !== 0)
        throw new Error('the erased customer still shows their email');
      await nav.getByRole('link', { name: 'Audit log' }).click();
      await page.getByLabel('Action', { exact: true }).fill('account.');
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      await onlyActions(page, eventually, 'account.');
      await page.getByRole('row').filter({ hasText: 'account.erased' }).first().waitFor();
      await page.getByRole('row').filter({ hasText: 'account.exported' }).first().waitFor();

      // ---- German ----
      await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
      await page.getByRole('heading', { name: 'Protokoll' }).waitFor();
      if ((await page.evaluate(() => document.documentElement.lang)) !== 'de')
        throw new Error('the page is not lang=de');
      const german = page.getByRole('navigation', { name: 'Verwaltung' });
      const links = (await german.getByRole('link').allTextContents()).map((s) => s.trim());
      for (const label of ['Übersicht', 'Mitarbeiter', 'Rollen', 'Shop-Einstellungen', 'E-Mails', 'Ihr Konto']) {
        if (!links.includes(label)) throw new Error(`the German navigation lacks ${label}: ${links}`);
      }
      await look(page, 'admin-audit-log-de');
      await german.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Endpunkt hinzufügen' }).waitFor();
      await look(page, 'admin-webhooks-de');
      await german.getByRole('link', { name: 'Mitarbeiter' }).click();
      await page.getByRole('heading', { name: 'Mitarbeiter einladen' }).waitFor();
      await look(page, 'admin-staff-de');
      // The choice is remembered: a fresh load stays German.
      await page.reload();
      await page.getByRole('heading', { name: 'Mitarbeiter einladen' }).waitFor();
    } finally {
      receiver.close();
      await page.context().close();
    }
  });
}
