import { TestBed } from '@angular/core/testing';
import { I18n, client } from 'shared';
import { CATALOG_PRODUCT } from '../../texts/catalog-product';
import { ProductMediaSection, moved, uploadRefusal } from './product-media';

function medium(id: string, position: number, version = 1) {
  return {
    id,
    position,
    version,
    product_id: 'p1',
    alt: {},
    status: 'ready',
    content_type: 'image/png',
    width: 64,
    height: 48,
    byte_size: 100,
    original_url: `/o/${id}`,
    thumbnails: [{ url: `/t/${id}/160`, width: 160, height: 120, content_type: 'image/webp' }],
    created_at: '2026-01-01T00:00:00Z',
    created_by: 'user:1',
    modified_at: '2026-01-01T00:00:00Z',
    modified_by: 'user:1',
  };
}

function json(body: unknown, status = 200): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

describe('product media', () => {
  it('says why a file was refused, naming the file, in the member’s language', () => {
    const i18n = new I18n();
    i18n.register(CATALOG_PRODUCT);
    i18n.use('en');
    const problem = { type: 'about:blank', title: 'Too large', detail: '', status: 413 };
    expect(uploadRefusal('big.jpg', problem, 413, i18n)).toBe('big.jpg is too large: an image may be at most 20 MB.');
    const notImage = {
      type: 'about:blank',
      title: 'Invalid',
      detail: '',
      status: 422,
      errors: [{ field: 'file', message: 'is not an image' }],
    };
    expect(uploadRefusal('notes.txt', notImage, 422, i18n)).toBe('notes.txt: is not an image');
    i18n.use('de');
    expect(uploadRefusal('big.jpg', problem, 413, i18n)).toBe(
      'big.jpg ist zu groß: Ein Bild darf höchstens 20 MB groß sein.',
    );
    i18n.use('en');
  });

  it('moves an item within the list', () => {
    expect(moved(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moved(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b']);
  });

  describe('the section', () => {
    let sent: { method: string; url: string; headers: Headers; body: string }[];
    let list: ReturnType<typeof medium>[];

    beforeEach(() => {
      client.setConfig({ baseUrl: 'http://shop.test' });
      sent = [];
      list = [medium('m1', 0), medium('m2', 1)];
      vi.stubGlobal('fetch', async (request: Request) => {
        const url = new URL(request.url).pathname;
        sent.push({ method: request.method, url, headers: request.headers, body: await request.text() });
        if (request.method === 'PUT' && url.endsWith('/media/order')) {
          const ids: string[] = JSON.parse(sent.at(-1)!.body).media_ids;
          list = ids.map((id, i) => ({ ...list.find((m) => m.id === id)!, position: i }));
          return json({ items: list, product_version: 8 });
        }
        if (request.method === 'POST') {
          return json(
            {
              type: 'about:blank',
              title: 'Invalid',
              status: 422,
              errors: [{ field: 'file', message: 'is not an image' }],
            },
            422,
          );
        }
        return json({ items: list, product_version: 7 });
      });
    });

    afterEach(() => vi.unstubAllGlobals());

    async function section() {
      const fixture = TestBed.createComponent(ProductMediaSection);
      fixture.componentRef.setInput('productId', 'p1');
      fixture.componentRef.setInput('canManage', true);
      const versions: number[] = [];
      fixture.componentInstance.productVersion.subscribe((v) => versions.push(v));
      const element: HTMLElement = fixture.nativeElement;
      await vi.waitFor(async () => {
        await fixture.whenStable();
        expect(element.querySelectorAll('.media-item').length).toBe(2);
      });
      return { fixture, element, versions };
    }

    it('moves a picture right with its button, sending the product version', async () => {
      const { fixture, element, versions } = await section();
      expect(versions).toEqual([7]);
      element.querySelector<HTMLButtonElement>('[aria-label="Move picture 1 right"]')!.click();
      await vi.waitFor(async () => {
        await fixture.whenStable();
        expect(versions).toEqual([7, 8]);
      });
      const order = sent.find((s) => s.method === 'PUT')!;
      expect(order.headers.get('If-Match')).toBe('"7"');
      expect(JSON.parse(order.body)).toEqual({ media_ids: ['m2', 'm1'] });
      const shown = [...element.querySelectorAll<HTMLImageElement>('.media-item img')].map((i) =>
        i.getAttribute('src'),
      );
      expect(shown).toEqual(['/t/m2/160', '/t/m1/160']);
      expect(element.querySelector('[role=status]')?.textContent).toContain('Picture moved to position 2 of 2.');
    });

    it('shows why an upload was refused', async () => {
      const { fixture, element } = await section();
      const input = element.querySelector<HTMLInputElement>('input[type=file]')!;
      const file = new File(['hello'], 'notes.png', { type: 'image/png' });
      Object.defineProperty(input, 'files', { value: [file] });
      input.dispatchEvent(new Event('change'));
      await vi.waitFor(async () => {
        await fixture.whenStable();
        expect(element.querySelector('[role=alert]')?.textContent).toContain('notes.png: is not an image');
      });
      const upload = sent.find((s) => s.method === 'POST')!;
      expect(upload.url).toBe('/api/v1/admin/catalog/products/p1/media');
      expect(upload.headers.get('Content-Type')).toBe('image/png');
      expect(upload.body).toBe('hello');
    });
  });
});
