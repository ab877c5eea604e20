import { ChangeDetectionStrategy, Component, DestroyRef, OnInit, inject, input, output, signal } from '@angular/core';
import {
  I18n,
  ProblemAlert,
  deleteProductMedia,
  listProductMedia,
  outcome,
  reorderProductMedia,
  updateProductMedia,
  uploadProductMedia,
  type Problem,
  type ProductMediaList,
} from 'shared';
import { CATALOG_PRODUCT } from '../../texts/catalog-product';
import { CatalogShop, ifMatch, languageName } from './catalog-support';

type Medium = ProductMediaList['items'][number];

/** A file on its way to the server, or refused by it (kept on screen until dismissed). */
interface Upload {
  key: number;
  name: string;
  failed: string | null;
}

/** The server's limit, said in the merchant's words when it refuses a file (413). */
const LIMIT = '20 MB';

/** Why the server refused a file, in a sentence that names the file (`i18n` has the editor's texts). */
export function uploadRefusal(name: string, problem: Problem, status: number, i18n: I18n): string {
  if (status === 413) return i18n.t('catalog.media.too-large', { name, limit: LIMIT });
  const field = problem.errors?.find((e) => e.field === 'file');
  const reason = field ? field.message : `${problem.title}${problem.detail ? ` ${problem.detail}` : ''}`;
  return i18n.t('catalog.media.refused', { name, reason });
}

/** The media list with one item moved from `from` to `to` (a new array). */
export function moved<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items];
  const [item] = next.splice(from, 1);
  next.splice(Math.max(0, Math.min(to, next.length)), 0, item);
  return next;
}

/**
 * A product's pictures: drop files (or choose them) to upload, each shown with its progress or
 * the reason it was refused; the uploaded ones in order, moved by dragging or by the "move"
 * buttons, each with its alt text per language and a delete button. Every media write bumps the
 * product's version, so the editor is told the new one (its next save would otherwise be a 412).
 */
@Component({
  selector: 'admin-product-media',
  imports: [ProblemAlert],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styles: `
    .drop-zone {
      border: 2px dashed var(--line);
      border-radius: var(--radius);
      padding: var(--space-3);
      text-align: center;
      background: var(--paper-alt);
    }
    .drop-zone.over {
      border-color: var(--brand);
      background: var(--paper);
    }
    .media-grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr));
      gap: var(--space-3);
      list-style: none;
      padding: 0;
      margin: var(--space-3) 0 0;
    }
    .media-item {
      border: 1px solid var(--line-soft);
      border-radius: var(--radius);
      padding: var(--space-2);
      background: var(--paper);
    }
    .media-item[draggable='true'] {
      cursor: grab;
    }
    .media-item.drop-here {
      outline: 3px solid var(--brand);
    }
    .media-item img,
    .media-pending {
      display: block;
      width: 100%;
      aspect-ratio: 1;
      object-fit: contain;
      background: var(--paper-alt);
    }
    .media-pending {
      display: grid;
      place-items: center;
      color: var(--ink-muted);
    }
    .media-actions {
      display: flex;
      flex-wrap: wrap;
      gap: var(--space-1);
      margin-top: var(--space-2);
    }
    .drop-zone input:focus-visible + label {
      outline: 3px solid var(--focus);
      outline-offset: 2px;
    }
    .uploads progress {
      width: 100%;
    }
  `,
  template: `<section class="card" aria-labelledby="media-title">
    <h2 id="media-title">{{ i18n.t('catalog.media.title') }}</h2>
    <agora-problem-alert [problem]="problem()" (reload)="load()" />
    @if (canManage()) {
      <div
        class="drop-zone"
        [class.over]="over()"
        (dragover)="dragOver($event)"
        (dragleave)="over.set(false)"
        (drop)="dropFiles($event)"
      >
        <p id="media-hint">{{ i18n.t('catalog.media.hint', { limit }) }}</p>
        <input
          id="media-files"
          class="visually-hidden"
          type="file"
          accept="image/jpeg,image/png,image/webp,image/gif"
          multiple
          aria-describedby="media-hint"
          (change)="chooseFiles($event)"
        />
        <!-- The input itself is hidden (a file input cannot be styled); its focus shows on the label. -->
        <label class="button secondary" for="media-files">{{ i18n.t('catalog.media.choose') }}</label>
      </div>
    }
    @if (uploads().length) {
      <ul class="uploads plain-list" [attr.aria-label]="i18n.t('catalog.media.uploads')">
        @for (u of uploads(); track u.key) {
          <li>
            @if (u.failed) {
              <p class="field-error" role="alert">
                {{ u.failed }}
                <button type="button" class="link-button" (click)="dismiss(u.key)">
                  {{ i18n.t('catalog.media.dismiss') }}
                </button>
              </p>
            } @else {
              <label [for]="'upload-' + u.key">{{ i18n.t('catalog.media.uploading', { name: u.name }) }}</label>
              <progress [id]="'upload-' + u.key"></progress>
            }
          </li>
        }
      </ul>
    }
    <p class="visually-hidden" role="status">{{ announcement() }}</p>
    @if (media().length) {
      <ol class="media-grid" [attr.aria-label]="i18n.t('catalog.media.in-order')">
        @for (m of media(); track m.id; let i = $index; let first = $first; let last = $last) {
          <li
            class="media-item"
            [attr.draggable]="canManage() ? 'true' : null"
            [class.drop-here]="dropIndex() === i"
            (dragstart)="dragStart($event, i)"
            (dragover)="dragOverItem($event, i)"
            (dragleave)="dropIndex.set(null)"
            (drop)="dropOn($event, i)"
            (dragend)="dragEnd()"
          >
            @if (thumbnail(m); as src) {
              <img [src]="src" [alt]="altOf(m) || i18n.t('catalog.media.picture', { n: i + 1 })" loading="lazy" />
            } @else {
              <div
                class="media-pending"
                role="img"
                [attr.aria-label]="i18n.t('catalog.media.picture-state', { n: i + 1, state: stateOf(m) })"
              >
                {{ stateOf(m) }}
              </div>
            }
            @for (locale of shop.locales(); track locale) {
              <div class="field">
                <label [for]="'alt-' + m.id + '-' + locale">{{
                  i18n.t('catalog.media.alt', { language: language(locale) })
                }}</label>
                <input
                  [id]="'alt-' + m.id + '-' + locale"
                  [attr.aria-label]="i18n.t('catalog.media.alt-of', { language: language(locale), n: i + 1 })"
                  [value]="m.alt[locale] ?? ''"
                  [disabled]="!canManage() || busy()"
                  [attr.lang]="locale"
                  (change)="saveAlt(m, locale, $event)"
                />
              </div>
            }
            @if (canManage()) {
              <div class="media-actions">
                <button
                  type="button"
                  class="button secondary"
                  [id]="'left-' + m.id"
                  [disabled]="first || busy()"
                  [attr.aria-label]="i18n.t('catalog.media.move-left', { n: i + 1 })"
                  (click)="move(i, i - 1, 'left-' + m.id)"
                >
                  ←
                </button>
                <button
                  type="button"
                  class="button secondary"
                  [id]="'right-' + m.id"
                  [disabled]="last || busy()"
                  [attr.aria-label]="i18n.t('catalog.media.move-right', { n: i + 1 })"
                  (click)="move(i, i + 1, 'right-' + m.id)"
                >
                  →
                </button>
                <button
                  type="button"
                  class="button danger"
                  [disabled]="busy()"
                  [attr.aria-label]="i18n.t('catalog.media.delete', { n: i + 1 })"
                  (click)="remove(m, i)"
                >
                  {{ i18n.t('catalog.delete') }}
                </button>
              </div>
            }
          </li>
        }
      </ol>
    } @else if (loaded()) {
      <p>{{ i18n.t('catalog.media.none') }}</p>
    }
  </section>`,
})
export class ProductMediaSection implements OnInit {
  readonly productId = input.required<string>();
  readonly canManage = input(false);
  /** The product's version after a media write (the editor's next If-Match). */
  readonly productVersion = output<number>();

  protected readonly shop = inject(CatalogShop);
  protected readonly i18n = inject(I18n);
  protected readonly limit = LIMIT;
  protected readonly media = signal<Medium[]>([]);
  protected readonly loaded = signal(false);
  protected readonly uploads = signal<Upload[]>([]);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly announcement = signal('');
  protected readonly busy = signal(false);
  protected readonly over = signal(false);
  protected readonly dropIndex = signal<number | null>(null);
  private version = 0;
  private dragged: number | null = null;
  private nextKey = 0;
  private poll: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;

  constructor() {
    // Registered here too: the section's texts must not depend on which page embeds it.
    this.i18n.register(CATALOG_PRODUCT);
    inject(DestroyRef).onDestroy(() => {
      this.destroyed = true;
      if (this.poll) clearTimeout(this.poll);
    });
  }

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    const result = await outcome(listProductMedia({ path: { product_id: this.productId() } }));
    if (this.destroyed) return;
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.loaded.set(true);
    this.media.set(result.data.items);
    if (result.data.product_version !== this.version) {
      this.version = result.data.product_version;
      this.productVersion.emit(this.version);
    }
    // Thumbnails are made in the background: look again until every picture has them.
    if (this.poll) clearTimeout(this.poll);
    this.poll = result.data.items.some((m) => m.status === 'processing') ? setTimeout(() => this.load(), 1500) : null;
  }

  protected thumbnail(m: Medium): string | null {
    if (m.status !== 'ready' || !m.thumbnails.length) return null;
    return (m.thumbnails.find((t) => t.width >= 320) ?? m.thumbnails[m.thumbnails.length - 1]).url;
  }

  protected stateOf(m: Medium): string {
    return this.i18n.t(m.status === 'failed' ? 'catalog.media.failed' : 'catalog.media.processing');
  }

  protected language(code: string): string {
    return languageName(this.i18n, code);
  }

  protected altOf(m: Medium): string {
    return m.alt[this.shop.defaultLocale()] ?? Object.values(m.alt)[0] ?? '';
  }

  protected dragOver(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    this.over.set(true);
  }

  protected dropFiles(event: DragEvent): void {
    event.preventDefault();
    this.over.set(false);
    void this.upload([...(event.dataTransfer?.files ?? [])]);
  }

  protected chooseFiles(event: Event): void {
    const input = event.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    void this.upload(files);
  }

  protected dismiss(key: number): void {
    this.uploads.update((all) => all.filter((u) => u.key !== key));
  }

  /** One file after the other, so the pictures keep the order they were chosen in. */
  private async upload(files: File[]): Promise<void> {
    const queued = files.map((file) => ({ file, key: this.nextKey++ }));
    this.uploads.update((all) => [...all, ...queued.map(({ file, key }) => ({ key, name: file.name, failed: null }))]);
    let done = 0;
    for (const { file, key } of queued) {
      const result = await outcome(
        uploadProductMedia({
          path: { product_id: this.productId() },
          body: file,
          headers: { 'Content-Type': file.type || 'application/octet-stream' } as Record<string, string>,
        }),
      );
      if (result.ok) {
        done++;
        this.dismiss(key);
      } else {
        const failed = uploadRefusal(file.name, result.problem, result.status, this.i18n);
        this.uploads.update((all) => all.map((u) => (u.key === key ? { ...u, failed } : u)));
      }
    }
    if (done) {
      this.announcement.set(
        done === 1 ? this.i18n.t('catalog.media.uploaded-one') : this.i18n.t('catalog.media.uploaded', { count: done }),
      );
      await this.load();
    }
  }

  protected async saveAlt(m: Medium, locale: string, event: Event): Promise<void> {
    const text = (event.target as HTMLInputElement).value.trim();
    const alt = { ...m.alt };
    if (text) alt[locale] = text;
    else delete alt[locale];
    this.busy.set(true);
    const result = await outcome(
      updateProductMedia({
        path: { product_id: this.productId(), media_id: m.id },
        headers: ifMatch(m.version),
        body: { alt },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.announcement.set(this.i18n.t('catalog.media.alt-saved'));
    await this.load();
  }

  protected async move(from: number, to: number, focusId?: string): Promise<void> {
    const items = this.media();
    if (from === to || to < 0 || to >= items.length || this.busy()) return;
    const order = moved(items, from, to);
    this.busy.set(true);
    this.media.set(order);
    const result = await outcome(
      reorderProductMedia({
        path: { product_id: this.productId() },
        headers: ifMatch(this.version),
        body: { media_ids: order.map((m) => m.id) },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.media.set(items);
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.media.set(result.data.items);
    this.version = result.data.product_version;
    this.productVersion.emit(this.version);
    this.announcement.set(this.i18n.t('catalog.media.moved', { position: to + 1, count: order.length }));
    // The button pressed stays under the keyboard (or its neighbour, when it reached the end).
    if (focusId) {
      setTimeout(() => {
        const button = document.getElementById(focusId) as HTMLButtonElement | null;
        if (button && !button.disabled) button.focus();
        else
          document
            .getElementById(focusId.startsWith('left-') ? `right-${focusId.slice(5)}` : `left-${focusId.slice(6)}`)
            ?.focus();
      });
    }
  }

  protected async remove(m: Medium, i: number): Promise<void> {
    if (!confirm(this.i18n.t('catalog.media.delete-confirm', { n: i + 1 }))) return;
    this.busy.set(true);
    const result = await outcome(
      deleteProductMedia({ path: { product_id: this.productId(), media_id: m.id }, headers: ifMatch(m.version) }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.announcement.set(this.i18n.t('catalog.media.deleted', { n: i + 1 }));
    await this.load();
  }

  protected dragStart(event: DragEvent, i: number): void {
    if (!this.canManage()) return;
    this.dragged = i;
    event.dataTransfer?.setData('text/plain', String(i));
    if (event.dataTransfer) event.dataTransfer.effectAllowed = 'move';
  }

  protected dragOverItem(event: DragEvent, i: number): void {
    if (this.dragged === null) return;
    event.preventDefault();
    this.dropIndex.set(i);
  }

  protected dropOn(event: DragEvent, i: number): void {
    if (this.dragged === null) return;
    event.preventDefault();
    event.stopPropagation();
    const from = this.dragged;
    this.dragEnd();
    void this.move(from, i);
  }

  protected dragEnd(): void {
    this.dragged = null;
    this.dropIndex.set(null);
  }
}
