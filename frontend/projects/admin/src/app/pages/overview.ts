import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { StaffSession } from '../staff-session';

@Component({
  selector: 'admin-overview',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>Overview</h1>
    <p>Welcome, {{ session.account()?.name || session.account()?.email }}.</p>
    <ul>
      @for (item of session.destinations(); track item.path) {
        @if (item.path !== '/') {
          <li>
            <a [routerLink]="item.path">{{ item.label }}</a>
          </li>
        }
      }
    </ul>`,
})
export class Overview {
  protected readonly session = inject(StaffSession);
}
