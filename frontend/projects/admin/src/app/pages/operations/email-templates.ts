import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18n, ProblemAlert, listEmailTemplates, outcome, type Problem, type TemplateList } from 'shared';
import { EmailTabs } from './email-tabs';
import { templateName } from './template-name';

type TemplateRow = TemplateList['items'][number];

/** Every email the shop sends, per language: Agora's wording, or the shop's own where it has one. */
@Component({
  selector: 'admin-email-templates',
  imports: [RouterLink, ProblemAlert, EmailTabs],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>{{ i18n.t('emails.title') }}</h1>
    <admin-email-tabs />
    <p>{{ i18n.t('emails.templates-intro') }}</p>
    <agora-problem-alert [problem]="problem()" />
    <div class="table-scroll">
      <table>
        <caption class="visually-hidden">
          {{
            i18n.t('emails.templates')
          }}
        </caption>
        <thead>
          <tr>
            <th scope="col">{{ i18n.t('emails.template') }}</th>
            <th scope="col">{{ i18n.t('emails.locale') }}</th>
            <th scope="col">{{ i18n.t('emails.subject') }}</th>
            <th scope="col">{{ i18n.t('emails.version') }}</th>
          </tr>
        </thead>
        <tbody>
          @for (row of templates(); track row.key + '/' + row.locale) {
            <tr>
              <td>
                <a
                  [routerLink]="['/emails', row.key, row.locale]"
                  [attr.aria-label]="i18n.t('emails.edit-template', { template: name(row.key), locale: row.locale })"
                  >{{ name(row.key) }}</a
                >
                <br /><code class="hint">{{ row.key }}</code>
              </td>
              <td>{{ row.locale }}</td>
              <td>{{ row.subject }}</td>
              <td>
                <span class="badge" [class.off]="!row.overridden">{{
                  row.overridden ? i18n.t('emails.own') : i18n.t('emails.built-in')
                }}</span>
              </td>
            </tr>
          }
        </tbody>
      </table>
    </div>`,
})
export class EmailTemplatesPage implements OnInit {
  protected readonly i18n = inject(I18n);
  protected readonly templates = signal<TemplateRow[]>([]);
  protected readonly problem = signal<Problem | null>(null);

  protected name(key: string): string {
    return templateName(this.i18n, key);
  }

  async ngOnInit(): Promise<void> {
    const result = await outcome(listEmailTemplates());
    if (result.ok) {
      this.templates.set(result.data.items);
    } else {
      this.problem.set(result.problem);
    }
  }
}
