import { ChangeDetectionStrategy, Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { Router } from '@angular/router';
import { I18n, outcome, suggestStoreProducts } from 'shared';

/** Milliseconds of quiet typing before suggestions are asked for. */
const PAUSE = 150;

/**
 * The header's search: a combobox (ARIA 1.2 "list autocomplete") whose suggestions come from
 * the shop's typo-tolerant suggestions, so "tshrit" offers "T-Shirt". Arrow keys move through
 * them, Enter takes one (or searches for what was typed), Escape closes the list.
 */
@Component({
  selector: 'shop-search-box',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<form role="search" class="search-box" (submit)="submit($event)">
    <label for="search-input" class="visually-hidden">{{ i18n.t('search.label') }}</label>
    <div class="search-field">
      <input
        #input
        id="search-input"
        type="search"
        role="combobox"
        autocomplete="off"
        aria-autocomplete="list"
        aria-controls="search-suggestions"
        [attr.aria-expanded]="open()"
        [attr.aria-activedescendant]="active() >= 0 ? 'search-suggestion-' + active() : null"
        [placeholder]="i18n.t('search.placeholder')"
        [value]="text()"
        (input)="typed($event)"
        (keydown)="key($event)"
        (blur)="close()"
      />
      <ul id="search-suggestions" role="listbox" [attr.aria-label]="i18n.t('search.suggestions')" [hidden]="!open()">
        @for (suggestion of suggestions(); track suggestion; let i = $index) {
          <!-- The keyboard stays in the input (aria-activedescendant): options take clicks only. -->
          <!-- eslint-disable-next-line @angular-eslint/template/click-events-have-key-events, @angular-eslint/template/interactive-supports-focus -->
          <li
            role="option"
            [id]="'search-suggestion-' + i"
            [attr.aria-selected]="i === active()"
            [class.active]="i === active()"
            (mousedown)="$event.preventDefault()"
            (click)="take(suggestion)"
          >
            {{ suggestion }}
          </li>
        }
      </ul>
    </div>
    <button class="button" type="submit">{{ i18n.t('search.submit') }}</button>
    <span class="visually-hidden" role="status">{{ announcement() }}</span>
  </form>`,
})
export class SearchBox {
  protected readonly i18n = inject(I18n);
  private readonly router = inject(Router);
  private readonly input = viewChild.required<ElementRef<HTMLInputElement>>('input');
  protected readonly text = signal('');
  protected readonly suggestions = signal<string[]>([]);
  protected readonly open = signal(false);
  protected readonly active = signal(-1);
  protected readonly announcement = signal('');
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Answers to older keystrokes arrive late sometimes; only the newest question's is shown. */
  private asked = 0;

  protected typed(event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    this.text.set(value);
    this.active.set(-1);
    clearTimeout(this.timer);
    if (value.trim().length < 2) {
      this.show([]);
      return;
    }
    this.timer = setTimeout(() => void this.suggest(value.trim()), PAUSE);
  }

  protected key(event: KeyboardEvent): void {
    const count = this.suggestions().length;
    switch (event.key) {
      case 'ArrowDown':
        if (count) {
          event.preventDefault();
          this.open.set(true);
          this.active.set((this.active() + 1) % count);
        }
        break;
      case 'ArrowUp':
        if (count) {
          event.preventDefault();
          this.open.set(true);
          this.active.set(this.active() <= 0 ? count - 1 : this.active() - 1);
        }
        break;
      case 'Enter':
        if (this.open() && this.active() >= 0) {
          event.preventDefault();
          this.take(this.suggestions()[this.active()]);
        }
        break;
      case 'Escape':
        if (this.open()) {
          event.preventDefault();
          this.close();
        } else {
          this.text.set('');
        }
        break;
    }
  }

  protected close(): void {
    this.open.set(false);
    this.active.set(-1);
  }

  protected take(suggestion: string): void {
    this.text.set(suggestion);
    this.close();
    void this.search(suggestion);
  }

  protected submit(event: Event): void {
    event.preventDefault();
    const query = this.text().trim();
    if (query) {
      this.close();
      void this.search(query);
    } else {
      this.input().nativeElement.focus();
    }
  }

  private async search(query: string): Promise<void> {
    clearTimeout(this.timer);
    this.asked++;
    await this.router.navigate(['/search'], { queryParams: { q: query } });
  }

  private async suggest(query: string): Promise<void> {
    const question = ++this.asked;
    const result = await outcome(suggestStoreProducts({ query: { q: query, limit: 8 } }));
    if (question !== this.asked) {
      return;
    }
    this.show(result.ok ? result.data.suggestions : []);
  }

  private show(suggestions: string[]): void {
    this.suggestions.set(suggestions);
    this.open.set(suggestions.length > 0);
    this.announcement.set(
      suggestions.length ? this.i18n.t('search.suggestion-count', { count: suggestions.length }) : '',
    );
  }
}
