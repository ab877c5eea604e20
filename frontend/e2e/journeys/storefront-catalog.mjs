// The shopper's catalogue journeys: search with a typo, a category filtered by an attribute and
// a price, product cards with their pictures and reduced prices, a product page with its variant
// picker, currencies and German. The catalogue they browse is made here through the admin API
// first, so the journeys do not depend on demo data.
//
// Called by run.mjs with its helpers: { journey, newPage, look, ownerApi, shop, eventually }.
import { request } from 'node:http';
import { png } from './admin-catalog.mjs';
/* global performance -- read inside the page, where the browser defines it */

/**
 * A GET of the shop's page as a crawler would send it: no JavaScript, the shop's host name (on
 * the loopback address, where the shop's *.localhost name may not resolve outside Chromium).
 */
function crawl(shop, path) {
  const url = new URL(shop);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path, headers: { host: url.host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Uploads a picture of `productId`. The owner's API helper sends JSON only, so the upload goes
 * with an API key it creates (the shop is named by header: Node resolves no *.localhost names).
 */
async function uploadPicture(api, shop, productId, alt) {
  const { key } = await api('POST', '/api/v1/admin/api-keys', {
    name: 'Card pictures (journey)',
    scopes: ['catalog.manage'],
  });
  const origin = `http://127.0.0.1:${new URL(shop).port}`;
  const res = await fetch(
    `${origin}/api/v1/admin/catalog/products/${productId}/media?alt=${encodeURIComponent(alt)}&locale=en`,
    {
      method: 'POST',
      headers: { 'X-Tenant-ID': 'demo', Authorization: `Bearer ${key}`, 'Content-Type': 'image/png' },
      body: png(640, 480, [30, 64, 110]),
    },
  );
  if (!res.ok) throw new Error(`picture upload: ${res.status} ${await res.text()}`);
}

/** A product type, a category and three products of the shop (one pictured), through the owner's API. */
async function makeCatalogue(ownerApi, shop) {
  const api = await ownerApi();
  // Prices in euros and dollars, whichever of the two the shop's default currency is.
  const { default_currency: home } = await api('GET', '/api/v1/admin/catalog/currencies');
  await api('PUT', '/api/v1/admin/catalog/currencies', { currencies: ['EUR', 'USD'].filter((c) => c !== home) });
  const type = await api('POST', '/api/v1/admin/catalog/product-types', {
    name: 'Rainwear (journey)',
    attributes: [
      {
        code: 'shade',
        name: { en: 'Shade', de: 'Farbton' },
        kind: 'select',
        options: ['navy', 'ochre'],
        filterable: true,
      },
    ],
  });
  const category = await api('POST', '/api/v1/admin/catalog/categories', {
    name: { en: 'Rainy Days', de: 'Regentage' },
    description: { en: 'Everything for wet days.', de: 'Alles für nasse Tage.' },
    slug: 'rainy-days',
  });
  const product = (name, shade, variants, extra = {}) =>
    api('POST', '/api/v1/admin/catalog/products', {
      name,
      status: 'active',
      product_type_id: type.id,
      attributes: { shade },
      category_ids: [category.id],
      variants,
      ...extra,
    });
  await product(
    { en: 'Tidewater Raincoat', de: 'Tidewater Regenmantel' },
    'navy',
    [
      {
        sku: 'TIDE-S',
        option_values: { size: 'S' },
        prices: [
          { amount: 8900, currency: 'EUR', compare_at: 9900 },
          { amount: 9900, currency: 'USD' },
        ],
      },
      {
        sku: 'TIDE-L',
        option_values: { size: 'L' },
        prices: [
          { amount: 9900, currency: 'EUR' },
          { amount: 10900, currency: 'USD' },
        ],
      },
    ],
    {
      description: { en: 'A long coat that keeps the rain out.', de: 'Ein langer Mantel, der den Regen abhält.' },
      options: [{ name: 'size', values: ['S', 'L'] }],
    },
  );
  await product({ en: 'Harbour Poncho', de: 'Hafen-Poncho' }, 'ochre', [
    {
      sku: 'HARB-1',
      prices: [
        { amount: 3900, currency: 'EUR' },
        { amount: 4500, currency: 'USD' },
      ],
    },
  ]);
  const parka = await product({ en: 'Storm Parka', de: 'Sturmparka' }, 'navy', [
    {
      sku: 'STORM-1',
      prices: [
        { amount: 24900, currency: 'EUR' },
        { amount: 26900, currency: 'USD' },
      ],
    },
  ]);
  await uploadPicture(api, shop, parka.id, 'Storm parka, hood up');
}

/** The names on the product cards shown. */
async function cards(page) {
  return (await page.locator('.product-card .product-name').allTextContents()).map((s) => s.trim()).sort();
}

export async function run({ journey, newPage, look, ownerApi, shop, eventually }) {
  let ready = false;
  await journey('the catalogue for the shopper journeys is set up through the admin API', async () => {
    await makeCatalogue(ownerApi, shop);
    ready = true;
  });
  if (!ready) return;

  await journey('a shopper finds a product despite a typo, from the suggestions', async () => {
    const page = await newPage();
    await page.goto(`${shop}/`);
    await page.getByRole('heading', { name: 'New arrivals' }).waitFor();
    await page.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'Rainy Days' }).waitFor();
    await look(page, 'storefront-home');

    const search = page.getByRole('combobox', { name: 'Search products' });
    await search.pressSequentially('tidewatr');
    // The suggestions list offers the right name although the shopper mistyped it.
    await page.getByRole('option', { name: 'Tidewater Raincoat' }).waitFor();
    if ((await search.getAttribute('aria-expanded')) !== 'true') throw new Error('the suggestions are not announced');
    await look(page, 'storefront-suggestions');
    // Escape closes the list; Enter then searches for what was typed, which finds nothing itself…
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Results for “tidewatr”' }).waitFor();
    // … so the page asks "did you mean".
    const meant = page.locator('.did-you-mean').getByRole('link', { name: 'Tidewater Raincoat' });
    await meant.waitFor();
    await look(page, 'storefront-search-typo');
    await meant.click();
    await page.getByRole('heading', { name: 'Results for “Tidewater Raincoat”' }).waitFor();
    await eventually('the raincoat among the results', async () => (await cards(page)).includes('Tidewater Raincoat'));

    // Keyboard only: type, arrow down to the suggestion, Enter.
    await search.fill('');
    await search.pressSequentially('harbour pon');
    await page.getByRole('option', { name: 'Harbour Poncho' }).waitFor();
    await eventually('the poncho to be the active suggestion', async () => {
      await page.keyboard.press('ArrowDown');
      const active = await search.getAttribute('aria-activedescendant');
      return active && (await page.locator(`#${active}`).textContent())?.trim() === 'Harbour Poncho';
    });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Results for “Harbour Poncho”' }).waitFor();
    await eventually(
      'the poncho first',
      async () => (await page.locator('.product-name').first().textContent())?.trim() === 'Harbour Poncho',
    );
    await look(page, 'storefront-search');
    await page.context().close();
  });

  await journey('a shopper filters a category by an attribute and a price, and the URL keeps the filters', async () => {
    const page = await newPage();
    await page.goto(`${shop}/`);
    await page.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'Rainy Days' }).click();
    await page.getByRole('heading', { name: 'Rainy Days', level: 1 }).waitFor();
    const all = ['Harbour Poncho', 'Storm Parka', 'Tidewater Raincoat'];
    await eventually(
      'the three products of the category',
      async () => JSON.stringify(await cards(page)) === JSON.stringify(all),
    );
    await page.getByRole('checkbox', { name: 'navy (2)' }).check();
    await eventually(
      'the navy products only',
      async () => JSON.stringify(await cards(page)) === JSON.stringify(['Storm Parka', 'Tidewater Raincoat']),
    );
    if (!decodeURIComponent(page.url()).includes('attributes=shade:navy'))
      throw new Error(`the URL lacks the filter: ${page.url()}`);
    await page.getByLabel('To', { exact: true }).fill('150');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(
      'only the raincoat under 150',
      async () => JSON.stringify(await cards(page)) === JSON.stringify(['Tidewater Raincoat']),
    );
    if (!page.url().includes('max=150')) throw new Error(`the URL lacks the price: ${page.url()}`);
    await look(page, 'storefront-category-filtered');

    // The address is shareable: opened afresh it shows the same selection.
    const shared = page.url();
    const other = await newPage();
    await other.goto(shared);
    await eventually(
      'the shared filters applied',
      async () => JSON.stringify(await cards(other)) === JSON.stringify(['Tidewater Raincoat']),
    );
    if (!(await other.getByRole('checkbox', { name: /^navy/ }).isChecked()))
      throw new Error('the shared page lost the navy filter');
    await other.context().close();

    // Back undoes the price, then the colour.
    await page.goBack();
    await eventually(
      'the price filter undone',
      async () => JSON.stringify(await cards(page)) === JSON.stringify(['Storm Parka', 'Tidewater Raincoat']),
    );
    await page.goBack();
    await eventually('the colour filter undone', async () => JSON.stringify(await cards(page)) === JSON.stringify(all));
    await page.getByRole('combobox', { name: 'Sort by' }).selectOption('-price');
    await eventually(
      'the dearest first',
      async () => (await page.locator('.product-name').first().textContent())?.trim() === 'Storm Parka',
    );
    await page.context().close();
  });

  await journey('product cards show their picture or a placeholder, and a reduced price struck through', async () => {
    const page = await newPage();
    await page.goto(`${shop}/c/rainy-days`);
    await page.getByRole('combobox', { name: 'Currency' }).selectOption('EUR');
    const card = (name) => page.locator('.product-card').filter({ has: page.getByRole('heading', { name }) });
    // The picture's renderings are made by a job after the upload: until then the card has none.
    const picture = card('Storm Parka').getByRole('img', { name: 'Storm parka, hood up' });
    await eventually(
      'the parka’s picture on its card',
      async () => {
        if (await picture.count()) return true;
        await page.reload();
        await page.getByRole('heading', { name: 'Rainy Days', level: 1 }).waitFor();
        return false;
      },
      60_000,
    );
    const img = await picture.evaluate((el) => ({
      loading: el.getAttribute('loading'),
      srcset: el.getAttribute('srcset'),
      width: el.getAttribute('width'),
      height: el.getAttribute('height'),
    }));
    // Lazy, from the renderings, and sized before the file arrives (no layout shift).
    if (img.loading !== 'lazy' || !img.srcset?.includes(' 480w') || img.width !== '640' || img.height !== '480') {
      throw new Error(`the card's picture: ${JSON.stringify(img)}`);
    }
    await picture.scrollIntoViewIfNeeded();
    await eventually('the picture to load', () => picture.evaluate((el) => el.complete && el.naturalWidth > 0));
    // Without a picture, a placeholder that screen readers skip.
    if ((await card('Harbour Poncho').locator('img').count()) !== 0) throw new Error('the poncho shows a picture');
    await card('Harbour Poncho').locator('.product-placeholder[aria-hidden=true]').waitFor();
    // The raincoat's lowest price is reduced: the was-price is struck through and announced as such.
    const text = async (locator) => (await locator.textContent())?.replace(/\s+/g, ' ').trim();
    const price = card('Tidewater Raincoat').locator('.price');
    await eventually('the raincoat priced in euros', async () => (await text(price))?.includes('€89.00'));
    if (
      (await text(price.locator('s.compare-at'))) !== 'Was €99.00' ||
      !(await text(price)).includes('now from €89.00')
    ) {
      throw new Error(`the raincoat's card says ${await text(price)}`);
    }
    if ((await card('Storm Parka').locator('s').count()) !== 0) throw new Error('the parka shows a was-price');
    await look(page, 'storefront-product-cards');
    await page.context().close();
  });

  await journey('a shopper picks a variant, a currency and German on a product page', async () => {
    const page = await newPage();
    const started = Date.now();
    await page.goto(`${shop}/p/tidewater-raincoat`);
    await page.getByRole('heading', { name: 'Tidewater Raincoat', level: 1 }).waitFor();
    const interactive = Date.now() - started;
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { domInteractive: Math.round(nav.domInteractive), load: Math.round(nav.loadEventEnd) };
    });
    console.log(
      `  product page: heading shown ${interactive} ms after navigation (DOM interactive ${timing.domInteractive} ms, load ${timing.load} ms)`,
    );

    await page.getByRole('combobox', { name: 'Currency' }).selectOption('EUR');
    const price = page.getByTestId('price');
    const sku = page.getByTestId('sku');
    const text = async (locator) => (await locator.textContent())?.replace(/\s+/g, ' ').trim();
    await eventually('the first size priced', async () => (await text(price))?.includes('€89.00'));
    if (!(await text(price)).includes('€99.00')) throw new Error(`no compare-at price: ${await text(price)}`);
    if ((await page.locator('.compare-at').count()) !== 1)
      throw new Error('the compare-at price is not struck through');
    if ((await text(sku)) !== 'TIDE-S') throw new Error(`SKU ${await text(sku)}`);
    await page.getByRole('radio', { name: 'L' }).check();
    await eventually('the large size priced', async () => (await text(price)) === '€99.00');
    if ((await text(sku)) !== 'TIDE-L') throw new Error(`SKU ${await text(sku)}`);
    await page.getByText('Available', { exact: true }).waitFor();
    await look(page, 'storefront-product');

    await page.getByRole('combobox', { name: 'Currency' }).selectOption('USD');
    await eventually('the price in dollars', async () => (await text(price)) === '$109.00');

    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { name: 'Tidewater Regenmantel', level: 1 }).waitFor();
    await eventually('the German address', async () => new URL(page.url()).pathname === '/p/tidewater-regenmantel');
    if (new URL(page.url()).searchParams.get('lang') !== 'de') throw new Error(`no lang in ${page.url()}`);
    await page.getByText('Ein langer Mantel, der den Regen abhält.').waitFor();
    await page.getByRole('heading', { name: 'Beschreibung' }).waitFor();
    await eventually('German prices', async () => (await text(price))?.includes('109,00'));
    await look(page, 'storefront-product-de');

    // The German address opened afresh shows the German page (the server's canonical link).
    const fresh = await newPage();
    await fresh.goto(page.url());
    await fresh.getByRole('heading', { name: 'Tidewater Regenmantel', level: 1 }).waitFor();
    await fresh.context().close();
    await page.context().close();
  });

  await journey('a product address fetched without JavaScript describes the product', async () => {
    const res = await crawl(shop, '/p/tidewater-raincoat');
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    const html = res.body;
    if (!html.includes('<title>Tidewater Raincoat |')) throw new Error('no product title');
    const data = html.match(/<script type="application\/ld\+json">(.*?)<\/script>/s)?.[1];
    const product = JSON.parse(data ?? 'null');
    // The small size in the shop's default currency, whichever of the two that is.
    const small = product?.offers?.find((o) => o.sku === 'TIDE-S');
    const priced = { EUR: '89.00', USD: '99.00' }[small?.priceCurrency] === small?.price;
    if (product?.['@type'] !== 'Product' || product.name !== 'Tidewater Raincoat' || !priced) {
      throw new Error(`JSON-LD: ${data}`);
    }
    const missing = await crawl(shop, '/p/no-such-product');
    if (missing.status !== 404) throw new Error(`an unknown product answered ${missing.status}`);
    const sitemap = (await crawl(shop, '/sitemap.xml')).body;
    if (!sitemap.includes('/p/tidewater-regenmantel?lang=de')) throw new Error('the sitemap lacks the German page');
  });

  await journey('the /products/<slug> address opens the product page, with /p/<slug> as its canonical', async () => {
    const alias = await crawl(shop, '/products/tidewater-raincoat');
    if (alias.status !== 200 || !alias.body.includes('<title>Tidewater Raincoat |')) {
      throw new Error(`the alias answered ${alias.status} without the product's title`);
    }
    if (!/<link rel="canonical" href="[^"]*\/p\/tidewater-raincoat"/.test(alias.body)) {
      throw new Error('the alias does not name /p/tidewater-raincoat as canonical');
    }
    const page = await newPage();
    await page.goto(`${shop}/products/tidewater-raincoat`);
    await page.getByRole('heading', { name: 'Tidewater Raincoat', level: 1 }).waitFor();
    await page.context().close();
  });
}
