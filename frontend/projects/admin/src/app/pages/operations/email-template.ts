import { ChangeDetectionStrategy, Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import {
  FieldError,
  I18n,
  ProblemAlert,
  deleteEmailTemplate,
  fieldMessage,
  getEmailTemplate,
  outcome,
  previewEmailTemplate,
  saveEmailTemplate,
  sendTestEmail,
  type Message,
  type Problem,
  type Template,
  type TemplatePreview,
} from 'shared';
import { StaffSession } from '../../staff-session';
import { when } from '../../texts/when';
import { EmailTabs } from './email-tabs';
import { templateName } from './template-name';

/**
 * One email in one language: its subject, text and HTML (minijinja). The API renders it with the
 * template's variables on save and names the part that does not work; a one-time link must be
 * used whole. "Preview changes" renders the unsaved draft with sample values (same checks as a
 * save); its HTML is shown in a sandboxed frame, where no script of a template can run. "Send a
 * test" renders the saved version and shows the email as sent.
 */
@Component({
  selector: 'admin-email-template',
  imports: [FormsModule, RouterLink, FieldError, ProblemAlert, EmailTabs],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<p>
      <a routerLink="/emails">← {{ i18n.t('emails.templates') }}</a>
    </p>
    <h1>{{ i18n.t('emails.editing') }}: {{ name() }} ({{ locale() }})</h1>
    <admin-email-tabs />
    @if (template(); as t) {
      <p>
        <code>{{ key() }}</code>
        <span class="badge" [class.off]="!t.overridden">{{
          t.overridden ? i18n.t('emails.own') : i18n.t('emails.built-in')
        }}</span>
        @if (t.overridden && t.modified_at) {
          {{ i18n.t('emails.changed-by', { who: t.modified_by ?? '', when: when(t.modified_at) }) }}
        }
      </p>
      @if (t.variables.length) {
        <p id="variables-hint" class="hint">
          {{ i18n.t('emails.variables') }}
          @for (v of t.variables; track v) {
            <code>{{ placeholder(v) }}</code>{{ $last ? '' : ', ' }}
          }
        </p>
      }
    }
    @if (saved()) {
      <p class="notice" role="status">{{ i18n.t('common.saved') }}</p>
    }
    <agora-problem-alert [problem]="problem()" [placed]="['subject', 'body_text', 'body_html']" (reload)="load()" />
    @if (template()) {
      <form (ngSubmit)="save()" novalidate [attr.aria-label]="i18n.t('emails.editing') + ' ' + key()">
        <div class="field">
          <label for="template-subject">{{ i18n.t('emails.subject') }}</label>
          <input
            id="template-subject"
            name="subject"
            required
            [(ngModel)]="subject"
            [attr.aria-invalid]="!!error('subject')"
            [attr.aria-describedby]="error('subject') ? 'template-subject-error' : null"
          />
          <agora-field-error [problem]="problem()" field="subject" for="template-subject" />
        </div>
        <div class="field">
          <label for="template-text">{{ i18n.t('emails.body-text') }}</label>
          <textarea
            id="template-text"
            name="body_text"
            rows="12"
            required
            [(ngModel)]="bodyText"
            [attr.aria-invalid]="!!error('body_text')"
            [attr.aria-describedby]="error('body_text') ? 'template-text-error' : null"
          ></textarea>
          <agora-field-error [problem]="problem()" field="body_text" for="template-text" />
        </div>
        <div class="field">
          <label for="template-html">{{ i18n.t('emails.body-html') }}</label>
          <textarea
            id="template-html"
            name="body_html"
            rows="12"
            [(ngModel)]="bodyHtml"
            [attr.aria-invalid]="!!error('body_html')"
            [attr.aria-describedby]="error('body_html') ? 'template-html-error' : null"
          ></textarea>
          <agora-field-error [problem]="problem()" field="body_html" for="template-html" />
        </div>
        <div class="row">
          <button class="button" type="submit" [disabled]="busy()">{{ i18n.t('common.save') }}</button>
          <button type="button" class="button secondary" (click)="previewDraft()" [disabled]="busy()">
            {{ i18n.t('emails.show-preview') }}
          </button>
          @if (template()?.overridden) {
            <button type="button" class="button secondary" (click)="reset()" [disabled]="busy()">
              {{ i18n.t('emails.reset') }}
            </button>
          }
        </div>
      </form>

      @if (draft(); as d) {
        <section class="card preview" aria-labelledby="draft-title" data-testid="draft-preview">
          <h2 id="draft-title">{{ i18n.t('emails.draft-preview') }}</h2>
          <p class="hint">{{ i18n.t('emails.draft-preview-intro') }}</p>
          <p>
            <strong>{{ i18n.t('emails.subject') }}:</strong> <span data-testid="draft-subject">{{ d.subject }}</span>
          </p>
          @if (d.body_html) {
            <h3>{{ i18n.t('emails.body-html') }}</h3>
            <!-- sandbox without allow-scripts: the shop's markup is shown, never run. -->
            <iframe
              class="mail-frame"
              sandbox=""
              referrerpolicy="no-referrer"
              [title]="i18n.t('emails.body-html')"
              [srcdoc]="d.body_html"
            ></iframe>
          }
          <h3>{{ i18n.t('emails.body-text') }}</h3>
          <pre data-testid="draft-text">{{ d.body_text }}</pre>
        </section>
      }

      <h2 id="preview-title">{{ i18n.t('emails.preview') }}</h2>
      <p>{{ i18n.t('emails.preview-intro') }}</p>
      <agora-problem-alert [problem]="testProblem()" [placed]="['to']" />
      <form (ngSubmit)="sendTest()" novalidate aria-labelledby="preview-title">
        <div class="row">
          <div class="field">
            <label for="test-to">{{ i18n.t('emails.send-to') }}</label>
            <input
              id="test-to"
              name="to"
              type="email"
              [(ngModel)]="testTo"
              [attr.aria-invalid]="!!testError('to')"
              [attr.aria-describedby]="testError('to') ? 'test-to-error' : null"
            />
            <agora-field-error [problem]="testProblem()" field="to" for="test-to" />
          </div>
          <div class="field">
            <label for="test-locale">{{ i18n.t('emails.locale') }}</label>
            <select id="test-locale" name="locale" [(ngModel)]="testLocale">
              <option value="en">English</option>
              <option value="de">Deutsch</option>
            </select>
          </div>
        </div>
        <button class="button secondary" type="submit" [disabled]="busy()">{{ i18n.t('emails.send-test') }}</button>
      </form>
      @if (preview(); as m) {
        <section class="card preview" [attr.aria-label]="i18n.t('emails.preview')" data-testid="email-preview">
          <p>
            <strong>{{ i18n.t('emails.subject') }}:</strong> {{ m.subject }}
          </p>
          <p class="hint">{{ i18n.t('emails.sent-to', { to: m.to, status: i18n.t('emails.status.' + m.status) }) }}</p>
          @if (m.body_html) {
            <h3>{{ i18n.t('emails.body-html') }}</h3>
            <div class="mail-html" [innerHTML]="m.body_html"></div>
          }
          <h3>{{ i18n.t('emails.body-text') }}</h3>
          <pre>{{ m.body_text }}</pre>
        </section>
      }
    }`,
})
export class EmailTemplatePage implements OnInit {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  readonly key = input.required<string>();
  readonly locale = input.required<string>();
  protected readonly template = signal<Template | null>(null);
  protected readonly subject = signal('');
  protected readonly bodyText = signal('');
  protected readonly bodyHtml = signal('');
  protected readonly testTo = signal('');
  protected readonly testLocale = signal('en');
  protected readonly preview = signal<Message | null>(null);
  protected readonly draft = signal<TemplatePreview | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly testProblem = signal<Problem | null>(null);
  protected readonly saved = signal(false);
  protected readonly busy = signal(false);

  async ngOnInit(): Promise<void> {
    this.testTo.set(this.session.account()?.email ?? '');
    this.testLocale.set(this.locale());
    await this.load();
  }

  protected name(): string {
    return templateName(this.i18n, this.key());
  }

  protected placeholder(variable: string): string {
    return `{{ ${variable} }}`;
  }

  protected when(iso: string | null | undefined): string {
    return when(iso, this.i18n.locale());
  }

  protected error(field: string): string | null {
    return fieldMessage(this.problem(), field);
  }

  protected testError(field: string): string | null {
    return fieldMessage(this.testProblem(), field);
  }

  /** The template as stored now (also after a 412: the member sees the other edit, then reapplies). */
  protected async load(): Promise<void> {
    const result = await outcome(getEmailTemplate({ path: { key: this.key(), locale: this.locale() } }));
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.show(result.data);
  }

  protected async save(): Promise<void> {
    this.busy.set(true);
    this.saved.set(false);
    const result = await outcome(
      saveEmailTemplate({
        path: { key: this.key(), locale: this.locale() },
        headers: this.ifMatch(),
        body: { subject: this.subject(), body_text: this.bodyText(), body_html: this.bodyHtml() || null },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.saved.set(true);
    this.show(result.data);
  }

  /** Removes the shop's version: Agora's built-in wording applies again. */
  protected async reset(): Promise<void> {
    this.busy.set(true);
    this.saved.set(false);
    const result = await outcome(
      deleteEmailTemplate({ path: { key: this.key(), locale: this.locale() }, headers: this.ifMatch() }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.problem.set(result.problem);
      return;
    }
    await this.load();
  }

  /** The form as it stands, rendered by the API with sample values; nothing is saved. */
  protected async previewDraft(): Promise<void> {
    this.busy.set(true);
    this.saved.set(false);
    const result = await outcome(
      previewEmailTemplate({
        path: { key: this.key(), locale: this.locale() },
        body: { subject: this.subject(), body_text: this.bodyText(), body_html: this.bodyHtml() || null },
      }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.draft.set(null);
      this.problem.set(result.problem);
      return;
    }
    this.problem.set(null);
    this.draft.set(result.data);
  }

  protected async sendTest(): Promise<void> {
    this.busy.set(true);
    const result = await outcome(
      sendTestEmail({ body: { template: this.key(), locale: this.testLocale(), to: this.testTo().trim() } }),
    );
    this.busy.set(false);
    if (!result.ok) {
      this.testProblem.set(result.problem);
      return;
    }
    this.testProblem.set(null);
    this.preview.set(result.data);
  }

  private ifMatch(): Record<string, string> {
    const version = this.template()?.version;
    return version === null || version === undefined ? {} : { 'If-Match': `"${version}"` };
  }

  private show(template: Template): void {
    this.template.set(template);
    this.subject.set(template.subject);
    this.bodyText.set(template.body_text);
    this.bodyHtml.set(template.body_html ?? '');
  }
}
