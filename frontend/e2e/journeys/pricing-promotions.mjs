// Promotions and price lists (issue 14) as a merchant sets them up in the admin's Pricing section:
// a 10 % promotion "Summer 10" with the code SUMMER10 for at most 100 orders (a mistake refused
// under its field first), its code listed unused; then a price list, listed, with a tiered price
// for a real SKU, the "why this price" answer naming it the winner, and a conversion rate. The
// promotion is left active with no end, so the shopper journey can apply SUMMER10 in the cart.
//
// Called by run.mjs with its helpers: { journey, newPage, look, origin, shop, signIns }.
export default async function promotionsJourneys({ journey, newPage, look, origin, shop, signIns }) {
  const run = Date.now().toString(36);
  const sold = await (
    await fetch(`${origin}/api/v1/store/catalog/currencies`, { headers: { 'X-Tenant-ID': 'demo' } })
  ).json();
  const currency = sold.default_currency;

  async function signIn() {
    const page = await newPage();
    await page.goto(`${shop}/admin/pricing/shipping`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Shipping', exact: true, level: 1 }).waitFor();
    return page;
  }

  await journey('promotions: the merchant makes “Summer 10” with the code SUMMER10 for 100 orders', async () => {
    const page = await signIn();
    const tabs = page.getByRole('navigation', { name: 'Pricing sections' });
    await tabs.getByRole('link', { name: 'Promotions' }).click();
    await page.getByRole('heading', { name: 'Promotions', exact: true, level: 1 }).waitFor();

    const form = page.getByRole('region', { name: 'New promotion' });
    await form.getByLabel('Name', { exact: true }).fill('Summer 10');
    await form.getByLabel('Kind of discount').selectOption('percentage');
    // A percentage the form cannot read is refused under its field, before asking the API.
    await form.getByLabel('Percent off').fill('ten');
    await form.getByLabel('Code shoppers enter').fill('SUMMER10');
    await form.getByLabel('Orders this code may be used for').fill('100');
    await form.getByRole('button', { name: 'Create promotion' }).click();
    await form.getByText('Give a percentage from 0.01 to 100, such as 10 or 12.5.').first().waitFor();
    await form.getByLabel('Percent off').fill('10');
    await form.getByRole('button', { name: 'Create promotion' }).click();
    await page.getByRole('status').filter({ hasText: '“Summer 10” saved.' }).waitFor();

    const promotions = page.getByRole('table', { name: 'Promotions', exact: true });
    const row = promotions.getByRole('row').filter({ hasText: 'Summer 10' });
    await row.getByRole('cell', { name: '10 % off', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'Always', exact: true }).waitFor();

    // The new promotion's codes are shown: SUMMER10, active, used 0 of 100 times.
    const codes = page.getByRole('table', { name: 'Codes of Summer 10' });
    const code = codes.getByRole('row').filter({ hasText: 'SUMMER10' });
    await code.getByRole('cell', { name: '0 of 100', exact: true }).waitFor();
    await code.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await look(page, 'admin-pricing-promotions');

    // What a shopper's cart would get: 10 % off a line of 40.00 with the code.
    const api = await ownerApiFor(origin, signIns);
    const preview = await api('POST', '/api/v1/admin/pricing/promotions/preview', {
      currency,
      codes: ['summer10'],
      customer_group_ids: [],
      lines: [
        {
          key: 'l1',
          product_id: '00000000-0000-4000-8000-000000000001',
          variant_id: '00000000-0000-4000-8000-000000000002',
          category_ids: [],
          collection_ids: [],
          quantity: 1,
          unit_price: { amount: 4000, currency },
          line_total: { amount: 4000, currency },
        },
      ],
    });
    const summer = preview.applied.find((a) => a.name === 'Summer 10');
    if (summer?.amount.amount !== 400) throw new Error(`preview: ${JSON.stringify(preview)}`);
    await page.context().close();
  });

  await journey('price lists: the merchant creates a price list and sees it listed', async () => {
    const page = await signIn();
    const tabs = page.getByRole('navigation', { name: 'Pricing sections' });
    await tabs.getByRole('link', { name: 'Price lists' }).click();
    await page.getByRole('heading', { name: 'Price lists', exact: true, level: 1 }).waitFor();

    const name = `Trade prices ${run}`;
    const form = page.getByRole('region', { name: 'New price list' });
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Status').selectOption('active');
    await form.getByLabel('Priority', { exact: true }).fill('10');
    await form.getByRole('button', { name: 'Create price list' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `“${name}” saved.` })
      .waitFor();
    const row = page
      .getByRole('table', { name: 'Price lists', exact: true })
      .getByRole('row')
      .filter({ hasText: name });
    await row.getByRole('cell', { name: currency, exact: true }).waitFor();
    await row.getByRole('cell', { name: 'Everyone', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'Active', exact: true }).waitFor();

    // Its prices: none yet; a SKU the shop does not have is refused under the variant field.
    await row.getByRole('button', { name: `Entries of ${name}` }).click();
    const prices = page.getByRole('region', { name: `Prices of ${name}` });
    await prices.getByText('No prices in this list yet.').waitFor();
    await prices.getByLabel('SKU or variant id').fill(`NO-SUCH-SKU-${run}`);
    await prices.getByLabel('Price', { exact: true }).fill('9.90');
    await prices.getByRole('button', { name: 'Save price' }).click();
    await prices.getByText('no variant of the shop has this SKU', { exact: true }).waitFor();

    // A real variant's price with a tier from 10, found by its SKU; then why 10 of it cost what
    // they cost (the SKU typed in lower case), and a conversion rate rounded to .99.
    const api = await ownerApiFor(origin, signIns);
    const products = await api('GET', '/api/v1/admin/catalog/products?limit=5');
    const sku = products.items[0].variants[0].sku;
    await prices.getByLabel('SKU or variant id').fill(sku);
    await prices.getByLabel('Price', { exact: true }).fill('9.90');
    await prices.getByLabel('Tier 1: from quantity').fill('10');
    await prices.getByLabel('Tier 1: unit price').fill('8.50');
    await prices.getByRole('button', { name: 'Save price' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Price of ${sku} saved.` })
      .waitFor();
    await prices.getByRole('cell', { name: `from 10: 8.50 ${currency}`, exact: true }).waitFor();
    const why = page.getByRole('region', { name: 'Why this price?' });
    await why.getByLabel('SKU or variant id').fill(sku.toLowerCase());
    await why.getByLabel('Quantity').fill('10');
    await why.getByRole('button', { name: 'Explain the price' }).click();
    await why.getByText(`10 × 8.50 ${currency} each, from the price list “${name}”.`).waitFor();
    await why
      .getByRole('table', { name: 'Price lists with a price for the variant' })
      .getByText('wins', { exact: true })
      .waitFor();
    const rates = page.getByRole('region', { name: 'Conversion rates' });
    if (sold.currencies.length > 1) {
      await rates.getByLabel('Rate', { exact: true }).fill('0.92');
      await rates.getByLabel('Rounding').selectOption('ending_99');
      await rates.getByRole('button', { name: 'Create rate' }).click();
      await rates.getByRole('cell', { name: 'Ending in .99', exact: true }).waitFor();
    }
    await look(page, 'admin-pricing-price-lists');
    await page.context().close();
  });
}

/** The owner's API session, for what a journey checks through the API rather than its screens. */
async function ownerApiFor(origin, signIns) {
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
