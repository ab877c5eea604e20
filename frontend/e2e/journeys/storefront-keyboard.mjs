// The shopper's main path with the keyboard alone: from the home page, Tab to the search box,
// type, pick a suggestion with the arrow keys, Tab to the product among the results, open it with
// Enter, and pick the other size with the arrow keys of its radio group. No mouse click anywhere.
//
// Runs after storefront-catalog.mjs, whose catalogue (the Tidewater Raincoat in sizes S and L) it
// browses. Called by run.mjs with { journey, newPage, look, shop, eventually }.
/* global HTMLInputElement, getComputedStyle -- read inside the page, where the browser defines them */

/** Presses Tab until `isTarget` holds for the focused element; fails after `limit` presses. */
async function tabTo(page, what, isTarget, limit = 40) {
  for (let presses = 0; presses < limit; presses++) {
    if (await page.evaluate(isTarget)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${what} cannot be reached with Tab`);
}

export default async function storefrontKeyboard({ journey, newPage, look, shop, eventually }) {
  await journey('a shopper goes from home to a chosen variant using only the keyboard', async () => {
    const page = await newPage();
    await page.goto(`${shop}/`);
    await page.getByRole('heading', { name: 'New arrivals' }).waitFor();

    // The skip link comes first, so keyboard users can jump past the header.
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
    if (first !== 'Skip to main content') throw new Error(`the first Tab lands on ${JSON.stringify(first)}`);

    await tabTo(page, 'the search box', () => document.activeElement?.getAttribute('role') === 'combobox');
    await page.keyboard.type('tidewater');
    await page.getByRole('option', { name: 'Tidewater Raincoat' }).waitFor();
    const search = page.getByRole('combobox', { name: 'Search products' });
    await eventually('the raincoat to be the active suggestion', async () => {
      await page.keyboard.press('ArrowDown');
      const active = await search.getAttribute('aria-activedescendant');
      return active && (await page.locator(`#${active}`).textContent())?.trim() === 'Tidewater Raincoat';
    });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Results for “Tidewater Raincoat”' }).waitFor();
    await page.locator('.product-card').first().waitFor();

    await tabTo(
      page,
      'the raincoat among the results',
      () =>
        document.activeElement?.tagName === 'A' &&
        !!document.activeElement.closest('.product-card') &&
        document.activeElement.textContent.includes('Tidewater Raincoat'),
      80,
    );
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tidewater Raincoat', level: 1 }).waitFor();

    const sku = page.getByTestId('sku');
    await eventually('the first size chosen', async () => (await sku.textContent())?.trim() === 'TIDE-S');
    await tabTo(page, 'the size picker', () => {
      const el = document.activeElement;
      return el instanceof HTMLInputElement && el.type === 'radio';
    });
    // Within a radio group the arrow keys choose; Tab would leave the group.
    await page.keyboard.press('ArrowRight');
    await eventually('the large size chosen', async () => (await sku.textContent())?.trim() === 'TIDE-L');
    if (!(await page.getByRole('radio', { name: 'L' }).isChecked())) throw new Error('L is not checked');
    // Focus stays visible where the shopper is: an outline on the chosen size.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    if (outline === 'none') throw new Error('the focused size shows no focus outline');
    await look(page, 'storefront-keyboard-variant');
    await page.context().close();
  });
}
