// Inventory (issue 13) as staff and shoppers meet it: a stock location made in the admin, stock
// counted in the grid and then adjusted to zero there, the ledger that records both, a manual
// hold for a phone order; then the storefront: the product page says "Out of stock" and the
// "In stock only" filter hides the product on its category page.
//
// Called by run.mjs with its helpers: { journey, newPage, look, eventually, origin, shop, signIns }.
import { ownerSession } from './admin-catalog.mjs';

export default async function inventoryJourneys({ journey, newPage, look, eventually, origin, shop, signIns }) {
  const run = Date.now().toString(36);
  const names = {
    category: `Lighthouse ${run}`,
    lantern: `Storm lantern ${run}`,
    compass: `Brass compass ${run}`,
    location: `Harbour warehouse ${run}`,
  };
  const sku = { lantern: `LANT-${run}`, compass: `COMP-${run}` };
  let made = null;

  await journey('inventory: the products to count are set up through the admin API', async () => {
    const api = await ownerSession({ origin, signIns });
    const { default_currency: currency } = await api('GET', '/api/v1/admin/catalog/currencies');
    const category = await api('POST', '/api/v1/admin/catalog/categories', {
      name: { en: names.category },
      slug: `lighthouse-${run}`,
    });
    const product = (name, code, amount) =>
      api('POST', '/api/v1/admin/catalog/products', {
        name: { en: name },
        slug: { en: name.toLowerCase().replaceAll(' ', '-') },
        status: 'active',
        category_ids: [category.id],
        variants: [{ sku: code, prices: [{ amount, currency }] }],
      });
    const lantern = await product(names.lantern, sku.lantern, 4900);
    const compass = await product(names.compass, sku.compass, 2900);
    made = { api, category, lantern, compass };
  });
  if (!made) return;

  await journey('inventory: staff add a location, count stock in the grid, then adjust it to zero', async () => {
    const { api, lantern } = made;
    const page = await newPage();
    await page.goto(`${shop}/admin/inventory/locations`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Stock locations' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Admin' });
    if (!(await nav.getByRole('link', { name: 'Inventory' }).isVisible())) throw new Error('no Inventory in the nav');

    // A location with a name that is taken is refused under the name field (made here first).
    await page.getByLabel('Name', { exact: true }).fill(names.location);
    await page.getByLabel('Priority', { exact: true }).fill('10');
    await page.getByLabel('Ships to (country codes separated by commas)').fill('DE, AT');
    await page.getByLabel('City', { exact: true }).fill('Hamburg');
    await page.getByLabel('Country code (e.g. DE)', { exact: true }).fill('DE');
    await page.getByRole('button', { name: 'Add location' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Saved ${names.location}.` })
      .waitFor();
    await page.getByRole('cell', { name: names.location, exact: true }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(names.location);
    await page.getByRole('button', { name: 'Add location' }).click();
    await page.locator('#location-name-error').waitFor();
    await look(page, 'admin-inventory-locations');

    // The grid: both products found by the run's name, counted at the new location.
    await page.getByRole('navigation', { name: 'Inventory sections' }).getByRole('link', { name: 'Stock' }).click();
    await page.getByRole('heading', { name: 'Stock', exact: true }).waitFor();
    await page.getByLabel('Product name or SKU').fill(run);
    await page.getByRole('button', { name: 'Find' }).click();
    // The page first lists the recently changed products: type only into the search's grid.
    await page.getByText('Stock of 2 variants by location').waitFor();
    const cell = (code) => page.getByLabel(`On hand of ${code} at ${names.location}`);
    await cell(sku.lantern).waitFor();
    await cell(sku.lantern).fill('5');
    await cell(sku.compass).fill('3');
    await page.getByRole('button', { name: 'Save changes (2)' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved 2 changes.' }).waitFor();
    const variant = lantern.variants[0].id;
    const counted = await api('GET', `/api/v1/admin/inventory/variants/${variant}/stock`);
    if (counted.on_hand !== 5 || counted.available !== 5) {
      throw new Error(`after the count the lantern has ${JSON.stringify(counted)}`);
    }
    await look(page, 'admin-inventory-stock');

    // A count below zero is refused in the cell, before anything is sent.
    await cell(sku.lantern).fill('-2');
    await page.getByRole('button', { name: 'Save changes (1)' }).click();
    await page.getByText('Give a whole number of 0 or more.').waitFor();

    // The lantern is written off: adjusted to 0 with a reason, as an adjustment of -5.
    await cell(sku.lantern).fill('0');
    await page.getByLabel('Reason').selectOption({ label: 'Damaged' });
    await page.getByLabel('Reference').fill(`Storm damage ${run}`);
    await page.getByRole('button', { name: 'Save changes (1)' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved 1 change.' }).waitFor();
    made.adjustedAt = Date.now();
    const adjusted = await api('GET', `/api/v1/admin/inventory/variants/${variant}/stock`);
    if (adjusted.on_hand !== 0 || adjusted.available !== 0) {
      throw new Error(`after the adjustment the lantern has ${JSON.stringify(adjusted)}`);
    }

    // The ledger records both changes, newest first.
    await page.getByRole('link', { name: `Ledger of ${sku.lantern}` }).click();
    await page.getByRole('heading', { name: `Ledger of ${sku.lantern}` }).waitFor();
    await page.getByRole('cell', { name: 'Damaged' }).waitFor();
    const changes = (await page.locator('tbody tr td:nth-child(4)').allTextContents()).map((s) => s.trim());
    if (JSON.stringify(changes) !== JSON.stringify(['-5', '+5'])) {
      throw new Error(`the ledger shows the changes ${JSON.stringify(changes)}`);
    }
    await look(page, 'admin-inventory-ledger');
    await page.context().close();
  });

  await journey('inventory: staff hold stock for a phone order and release it again', async () => {
    const { api, compass } = made;
    const page = await newPage();
    await page.goto(`${shop}/admin/inventory/reservations`);
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Reservations in force' }).waitFor();
    const reference = `Phone order ${run}`;
    await page.getByLabel('For (order number or customer)').fill(reference);
    await page.getByLabel('Product name or SKU').fill(sku.compass);
    await page.getByRole('button', { name: 'Find' }).click();
    await eventually(
      'the compass to be offered',
      async () => (await page.getByLabel('Variant').inputValue()) === compass.variants[0].id,
    );
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Add item' }).click();
    await page.getByText(`2 × ${sku.compass}`).waitFor();
    await page.getByRole('button', { name: 'Hold stock' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Holding stock for ${reference}.` })
      .waitFor();
    await page.getByRole('cell', { name: reference, exact: true }).waitFor();
    const held = await api('GET', `/api/v1/admin/inventory/variants/${compass.variants[0].id}/stock`);
    if (held.reserved !== 2 || held.available !== 1) throw new Error(`the hold left ${JSON.stringify(held)}`);
    await look(page, 'admin-inventory-reservations');
    await page.getByRole('button', { name: `Release ${reference}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Released ${reference}` })
      .waitFor();
    const released = await api('GET', `/api/v1/admin/inventory/variants/${compass.variants[0].id}/stock`);
    if (released.reserved !== 0 || released.available !== 3) {
      throw new Error(`the release left ${JSON.stringify(released)}`);
    }
    await page.context().close();
  });

  await journey('inventory: the storefront shows the lantern out of stock and "In stock only" hides it', async () => {
    const { lantern, category } = made;
    const page = await newPage();
    const availability = page.getByTestId('availability');
    const started = Date.now();
    const adjustedAt = made.adjustedAt ?? started;
    // The storefront's availability follows the change through events: wait for it, reloading.
    await eventually('the product page to say "Out of stock"', async () => {
      await page.goto(`${shop}/p/${lantern.slug.en}`);
      await page.getByRole('heading', { name: names.lantern }).waitFor();
      return (await availability.textContent())?.trim() === 'Out of stock';
    });
    const seconds = (from) => ((Date.now() - from) / 1000).toFixed(1);
    console.log(
      `  (the product page said "Out of stock" ${seconds(adjustedAt)} s after the adjustment was saved, ` +
        `${seconds(started)} s after this journey began looking)`,
    );
    await look(page, 'storefront-product-out-of-stock');

    await page.goto(`${shop}/c/${category.slug}`);
    await page.getByRole('heading', { name: names.category, level: 1 }).waitFor();
    const cards = async () =>
      (await page.locator('.product-card .product-name').allTextContents()).map((s) => s.trim()).sort();
    await eventually(
      'both products in the category',
      async () => JSON.stringify(await cards()) === JSON.stringify([names.compass, names.lantern].sort()),
    );
    await page.locator('.product-card', { hasText: names.lantern }).getByText('Out of stock').waitFor();
    await page.getByRole('checkbox', { name: 'In stock only' }).check();
    await eventually(
      'the lantern hidden',
      async () => JSON.stringify(await cards()) === JSON.stringify([names.compass]),
    );
    if (!page.url().includes('in_stock=true')) throw new Error(`the URL lacks the filter: ${page.url()}`);
    await look(page, 'storefront-category-in-stock');
    await page.context().close();
  });
}
