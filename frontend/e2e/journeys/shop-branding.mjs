// The shop's branding, as a merchant sets it: a country, a brand colour and a logo in the shop
// settings; the storefront's header then shows the logo and the colour's accent stripe. Run by
// ../run.mjs, which passes its helpers in.
import { Buffer } from 'node:buffer';
import { png } from './admin-catalog.mjs';

export default async function shopBrandingJourneys({ journey, newPage, look, eventually, shop, signIns }) {
  await journey('a merchant brands the shop and the storefront shows the logo', async () => {
    const page = await newPage();
    await page.goto(`${shop}/admin/shop-settings`);
    await page.getByRole('heading', { name: "Sign in to your shop's admin" }).waitFor();
    await page.getByLabel('Email').fill('owner@demo.example');
    await page.getByLabel('Password').fill(signIns.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Shop settings' }).waitFor();

    // A colour that is not one is named under its field.
    await page.getByLabel('Brand colour', { exact: true }).fill('teal');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#shop-brand-colour-error').waitFor();
    await page.getByLabel('Brand colour', { exact: true }).fill('#0f766e');
    await page.getByLabel('Country').fill('de');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    if ((await page.getByLabel('Country').inputValue()) !== 'DE') throw new Error('the country was not saved as DE');

    // A file that is not an image is refused by its name; a PNG becomes the logo.
    const chooser = page.getByLabel('Upload a logo');
    await chooser.setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
    await page.getByRole('alert').filter({ hasText: 'logo.png:' }).waitFor();
    await chooser.setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png(240, 60, [15, 118, 110]) });
    await page.getByRole('img', { name: "The shop's logo" }).waitFor();
    await look(page, 'admin-shop-branding');
    await page.context().close();

    const shopper = await newPage();
    await shopper.goto(`${shop}/`);
    const logo = shopper.locator('header .shop-logo');
    await logo.waitFor();
    await eventually('the logo to load', () => logo.evaluate((img) => img.complete && img.naturalWidth > 0));
    const accent = await shopper
      .locator('shop-root')
      .evaluate((root) =>
        root.ownerDocument.defaultView.getComputedStyle(root).getPropertyValue('--shop-accent').trim(),
      );
    if (accent !== '#0f766e') throw new Error(`the storefront's accent is ${accent}`);
    await look(shopper, 'storefront-branded');
    await shopper.context().close();
  });
}
