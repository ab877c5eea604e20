// Shipping (issue 14) as a merchant sets it up: a zone made in the admin's Pricing section, a
// flat method free above a threshold, a mistake refused under its field, then the preview that
// prices a parcel to an address; and the storefront API a shopper's address form asks.
//
// Called by run.mjs with its helpers: { journey, newPage, look, origin, shop, signIns }.
export default async function shippingJourneys({ journey, newPage, look, origin, shop, signIns }) {
  const run = Date.now().toString(36);
  const zone = `Iceland ${run}`;
  // The shop's own currency: the method's and the preview's default.
  const sold = await (
    await fetch(`${origin}/api/v1/store/catalog/currencies`, { headers: { 'X-Tenant-ID': 'demo' } })
  ).json();
  const currency = sold.default_currency;

  await journey('shipping: the merchant adds a zone and a method, and previews what a parcel costs', async () => {
    const page = await newPage();
    await page.goto(`${shop}/admin/pricing/shipping`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Shipping', exact: true, level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Admin' });
    if (!(await nav.getByRole('link', { name: 'Pricing and shipping' }).isVisible())) {
      throw new Error('no Pricing and shipping in the nav');
    }

    // A country code the API does not take is refused under the countries field.
    await page.getByLabel('Zone name').fill(zone);
    await page.getByLabel('Countries').fill('Iceland');
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page.getByText('an ISO 3166-1 alpha-2 country code in capitals (DE)', { exact: true }).waitFor();
    await page.getByLabel('Countries').fill('IS');
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `“${zone}” saved.` })
      .waitFor();
    await page.getByRole('heading', { name: zone, level: 2 }).waitFor();

    // A flat method, free from 100 on, delivered in 3–5 business days.
    await page.getByRole('button', { name: `Add a method to ${zone}` }).click();
    await page.getByLabel('Name shown to shoppers').fill('Island post');
    await page.getByLabel('Price', { exact: true }).fill('12.50');
    await page.getByLabel('Free from order value').fill('100');
    await page.getByLabel('Delivery from (business days)').fill('3');
    await page.getByLabel('Delivery up to (business days)').fill('5');
    await page.getByRole('button', { name: 'Create method' }).click();
    await page.getByRole('status').filter({ hasText: '“Island post” saved.' }).waitFor();
    const methods = page.getByRole('table', { name: `Shipping methods of ${zone}` });
    await methods.getByRole('cell', { name: 'Island post', exact: true }).waitFor();
    await methods.getByRole('cell', { name: '3–5 business days' }).waitFor();
    await look(page, 'admin-pricing-shipping');

    // The preview: 40 → 12.50; 150 → free.
    await page.getByLabel('Country', { exact: true }).fill('IS');
    await page.getByLabel('Order value').fill('40');
    await page.getByRole('button', { name: 'Show the options' }).click();
    await page.getByText(`Island post: 12.50 ${currency}`).waitFor();
    await page.getByLabel('Order value').fill('150');
    await page.getByRole('button', { name: 'Show the options' }).click();
    await page.getByText(`Island post: 0.00 ${currency} (free)`).waitFor();
  });

  await journey('shipping: a shopper’s address form lists the country and estimates the parcel', async () => {
    const ask = async (method, path, body) => {
      const res = await fetch(`${origin}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo' },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const { countries } = await ask('GET', '/api/v1/store/pricing/shipping/countries');
    if (!countries.includes('IS')) throw new Error(`IS is not among ${countries.join(', ')}`);
    const estimate = await ask('POST', '/api/v1/store/pricing/shipping/estimate', {
      destination: { country: 'IS' },
      order_value: { amount: 4000, currency },
    });
    const post = estimate.options.find((o) => o.name === 'Island post');
    if (post?.price.amount !== 1250) throw new Error(`estimate: ${JSON.stringify(estimate)}`);
  });
}
