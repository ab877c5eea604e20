import { Routes } from '@angular/router';
import { needs, staffSignedIn } from './staff-session';
import { operatorSignedIn } from './platform/operator-session';

export const routes: Routes = [
  { path: 'sign-in', loadComponent: () => import('./pages/sign-in').then((m) => m.SignIn) },
  // The pages staff emails link to: identity's /admin/reset-password and /admin/accept-invitation.
  {
    path: 'reset-password',
    data: { invitation: false },
    loadComponent: () => import('./pages/set-password').then((m) => m.SetPassword),
  },
  {
    path: 'accept-invitation',
    data: { invitation: true },
    loadComponent: () => import('./pages/set-password').then((m) => m.SetPassword),
  },
  { path: 'platform/sign-in', loadComponent: () => import('./platform/sign-in').then((m) => m.OperatorSignIn) },
  {
    path: 'platform',
    canActivate: [operatorSignedIn],
    loadComponent: () => import('./platform/console').then((m) => m.PlatformConsole),
  },
  {
    path: '',
    canActivate: [staffSignedIn],
    loadComponent: () => import('./pages/shell').then((m) => m.Shell),
    children: [
      { path: '', loadComponent: () => import('./pages/overview').then((m) => m.Overview) },
      {
        path: 'staff',
        canActivate: [needs('staff.manage')],
        loadComponent: () => import('./pages/staff').then((m) => m.StaffPage),
      },
      {
        path: 'roles',
        canActivate: [needs('roles.manage')],
        loadComponent: () => import('./pages/roles').then((m) => m.RolesPage),
      },
      {
        path: 'api-keys',
        canActivate: [needs('api_keys.manage')],
        loadComponent: () => import('./pages/api-keys').then((m) => m.ApiKeysPage),
      },
      {
        path: 'security',
        canActivate: [needs('settings.manage')],
        loadComponent: () => import('./pages/security').then((m) => m.SecurityPage),
      },
      { path: 'account', loadComponent: () => import('./pages/my-account').then((m) => m.MyAccount) },
      { path: '**', loadComponent: () => import('./pages/not-found').then((m) => m.NotFound) },
    ],
  },
];
