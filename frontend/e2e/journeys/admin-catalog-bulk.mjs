// The catalog's work on many products at once, as a merchant does it in the admin: a CSV import
// with one bad row (its line number shown), a wrong header refused at once, a 10 % price rise on
// two selected products watched to the end, and an export downloaded. Run by ../run.mjs.
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { ownerSession } from './admin-catalog.mjs';

export default async function adminCatalogBulkJourneys({ journey, newPage, look, eventually, origin, shop, signIns }) {
  const run = Date.now().toString(36);

  await journey('a merchant imports a CSV, raises two prices by 10 % and exports the catalog', async () => {
    const api = await ownerSession({ origin, signIns });
    const { default_currency: currency } = await api('GET', '/api/v1/admin/catalog/currencies');
    const names = [`Bulk mug ${run}`, `Bulk cup ${run}`];
    const page = await newPage();
    await page.goto(`${shop}/admin/products`);
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Products', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Import / export' }).click();
    await page.getByRole('heading', { name: 'Import and export products' }).waitFor();

    // A header the catalog does not know is refused before any task starts, naming the column.
    const file = page.getByLabel('CSV file', { exact: true });
    await file.setInputFiles({
      name: 'wrong.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`product_handle,sku,colour\nx-${run},X-${run},red\n`),
    });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await page.getByRole('alert').filter({ hasText: 'colour' }).waitFor();
    await look(page, 'admin-catalog-import-header');

    // Two good rows and one bad one (line 4, counting the header as line 1): the two are imported.
    const csv = [
      `product_handle,sku,name,status,price_${currency}`,
      `bulk-mug-${run},MUG-${run},${names[0]},active,10.00`,
      `bulk-cup-${run},CUP-${run},${names[1]},active,20.00`,
      `bulk-bad-${run},BAD-${run},Bad ${run},sideways,5.00`,
    ].join('\n');
    await file.setInputFiles({ name: 'products.csv', mimeType: 'text/csv', buffer: Buffer.from(`${csv}\n`) });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const importTask = page.locator('admin-task-progress').first();
    await importTask.getByText('Finished', { exact: true }).waitFor();
    const refused = importTask
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'status', exact: true }) });
    const line = (await refused.getByRole('cell').first().textContent())?.trim();
    if (line !== '4') throw new Error(`the bad row is reported on line ${line}, not 4`);
    await look(page, 'admin-catalog-import');

    // Select both imported products and raise their prices by 10 %.
    await page.getByRole('link', { name: '← Products' }).click();
    await page.getByLabel('Name', { exact: true }).fill(`Bulk `);
    await page.getByRole('button', { name: 'Search' }).click();
    for (const name of names) await page.getByLabel(`Select ${name}`).check();
    await page.getByLabel('Change', { exact: true }).selectOption('percent');
    await page.getByLabel('Percent (negative for a discount)').fill('10');
    await page.getByRole('button', { name: 'Apply to 2 products' }).click();
    const bulkTask = page.locator('admin-task-progress');
    await bulkTask.getByText('Finished', { exact: true }).waitFor();
    await look(page, 'admin-catalog-bulk-prices');
    const found = await api('GET', `/api/v1/admin/catalog/products?name=${encodeURIComponent(names[0])}`);
    const mug = found.items.find((p) => Object.values(p.name).includes(names[0]));
    const price = mug?.variants[0]?.prices.find((p) => p.price.currency === currency)?.price.amount;
    if (price !== 1100) throw new Error(`the mug costs ${price} after a 10 % rise from 1000`);
    // The list was reloaded when the task finished: it shows the new price.
    await eventually('the list to show the raised price', async () =>
      (await page.getByRole('row', { name: new RegExp(names[0]) }).textContent())?.includes('11.00'),
    );

    // Export everything and download the file.
    await page.getByRole('link', { name: 'Import / export' }).click();
    await page.getByRole('button', { name: 'Export all' }).click();
    const download = page.getByRole('link', { name: /^Download / });
    await download.waitFor();
    await look(page, 'admin-catalog-export');
    const [saved] = await Promise.all([page.waitForEvent('download'), download.click()]);
    const text = await readFile(await saved.path(), 'utf8');
    if (!text.includes(`MUG-${run}`) || !text.includes('11.00')) {
      throw new Error(`the export lacks the mug at its new price:\n${text.slice(0, 400)}`);
    }
    if (text.includes(`BAD-${run}`)) throw new Error('the refused row was imported');
    await page.context().close();
  });
}
