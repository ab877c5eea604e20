import { ChangeDetectionStrategy, Component, DestroyRef, OnInit, inject, input, output, signal } from '@angular/core';
import {
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
import { CatalogShop, ifMatch, localeName } from './catalog-support';

type Medium = ProductMediaList['items'][number];

/** A file on its way to the server, or refused by it (kept on screen until dismissed). */
interface Upload {
  key: number;
  name: string;
  failed: string | null;
}

/** The server's limit, said in the merchant's words when it refuses a file (413). */
const LIMIT = '20 MB';

/** Why the server refused a file, in a sentence that names the file. */
export function uploadRefusal(name: string, problem: Problem, status: number): string {
  if (status === 413) return `${name} is too large: an image may be at most ${LIMIT}.`;
  const field = problem.errors?.find((e) => e.field === 'file');
  if (field) return `${name}: ${field.message}`;
  return `${name}: ${problem.title}${problem.detail ? ` ${problem.detail}` : ''}`;
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
    <h2 id="media-title">Pictures</h2>
    <agora-problem-alert [problem]="problem()" (reload)="load()" />
    @if (canManage()) {
      <div
        class="drop-zone"
        [class.over]="over()"
        (dragover)="dragOver($event)"
        (dragleave)="over.set(false)"
        (drop)="dropFiles($event)"
      >
        <p id="media-hint">
          Drop JPEG, PNG, WebP or GIF images here, or choose them. At most {{ limit }} each; the first picture is the
          one shoppers see first.
        </p>
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
        <label class="button secondary" for="media-files">Choose images</label>
      </div>
    }
    @if (uploads().length) {
      <ul class="uploads plain-list" aria-label="Uploads">
        @for (u of uploads(); track u.key) {
          <li>
            @if (u.failed) {
              <p class="field-error" role="alert">
                {{ u.failed }}
                <button type="button" class="link-button" (click)="dismiss(u.key)">Dismiss</button>
              </p>
            } @else {
              <label [for]="'upload-' + u.key">Uploading {{ u.name }}…</label>
              <progress [id]="'upload-' + u.key"></progress>
            }
          </li>
        }
      </ul>
    }
    <p class="visually-hidden" role="status">{{ announcement() }}</p>
    @if (media().length) {
      <ol class="media-grid" aria-label="Pictures in order">
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
              <img [src]="src" [alt]="altOf(m) || 'Picture ' + (i + 1)" loading="lazy" />
            } @else {
              <div class="media-pending" role="img" [attr.aria-label]="'Picture ' + (i + 1) + ': ' + stateOf(m)">
                {{ stateOf(m) }}
              </div>
            }
            @for (locale of shop.locales(); track locale) {
              <div class="field">
                <label [for]="'alt-' + m.id + '-' + locale">Alt text ({{ localeName(locale) }})</label>
                <input
                  [id]="'alt-' + m.id + '-' + locale"
                  [attr.aria-label]="'Alt text (' + localeName(locale) + ') of picture ' + (i + 1)"
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
                  [attr.aria-label]="'Move picture ' + (i + 1) + ' left'"
                  (click)="move(i, i - 1, 'left-' + m.id)"
                >
                  ←
                </button>
                <button
                  type="button"
                  class="button secondary"
                  [id]="'right-' + m.id"
                  [disabled]="last || busy()"
                  [attr.aria-label]="'Move picture ' + (i + 1) + ' right'"
                  (click)="move(i, i + 1, 'right-' + m.id)"
                >
                  →
                </button>
                <button
                  type="button"
                  class="button danger"
                  [disabled]="busy()"
                  [attr.aria-label]="'Delete picture ' + (i + 1)"
                  (click)="remove(m, i)"
                >
                  Delete
                </button>
              </div>
            }
          </li>
        }
      </ol>
    } @else if (loaded()) {
      <p>No pictures yet.</p>
    }
  </section>`,
})
export class ProductMediaSection implements OnInit {
  readonly productId = input.required<string>();
  readonly canManage = input(false);
  /** The product's version after a media write (the editor's next If-Match). */
  readonly productVersion = output<number>();

  protected readonly shop = inject(CatalogShop);
  protected readonly limit = LIMIT;
  protected readonly localeName = localeName;
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
    return m.status === 'failed' ? 'Could not be processed' : 'Processing…';
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
        const failed = uploadRefusal(file.name, result.problem, result.status);
        this.uploads.update((all) => all.map((u) => (u.key === key ? { ...u, failed } : u)));
      }
    }
    if (done) {
      this.announcement.set(done === 1 ? 'Picture uploaded.' : `${done} pictures uploaded.`);
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
    this.announcement.set('Alt text saved.');
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
    this.announcement.set(`Picture moved to position ${to + 1} of ${order.length}.`);
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
    if (!confirm(`Delete picture ${i + 1}? Shoppers will no longer see it.`)) return;
    this.busy.set(true);
    const result = await outcome(
      deleteProductMedia({ path: { product_id: this.productId(), media_id: m.id }, headers: ifMatch(m.version) }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.announcement.set(`Picture ${i + 1} deleted.`);
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
