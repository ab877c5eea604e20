import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'admin-not-found',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>Page not found</h1>
    <p><a routerLink="/">Back to the overview</a></p>`,
})
export class NotFound {}
