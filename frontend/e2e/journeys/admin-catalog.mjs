// The admin's catalog screens, as a merchant uses them: product type, category tree, a product
// with two variants priced in two currencies, a concurrent change (412), publishing, a rule-based
// collection whose matches show as its rule is typed, and the product reaching the storefront
// API. Run by ../run.mjs, which passes its helpers in (`journey`, `newPage`, `look`,
// `eventually`, the shop's origin and sign-ins).

import { Buffer } from 'node:buffer';
import { crc32, deflateSync } from 'node:zlib';

/** A small PNG of one colour, made here so the journey needs no picture file. */
export function png(width, height, [r, g, b]) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => [r, g, b][i % 3])]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

/** A staff API session of the owner that can send headers (If-Match) the shared helper cannot. */
export async function ownerSession({ origin, signIns }) {
  const res = await fetch(`${origin}/api/v1/admin/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Tenant-ID': 'demo' },
    body: JSON.stringify({ email: 'owner@demo.example', password: signIns.owner, client: 'api' }),
  });
  if (!res.ok) throw new Error(`owner login: ${res.status} ${await res.text()}`);
  const { access_token } = await res.json();
  return async (method, path, body, headers = {}) => {
    const answer = await fetch(`${origin}${path}`, {
      method,
      headers: {
        'Content-Type': 'application/json',
        'X-Tenant-ID': 'demo',
        Authorization: `Bearer ${access_token}`,
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
    return answer.status === 204 ? null : answer.json();
  };
}

export default async function adminCatalogJourneys({
  journey,
  newPage,
  look,
  eventually,
  linkFromMailbox,
  origin,
  shop,
  signIns,
}) {
  const run = Date.now().toString(36);
  const names = {
    type: `Shirt ${run}`,
    clothing: `Clothing ${run}`,
    shirts: `Shirts ${run}`,
    product: `Linen shirt ${run}`,
    collection: `Summer ${run}`,
  };
  let productId = null;

  await journey('a merchant builds a catalog in the admin and the storefront shows it', async () => {
    const api = await ownerSession({ origin, signIns });
    const sold = await api('GET', '/api/v1/admin/catalog/currencies');
    const main = sold.default_currency;
    const second = main === 'EUR' ? 'USD' : 'EUR';

    const page = await newPage();
    const nav = () => page.getByRole('navigation', { name: 'Admin' });
    await page.goto(`${shop}/admin/products`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Products', exact: true }).waitFor();

    // Currencies: the shop sells in a second one.
    await nav().getByRole('link', { name: 'Currencies and search' }).click();
    await page.getByRole('heading', { name: 'Currencies sold' }).waitFor();
    const others = sold.currencies.filter((c) => c !== main);
    if (!others.includes(second)) {
      const field = page.getByLabel('Other currencies (ISO codes separated by commas)');
      await field.fill([...others, second].join(', '));
      await page.getByRole('button', { name: 'Save currencies' }).click();
      await page.getByRole('status').filter({ hasText: 'Currencies saved.' }).waitFor();
    }
    await page.getByLabel('Words that mean the same (separated by commas)').fill(`tee${run}, shirt${run}`);
    await page.getByRole('button', { name: 'Add synonyms' }).click();
    await page.getByText(`tee${run} = shirt${run}`).waitFor();
    await look(page, 'admin-catalog-settings');

    // A product type with a select attribute.
    await nav().getByRole('link', { name: 'Product types' }).click();
    await page.getByRole('heading', { name: 'Product types', exact: true }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(names.type);
    await page.getByRole('button', { name: 'Add an attribute' }).click();
    await page.getByLabel('Code').fill('fit');
    await page.getByLabel('Name (English)').fill('Fit');
    await page.getByLabel('Kind').selectOption('select');
    await page.getByLabel('Values (separated by commas)').fill('slim, regular');
    await page.getByLabel('Shoppers can filter by it').check();
    await page.getByRole('button', { name: 'Create product type' }).click();
    await page.getByRole('heading', { name: names.type }).waitFor();
    await look(page, 'admin-product-types');

    // A category tree: Shirts inside Clothing; moving Clothing below Shirts is a loop.
    await nav().getByRole('link', { name: 'Categories' }).click();
    await page.getByRole('heading', { name: 'Categories', exact: true }).waitFor();
    await page.getByLabel('Name (English)').fill(names.clothing);
    await page.getByRole('button', { name: 'Add category' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Added ${names.clothing}` })
      .waitFor();
    await page.getByLabel('Name (English)').fill(names.shirts);
    await page.getByLabel('Inside').selectOption({ label: names.clothing });
    await page.getByRole('button', { name: 'Add category' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Added ${names.shirts}` })
      .waitFor();
    const shirtsItem = page.locator('.tree .tree .tree-name', { hasText: names.shirts });
    await shirtsItem.waitFor();
    await page.getByLabel(`Move ${names.clothing} to`).selectOption({ label: `${names.clothing} › ${names.shirts}` });
    const loop = page.getByRole('alert').filter({ hasText: 'loop' });
    await loop.waitFor();
    await look(page, 'admin-categories-loop');

    // A product with two variants priced in two currencies; a duplicate SKU is named under its field.
    await nav().getByRole('link', { name: 'Products' }).click();
    await page.getByRole('link', { name: 'New product' }).click();
    await page.getByRole('heading', { name: 'New product' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(names.product);
    await page.getByLabel('Description', { exact: true }).fill('Breathable linen, cut for summer.');
    await page.getByLabel('Product type').selectOption({ label: names.type });
    await page.getByLabel('Fit').selectOption('slim');
    await page.getByLabel(`${names.clothing} › ${names.shirts}`).check();
    await page.getByLabel('Tags').fill(`summer${run}, linen`);
    await page.getByRole('button', { name: 'Add an option' }).click();
    await page.getByLabel('Option 1 name').fill('Size');
    await page.getByLabel('Values (separated by commas)').fill('S, M');
    await page.getByRole('button', { name: 'Add every combination of options' }).click();
    // The click rebuilds the variant rows: type only once both rows stand, and check each value
    // stuck (a value typed into a row being replaced is lost, and the save would fail elsewhere).
    await page.getByLabel('SKU of variant 2').waitFor();
    const prices = [
      ['19.90', '24.90'],
      ['21.90', '26.90'],
    ];
    for (const [i, [first, other]] of prices.entries()) {
      await page.getByLabel(`SKU of variant ${i + 1}`).fill(`LIN-${run}-S`);
      await page.getByLabel(`Price in ${main} of variant ${i + 1}`, { exact: true }).fill(first);
      await page.getByLabel(`Price in ${second} of variant ${i + 1}`, { exact: true }).fill(other);
      const sku = page.getByLabel(`SKU of variant ${i + 1}`);
      await eventually(`variant ${i + 1} to keep its SKU`, async () => (await sku.inputValue()) === `LIN-${run}-S`);
    }
    await page.getByLabel(`Compare-at price in ${main} of variant 1`).fill('29.90');
    await page.getByRole('button', { name: 'Create product' }).click();
    const skuError = page.locator('#v1-sku-error, #v0-sku-error').first();
    await skuError.waitFor();
    await look(page, 'admin-product-sku-error');
    await page.getByLabel('SKU of variant 2').fill(`LIN-${run}-M`);
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await eventually('the editor to show the saved product', () =>
      /\/admin\/products\/[0-9a-f-]{36}$/.test(page.url()),
    );
    productId = page.url().split('/').pop();
    await page.getByLabel('SKU of variant 2').waitFor();
    const created = await api('GET', `/api/v1/admin/catalog/products/${productId}`);
    if (created.variants.length !== 2) throw new Error(`${created.variants.length} variants saved, not 2`);
    const currencies = new Set(created.variants.flatMap((v) => v.prices.map((p) => p.price.currency)));
    if (!currencies.has(main) || !currencies.has(second)) throw new Error(`prices in ${[...currencies]}`);
    const small = created.variants.find((v) => v.option_values.Size === 'S');
    const price = small?.prices.find((p) => p.price.currency === main);
    if (price?.price.amount !== 1990 || price?.compare_at?.amount !== 2990) {
      throw new Error(`the S variant's ${main} price was saved as ${JSON.stringify(price)}`);
    }
    if (created.attributes.fit !== 'slim') throw new Error(`attributes saved as ${JSON.stringify(created.attributes)}`);
    await look(page, 'admin-product-editor');

    // Someone else changes the product meanwhile: saving shows the 412 and offers a reload.
    await api(
      'PATCH',
      `/api/v1/admin/catalog/products/${productId}`,
      { tax_class: 'standard' },
      {
        'If-Match': `"${created.version}"`,
      },
    );
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Save product' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed this' });
    await conflict.waitFor();
    await look(page, 'admin-product-conflict');
    await conflict.getByRole('button', { name: 'Reload and reapply' }).click();
    await conflict.waitFor({ state: 'detached' });
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Save product' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const published = await api('GET', `/api/v1/admin/catalog/products/${productId}`);
    if (published.status !== 'active' || published.tax_class !== 'standard') {
      throw new Error(`after the reload the product is ${published.status} with tax class ${published.tax_class}`);
    }

    // The change history lists what happened.
    await page.getByRole('tab', { name: 'Change history' }).click();
    await page.getByText('Created', { exact: true }).waitFor();
    await look(page, 'admin-product-history');

    // Pictures: a file that is not an image is refused by its name; a PNG is uploaded (through
    // the file button: Playwright cannot synthesise a drop of real files), gets its thumbnails
    // and an alt text.
    await page.getByRole('tab', { name: 'Details' }).click();
    const chooser = page.locator('#media-files');
    await chooser.setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just some notes') });
    await page.getByRole('alert').filter({ hasText: 'notes.png:' }).waitFor();
    await chooser.setInputFiles({ name: 'linen.png', mimeType: 'image/png', buffer: png(96, 64, [43, 108, 176]) });
    await page.locator('.media-item img').waitFor({ timeout: 60_000 });
    const alt = page.getByLabel('Alt text (English) of picture 1');
    await alt.fill('Linen shirt, folded');
    await alt.press('Tab');
    await page.getByRole('status').filter({ hasText: 'Alt text saved.' }).waitFor();
    await look(page, 'admin-product-media');

    // The list finds it, with its status, price and variants.
    await nav().getByRole('link', { name: 'Products' }).click();
    await page.getByLabel('Name', { exact: true }).fill(names.product);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row', { name: new RegExp(names.product) });
    await row.getByText('Active').waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    if (cells.at(-1)?.trim() !== '2') throw new Error(`the list shows ${cells.at(-1)} variants`);
    if (!cells.some((c) => c.includes('19.90') && c.includes('21.90'))) {
      throw new Error(`the list shows the price as ${cells.join(' | ')}`);
    }
    await look(page, 'admin-products');

    // A rule-based collection: while the merchant types the rule, the editor says (and announces
    // politely) how many products it matches, or why it does not parse, before anything is saved.
    await nav().getByRole('link', { name: 'Collections' }).click();
    await page.getByRole('button', { name: 'New collection' }).click();
    await page.getByLabel('Name (English)').fill(names.collection);
    await page.getByLabel('Every product a rule matches').check();
    const rule = page.getByLabel('Rule', { exact: true });
    const matches = (text) => page.locator('#rule-matches-count[aria-live=polite]', { hasText: text });
    await rule.pressSequentially('colour = red', { delay: 30 });
    await page.locator('#collection-rule-error', { hasText: 'unknown field colour' }).waitFor();
    if ((await rule.getAttribute('aria-invalid')) !== 'true') throw new Error('the rule field is not marked invalid');
    await rule.fill('');
    await rule.pressSequentially(`tag = summer${run} and price < 1`, { delay: 30 });
    await matches('No product matches this rule.').waitFor();
    if (await page.locator('#collection-rule-error').count()) throw new Error('the parse error outlived the rule');
    for (let i = 0; i < ' and price < 1'.length; i++) await rule.press('Backspace');
    await matches('1 product matches this rule.').waitFor();
    const matched = page.locator('.rule-matches li', { hasText: names.product });
    await matched.getByText('Active').waitFor();
    await look(page, 'admin-collection-rule-preview');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Saved ${names.collection}` })
      .waitFor();
    await page.locator('.preview').getByRole('link', { name: names.product }).waitFor();
    await look(page, 'admin-collection-rule');
    await page.context().close();

    // Shoppers get it from the storefront API.
    const slug = published.slug.en ?? Object.values(published.slug)[0];
    await eventually('the product on the storefront API', async () => {
      // Node resolves no *.localhost names: the shop is named by header instead of by host.
      const res = await fetch(`${origin}/api/v1/store/catalog/products/${slug}`, {
        headers: { 'X-Tenant-ID': 'demo' },
      });
      if (!res.ok) return false;
      const body = await res.json();
      return body.name === names.product && body.media.length === 1 && body.media[0].alt === 'Linen shirt, folded';
    });

    // …and the product page shows the picture.
    const shopper = await newPage();
    await shopper.goto(`${shop}/p/${slug}`);
    const picture = shopper.getByRole('img', { name: 'Linen shirt, folded' });
    await picture.waitFor();
    await eventually('the picture to load', () => picture.evaluate((img) => img.complete && img.naturalWidth > 0));
    await look(shopper, 'storefront-product-picture');
    await shopper.context().close();
  });

  await journey('the catalog screens on a phone', async () => {
    if (!productId) throw new Error('the catalog journey made no product');
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(`${shop}/admin/sign-in`);
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${shop}/admin/products/${productId}`);
    await page.getByRole('heading', { name: names.product }).waitFor();
    await page.getByLabel('SKU of variant 2').waitFor();
    await page.goto(`${shop}/admin/categories`);
    await page.getByText(names.shirts, { exact: true }).waitFor();
    await look(page, 'admin-categories');
    await page.context().close();
  });

  await journey('staff who may only read the catalog see products but cannot edit them', async () => {
    if (!productId) throw new Error('the catalog journey made no product');
    const api = await ownerSession({ origin, signIns });
    await api('POST', '/api/v1/admin/roles', {
      key: `reader_${run}`,
      name: 'Catalog reader',
      permissions: ['catalog.read'],
    });
    const member = `reader.${run}@demo.example`;
    const password = 'reading is all I do 42';
    await api('POST', '/api/v1/admin/staff', { email: member, name: 'Rita Reader', roles: [`reader_${run}`] });
    const page = await newPage();
    await page.goto(await linkFromMailbox(member, '/admin/accept-invitation?token='));
    await page.getByLabel('New password').fill(password);
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(member);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Products' }).click();
    await page.getByRole('heading', { name: 'Products', exact: true }).waitFor();
    if (await page.getByRole('link', { name: 'New product' }).count())
      throw new Error('a reader is offered New product');
    await page.goto(`${shop}/admin/products/${productId}`);
    await page.getByRole('heading', { name: names.product }).waitFor();
    if (!(await page.getByLabel('Name', { exact: true }).isDisabled())) throw new Error('a reader can edit the name');
    if (await page.getByRole('button', { name: 'Save product' }).count()) throw new Error('a reader is offered Save');
    await look(page, 'admin-product-read-only');
    // The editor for a new product is not theirs: the deep link leads back to the overview.
    await page.goto(`${shop}/admin/products/new`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.context().close();
  });
}
