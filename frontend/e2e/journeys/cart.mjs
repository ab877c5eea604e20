// The cart (issue 14) from both sides. The merchant, in the admin, makes the promotion “Summer 10”
// with the code SUMMER10 (10 % off) and sets the shop's tax up for Germany (prices include tax,
// origin DE, a Germany zone at 19 %) — each only when an earlier journey has not already done it.
// Then a shopper, in German and in euros, puts two different variants of a demo product in the
// cart, opens it, is told why an unknown code is refused, applies `summer10`, and sees the discount
// line, the VAT line “inkl. 19 % MwSt. …” and the total go down by the discount; then chooses a
// delivery to Germany, and is told when the merchant raises a price meanwhile.
//
// Called by run.mjs with its helpers: { journey, newPage, look, eventually, ownerApi, origin, shop, signIns }.

/** "31,98 €" → 3198 (minor units), as a German page writes an amount. */
function minor(text) {
  const digits = text.replace(/[^\d,-]/g, '').replace(',', '.');
  const value = Number(digits);
  if (!Number.isFinite(value) || !digits) throw new Error(`not an amount: ${JSON.stringify(text)}`);
  return Math.round(value * 100);
}

/** A demo product with two priced, in-stock variants in `currency`, and those two variants. */
async function twoVariants(origin, currency) {
  const headers = { 'X-Tenant-ID': 'demo', 'Accept-Language': 'en' };
  const list = await (
    await fetch(`${origin}/api/v1/store/catalog/products?limit=50&currency=${currency}`, { headers })
  ).json();
  for (const summary of list.items) {
    const product = await (
      await fetch(`${origin}/api/v1/store/catalog/products/${summary.slug}?currency=${currency}`, { headers })
    ).json();
    const buyable = (product.variants ?? []).filter(
      (v) => v.price?.currency === currency && (!v.availability || v.availability.status === 'in_stock'),
    );
    if (buyable.length >= 2) return { product, variants: buyable.slice(0, 2) };
  }
  throw new Error(`no demo product has two variants in stock with a price in ${currency}`);
}

export default async function cartJourneys({ journey, newPage, look, eventually, ownerApi, origin, shop, signIns }) {
  let ready = false;

  await journey('cart: the merchant sets up “Summer 10” (SUMMER10) and German VAT in the admin', async () => {
    const api = await ownerApi();
    const page = await newPage();
    await page.goto(`${shop}/admin/pricing/promotions`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Promotions', exact: true, level: 1 }).waitFor();

    const promotions = await api('GET', '/api/v1/admin/pricing/promotions?limit=100');
    if (!promotions.items.some((p) => p.name === 'Summer 10')) {
      const form = page.getByRole('region', { name: 'New promotion' });
      await form.getByLabel('Name', { exact: true }).fill('Summer 10');
      await form.getByLabel('Kind of discount').selectOption('percentage');
      await form.getByLabel('Percent off').fill('10');
      await form.getByLabel('Code shoppers enter').fill('SUMMER10');
      await form.getByRole('button', { name: 'Create promotion' }).click();
      await page.getByRole('status').filter({ hasText: '“Summer 10” saved.' }).waitFor();
    }
    await page
      .getByRole('table', { name: 'Promotions', exact: true })
      .getByRole('row')
      .filter({ hasText: 'Summer 10' })
      .getByRole('cell', { name: 'Active', exact: true })
      .first()
      .waitFor();

    // The shop's tax, as a German shop sets it: prices with VAT in, sold from Germany, 19 %.
    await page.getByRole('navigation', { name: 'Pricing sections' }).getByRole('link', { name: 'Taxes' }).click();
    await page.getByRole('heading', { name: 'Taxes', exact: true, level: 1 }).waitFor();
    const settings = page.getByRole('region', { name: 'Tax settings' });
    await settings.getByLabel('with tax included (as in the EU)').check();
    await settings.getByLabel('Origin country (optional)').fill('DE');
    await settings.getByRole('button', { name: 'Save tax settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Tax settings saved.' }).waitFor();
    const zones = await api('GET', '/api/v1/admin/pricing/taxes/zones');
    if (!zones.items.some((z) => z.country === 'DE')) {
      const form = page.getByRole('region', { name: 'New tax zone' });
      await form.getByLabel('Zone name').fill('Germany');
      await form.getByLabel('Country', { exact: true }).fill('DE');
      await form.getByLabel('Rate 1: class').selectOption({ label: 'Standard' });
      await form.getByLabel('Rate 1: name on receipts (VAT 19 %)').fill('VAT 19 %');
      await form.getByLabel('Rate 1: percent').fill('19');
      await form.getByRole('button', { name: 'Create tax zone' }).click();
      await page.getByRole('status').filter({ hasText: '“Germany” saved.' }).waitFor();
    }
    await page
      .getByRole('table', { name: 'Tax zones' })
      .getByRole('cell', { name: 'DE', exact: true })
      .first()
      .waitFor();
    await page.context().close();
    ready = true;
  });
  if (!ready) return;

  await journey('cart: a shopper in German adds two variants, applies summer10 and sees the VAT line', async () => {
    const sold = await (
      await fetch(`${origin}/api/v1/store/catalog/currencies`, { headers: { 'X-Tenant-ID': 'demo' } })
    ).json();
    const currency = sold.currencies.includes('EUR') ? 'EUR' : sold.default_currency;
    const { product, variants } = await twoVariants(origin, currency);
    const euros = (amount) => spaced(new Intl.NumberFormat('de', { style: 'currency', currency }).format(amount / 100));
    const germanName = (
      await (
        await fetch(`${origin}/api/v1/store/catalog/products/${product.slug}`, {
          headers: { 'X-Tenant-ID': 'demo', 'Accept-Language': 'de' },
        })
      ).json()
    ).name;

    // Somewhere to deliver to: a parcel service for Germany in the cart's currency (set up through
    // the admin API; the shipping journey covers the screens).
    const api = await ownerApi();
    const method = `Paket ${Date.now().toString(36)}`;
    const zones = await api('GET', '/api/v1/admin/pricing/shipping/zones');
    const zone =
      zones.items.find((z) => z.countries.includes('DE')) ??
      (await api('POST', '/api/v1/admin/pricing/shipping/zones', { name: 'Deutschland', countries: ['DE'] }));
    await api('POST', `/api/v1/admin/pricing/shipping/zones/${zone.id}/methods`, {
      name: method,
      kind: 'flat',
      currency,
      price: { amount: 490, currency },
      min_days: 1,
      max_days: 3,
      position: 0,
    });

    const page = await newPage();
    await page.goto(`${shop}/p/${product.slug}`);
    await page.getByRole('heading', { name: product.name, level: 1 }).waitFor();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    if (currency !== sold.default_currency) {
      await page.getByRole('combobox', { name: 'Währung' }).selectOption(currency);
    }
    const add = page.getByRole('button', { name: 'In den Warenkorb' });
    const status = page.getByTestId('add-to-cart-status');
    const miniCart = page.getByRole('banner').getByRole('link', { name: /^Warenkorb \(/ });
    await miniCart.filter({ hasText: 'Warenkorb (0)' }).waitFor();

    // Two different variants: one of the first, two of the second.
    for (const [index, variant] of variants.entries()) {
      for (const [option, value] of Object.entries(variant.option_values)) {
        await page.locator(`input[type=radio][name="option-${option}"][value="${value}"]`).check();
      }
      await page.getByTestId('sku').filter({ hasText: variant.sku }).waitFor();
      await page.getByLabel('Menge', { exact: true }).fill(String(index + 1));
      await add.click();
      await status.filter({ hasText: 'In den Warenkorb gelegt.' }).waitFor();
    }
    await miniCart.filter({ hasText: 'Warenkorb (3)' }).waitFor();
    await look(page, 'storefront-added-to-cart');

    await miniCart.click();
    await page.getByRole('heading', { name: 'Ihr Warenkorb', level: 1 }).waitFor();
    const lines = page.getByTestId('cart-line');
    await eventually('two lines in the cart', async () => (await lines.count()) === 2);
    for (const variant of variants) {
      await lines.filter({ hasText: variant.sku }).waitFor();
    }
    const totals = page.getByTestId('cart-totals');
    const amountOf = async (kind) => minor(await totals.locator(`[data-kind=${kind}] .totals-value`).innerText());
    // Prices include VAT: it is shown inside the total, not added to it.
    await totals
      .locator('[data-kind=included]')
      .filter({ hasText: /^inkl\. 19 % MwSt\. / })
      .waitFor();
    if ((await totals.locator('[data-kind=tax]').count()) !== 0) throw new Error('VAT is added, not included');
    const subtotal = await amountOf('subtotal');
    const before = await amountOf('total');
    if (before !== subtotal) throw new Error(`the total ${before} is not the subtotal ${subtotal}`);
    const expected = variants[0].price.amount + 2 * variants[1].price.amount;
    if (subtotal !== expected) throw new Error(`the subtotal is ${subtotal}, the prices make ${expected}`);
    await look(page, 'storefront-cart');

    // A code the shop does not have: refused, with the reason in words, under the field.
    const code = page.getByRole('textbox', { name: 'Rabattcode', exact: true });
    await code.fill('GIBTESNICHT');
    await page.getByRole('button', { name: 'Einlösen' }).click();
    await page.getByText('Diesen Code gibt es nicht.', { exact: true }).waitFor();
    if ((await code.getAttribute('aria-invalid')) !== 'true') throw new Error('the code field is not marked invalid');
    await look(page, 'storefront-cart-code-refused');

    await code.fill('summer10');
    await page.getByRole('button', { name: 'Einlösen' }).click();
    const discountLine = totals.locator('[data-kind=discount]').filter({ hasText: 'Summer 10' });
    await discountLine.waitFor();
    await page.locator('.cart-codes li').filter({ hasText: 'SUMMER10' }).filter({ hasText: 'eingelöst' }).waitFor();
    const discount = minor(await discountLine.locator('.totals-value').innerText());
    if (discount >= 0) throw new Error(`the discount is shown as ${discount}, not negative`);
    if (-discount !== Math.round(subtotal / 10)) throw new Error(`10 % of ${subtotal} is not ${-discount}`);
    const after = await amountOf('total');
    if (after !== before + discount) throw new Error(`the total went from ${before} to ${after}, not by ${discount}`);
    const vat = await totals.locator('[data-kind=included]').innerText();
    if (!/^inkl\. 19 % MwSt\. \S/.test(spaced(vat))) throw new Error(`the VAT line reads ${vat}`);
    // 19 % of a gross total is inside it: total × 19 / 119, within rounding per line.
    const included = minor(vat.replace(/^inkl\. 19 % MwSt\./, ''));
    if (Math.abs(included - Math.round((after * 19) / 119)) > 2) throw new Error(`VAT ${included} of ${after}`);
    await look(page, 'storefront-cart-discounted');

    // Delivery: Germany from the countries the shop ships to, then a method with its price and days.
    await page.getByRole('combobox', { name: 'Land', exact: true }).selectOption('DE');
    await page.getByRole('button', { name: 'Lieferarten anzeigen' }).click();
    const parcel = page.getByRole('radio', { name: new RegExp(`^${method} ${euros(490)} 1–3 Werktage`) });
    await parcel.check();
    await eventually('the parcel chosen', async () =>
      spaced(await totals.locator('[data-kind=shipping]').innerText()).includes(euros(490)),
    );
    const shipped = await amountOf('total');
    if (shipped !== after + 490)
      throw new Error(`with ${euros(490)} delivery the total is ${shipped}, not ${after + 490}`);
    await look(page, 'storefront-cart-delivery');

    // The cart is the server's: a reload shows the same lines, code, delivery and total.
    await page.reload();
    await page.getByRole('heading', { name: 'Ihr Warenkorb', level: 1 }).waitFor();
    await totals.locator('[data-kind=discount]').filter({ hasText: 'Summer 10' }).waitFor();
    if (!(await parcel.isChecked())) throw new Error('the reloaded cart lost its delivery');
    if ((await amountOf('total')) !== shipped) throw new Error('the reloaded cart shows another total');

    // The merchant raises a price meanwhile: the cart says so until the shopper has read it.
    const raised = await raisePrice(origin, signIns, product.id, variants[0].id, currency, 100);
    await page.reload();
    const notices = page.getByRole('region', { name: 'Änderungen an Ihrem Warenkorb' });
    const told = `Der Preis von ${germanName} hat sich von ${euros(raised - 100)} auf ${euros(raised)} geändert.`;
    await notices.getByRole('listitem').first().waitFor();
    const said = spaced(
      await notices
        .getByRole('listitem')
        .allInnerTexts()
        .then((t) => t.join(' | ')),
    );
    if (!said.includes(told)) throw new Error(`the notice reads “${said}”, not “${told}”`);
    await look(page, 'storefront-cart-notice');
    await notices.getByRole('button', { name: 'OK' }).click();
    await notices.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('heading', { name: 'Ihr Warenkorb', level: 1 }).waitFor();
    await totals.locator('[data-kind=total]').waitFor();
    if (await notices.count()) throw new Error('the notice is back after it was acknowledged');
    await page.context().close();
  });

  await journey('cart: the merchant sets the cart rules, and a shopper is held to them', async () => {
    const page = await newPage();
    await page.goto(`${shop}/admin/pricing/cart`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Cart rules', exact: true, level: 1 }).waitFor();
    const most = page.getByLabel('At most this many of one item');
    await eventually('the rules to load', async () => (await most.inputValue()) === '99');
    // Not a whole number: refused at the field before the API is asked.
    await most.fill('2.5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Give a whole number.').first().waitFor();
    await most.fill('5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Cart rules saved.' }).waitFor();
    await look(page, 'admin-pricing-cart-rules');
    await page.context().close();

    // The API holds a shopper to it: six of one item are refused with the limit.
    const products = await (
      await fetch(`${origin}/api/v1/store/catalog/products?limit=1`, { headers: { 'X-Tenant-ID': 'demo' } })
    ).json();
    const slug = products.items[0].slug;
    const detail = await (
      await fetch(`${origin}/api/v1/store/catalog/products/${slug}`, { headers: { 'X-Tenant-ID': 'demo' } })
    ).json();
    const refused = await fetch(`${origin}/api/v1/store/cart/lines`, {
      method: 'POST',
      headers: { 'X-Tenant-ID': 'demo', 'Content-Type': 'application/json' },
      body: JSON.stringify({ variant_id: detail.variants[0].id, quantity: 6 }),
    });
    const problem = await refused.json();
    if (refused.status !== 422 || !problem.type.endsWith('/quantity-limit')) {
      throw new Error(`six of one item: ${refused.status} ${JSON.stringify(problem)}`);
    }
    // Back to the default, for whatever runs next.
    const api = await ownerApi();
    await api('PUT', '/api/v1/admin/cart/settings', {
      abandon_after_minutes: 4320,
      max_line_quantity: 99,
      max_lines: 100,
    });
  });
}

/** Text with its no-break spaces ("4,90 €") as plain ones. */
function spaced(text) {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Raises one variant's price in `currency` by `by` minor units through the admin API (a product's
 * variant is changed with the product's ETag, which the run's shared API helper cannot send).
 */
async function raisePrice(origin, signIns, productId, variantId, currency, by) {
  const login = await fetch(`${origin}/api/v1/admin/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo' },
    body: JSON.stringify({ email: 'owner@demo.example', password: signIns.owner, client: 'api' }),
  });
  if (!login.ok) throw new Error(`owner login: ${login.status}`);
  const { access_token } = await login.json();
  const headers = {
    'Content-Type': 'application/json',
    'X-Tenant-ID': 'demo',
    Authorization: `Bearer ${access_token}`,
  };
  const product = await (await fetch(`${origin}/api/v1/admin/catalog/products/${productId}`, { headers })).json();
  const variant = product.variants.find((v) => v.id === variantId);
  let raised = null;
  const prices = variant.prices.map((p) => {
    const amount = p.price.currency === currency ? p.price.amount + by : p.price.amount;
    if (p.price.currency === currency) raised = amount;
    return { amount, currency: p.price.currency, compare_at: p.compare_at?.amount ?? null };
  });
  const changed = await fetch(`${origin}/api/v1/admin/catalog/products/${productId}/variants/${variantId}`, {
    method: 'PATCH',
    headers: { ...headers, 'If-Match': `"${product.version}"` },
    body: JSON.stringify({ prices }),
  });
  if (!changed.ok) throw new Error(`raising the price: ${changed.status} ${await changed.text()}`);
  return raised;
}
