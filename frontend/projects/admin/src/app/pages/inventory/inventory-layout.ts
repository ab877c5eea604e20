import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { I18n } from 'shared';
import { StaffSession } from '../../staff-session';
import { INVENTORY } from '../../texts/inventory';

/** The inventory section's frame: a link per part (the shop settings only for those who manage). */
@Component({
  selector: 'admin-inventory-layout',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<nav class="tabs" [attr.aria-label]="i18n.t('inventory.sections')">
      <a routerLink="/inventory/stock" routerLinkActive ariaCurrentWhenActive="page">{{ i18n.t('inventory.stock') }}</a>
      <a routerLink="/inventory/locations" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('inventory.locations')
      }}</a>
      <a routerLink="/inventory/reservations" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('inventory.reservations')
      }}</a>
      <a routerLink="/inventory/transfers" routerLinkActive ariaCurrentWhenActive="page">{{
        i18n.t('inventory.transfers')
      }}</a>
      @if (canManage()) {
        <a routerLink="/inventory/settings" routerLinkActive ariaCurrentWhenActive="page">{{
          i18n.t('inventory.settings')
        }}</a>
      }
    </nav>
    <router-outlet />`,
})
export class InventoryLayout {
  protected readonly i18n = inject(I18n);
  private readonly session = inject(StaffSession);
  protected readonly canManage = computed(() => this.session.can('inventory.manage'));

  constructor() {
    // The section's texts come with its chunk rather than with every visit to the admin.
    this.i18n.register(INVENTORY);
  }
}
