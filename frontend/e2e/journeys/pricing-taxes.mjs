// Taxes and customer groups (issue 14) as a merchant sets them up in the admin's Pricing section:
// the tax settings (a mistake refused under its field), a class of their own, a zone for Germany
// with its 19 % standard rate, a basket taxed in the preview; then a customer group, and a member
// the shop does not have refused under the field.
//
// Called by run.mjs with its helpers: { journey, newPage, look, origin, shop, signIns }.
export default async function taxesJourneys({ journey, newPage, look, origin, shop, signIns }) {
  const run = Date.now().toString(36);
  // The shop's own currency: the preview's default.
  const sold = await (
    await fetch(`${origin}/api/v1/store/catalog/currencies`, { headers: { 'X-Tenant-ID': 'demo' } })
  ).json();
  const currency = sold.default_currency;

  async function signIn(path) {
    const page = await newPage();
    await page.goto(`${shop}/admin/pricing/${path}`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  await journey('taxes: the merchant sets up Germany at 19 % and taxes a basket in the preview', async () => {
    const page = await signIn('taxes');
    await page.getByRole('heading', { name: 'Taxes', exact: true, level: 1 }).waitFor();

    // Settings: keeping net prices across borders needs the origin country, said at its field.
    const settings = page.getByRole('region', { name: 'Tax settings' });
    await settings.getByLabel('with tax included (as in the EU)').check();
    await settings.getByLabel('Selling into another country').selectOption('keep_net');
    await settings.getByLabel('Origin country (optional)').fill('');
    await settings.getByRole('button', { name: 'Save tax settings' }).click();
    await settings.getByText('needed to keep net prices across borders', { exact: true }).waitFor();
    await settings.getByLabel('Origin country (optional)').fill('de');
    await settings.getByRole('button', { name: 'Save tax settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Tax settings saved.' }).waitFor();

    // A class of the merchant's own, listed with the built-in ones.
    const classes = page.getByRole('region', { name: 'Tax classes' });
    const books = `Books ${run}`;
    await classes.getByLabel('New class').fill(books);
    await classes.getByRole('button', { name: 'Add class' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `“${books}” saved.` })
      .waitFor();
    await classes.getByRole('cell', { name: books, exact: true }).waitFor();
    await classes.getByRole('cell', { name: 'Standard', exact: true }).waitFor();

    // Another journey (the cart's) may have set Germany up already: this one starts it afresh,
    // deleting the zone as a merchant would (after confirming).
    const zones = page.getByRole('table', { name: 'Tax zones' });
    const german = zones.getByRole('row').filter({ has: page.getByRole('cell', { name: 'DE', exact: true }) });
    page.on('dialog', (dialog) => dialog.accept());
    while ((await german.count()) > 0) {
      const before = await german.count();
      await german
        .first()
        .getByRole('button', { name: /^Delete zone / })
        .click();
      await german.nth(before - 1).waitFor({ state: 'detached' });
    }

    // The zone: a country the API does not take is refused under the country field.
    const form = page.getByRole('region', { name: 'New tax zone' });
    await form.getByLabel('Zone name').fill('Germany');
    await form.getByLabel('Country', { exact: true }).fill('XX');
    await form.getByLabel('Rate 1: class').selectOption({ label: 'Standard' });
    await form.getByLabel('Rate 1: name on receipts (VAT 19 %)').fill('VAT 19 %');
    await form.getByLabel('Rate 1: percent').fill('19');
    await form.getByRole('button', { name: 'Create tax zone' }).click();
    await form.getByText('an ISO 3166-1 alpha-2 country code (DE, US)', { exact: true }).waitFor();
    await form.getByLabel('Country', { exact: true }).fill('DE');
    await form.getByRole('button', { name: 'Create tax zone' }).click();
    await page.getByRole('status').filter({ hasText: '“Germany” saved.' }).waitFor();
    const germany = zones.getByRole('row').filter({ hasText: 'Germany' });
    await germany.getByRole('cell', { name: 'DE', exact: true }).waitFor();
    await germany.getByText('Standard: VAT 19 %', { exact: true }).waitFor();
    await look(page, 'admin-pricing-taxes');

    // Editing replaces the zone with its rates: a reduced rate is added beside the standard one.
    await germany.getByRole('button', { name: 'Edit zone Germany' }).click();
    const edit = page.getByRole('region', { name: 'Edit zone Germany' });
    await edit.getByLabel('Rate 2: class').selectOption({ label: 'Reduced' });
    await edit.getByLabel('Rate 2: name on receipts (VAT 19 %)').fill('VAT 7 %');
    await edit.getByLabel('Rate 2: percent').fill('7,0');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: '“Germany” saved.' }).waitFor();
    await germany.getByText('Reduced: VAT 7 %', { exact: true }).waitFor();
    await germany.getByText('Standard: VAT 19 %', { exact: true }).waitFor();

    // The preview: 119 with tax, to Germany, is 100 net and 19 VAT.
    const preview = page.getByRole('region', { name: 'Try a basket' });
    await preview.getByLabel('Country', { exact: true }).fill('DE');
    await preview.getByLabel('Line 1: amount').fill('119');
    await preview.getByRole('button', { name: 'Calculate the taxes' }).click();
    await preview.getByText('Taxed by the zone “Germany”.').waitFor();
    const breakdown = preview.getByRole('table', { name: 'Taxes of the basket' });
    const vat = breakdown.getByRole('row', { name: /^VAT 19 %/ });
    await vat.getByRole('cell', { name: `19.00 ${currency}`, exact: true }).waitFor();
    const total = breakdown.getByRole('row').filter({ hasText: 'Total' });
    await total.getByRole('cell', { name: `100.00 ${currency}`, exact: true }).waitFor();
    await total.getByRole('cell', { name: `119.00 ${currency}`, exact: true }).waitFor();
    await look(page, 'admin-pricing-taxes-preview');

    // Where no zone applies, nothing is taxed.
    await preview.getByLabel('Country', { exact: true }).fill('IS');
    await preview.getByRole('button', { name: 'Calculate the taxes' }).click();
    await preview.getByText('No tax zone covers this address: nothing is taxed.').waitFor();
  });

  await journey('customer groups: the merchant creates Wholesale and sees it listed', async () => {
    const page = await signIn('shipping');
    await page.getByRole('heading', { name: 'Shipping', exact: true, level: 1 }).waitFor();
    await page
      .getByRole('navigation', { name: 'Pricing sections' })
      .getByRole('link', { name: 'Customer groups' })
      .click();
    await page.getByRole('heading', { name: 'Customer groups', exact: true, level: 1 }).waitFor();

    const form = page.getByRole('region', { name: 'New customer group' });
    await form.getByLabel('Name').fill('Wholesale');
    // The key follows the name until typed by hand.
    if ((await form.getByLabel('Key').inputValue()) !== 'wholesale') throw new Error('no key suggested');
    await form.getByLabel('Email domains (optional)').fill(`wholesale-${run}.example`);
    await form.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('status').filter({ hasText: '“Wholesale” saved.' }).waitFor();
    const groups = page.getByRole('table', { name: 'Customer groups' });
    const wholesale = groups.getByRole('row').filter({ hasText: 'Wholesale' });
    await wholesale.getByRole('cell', { name: 'wholesale', exact: true }).waitFor();
    await wholesale.getByRole('cell', { name: `wholesale-${run}.example`, exact: true }).waitFor();

    // Its members: someone the shop does not know is refused under the field.
    await wholesale.getByRole('button', { name: 'Members of Wholesale' }).click();
    const members = page.getByRole('region', { name: 'Members of Wholesale' });
    await members.getByText('Nobody added by hand yet.').waitFor();
    await members.getByLabel('Customer email or id').fill(`nobody-${run}@example.com`);
    await members.getByRole('button', { name: 'Add to Wholesale' }).click();
    await members
      .locator('#group-member-error')
      .filter({ hasText: `No customer is registered as nobody-${run}@example.com.` })
      .waitFor();
    await look(page, 'admin-pricing-customer-groups');
  });
}
