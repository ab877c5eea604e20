import { ApplicationConfig, inject, provideAppInitializer, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { provideAgoraApi } from 'shared';
import { routes } from './app.routes';
import { SsoLanding } from './sso-landing';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    // Before the router's first navigation, which would otherwise see the provider's fragment.
    provideAppInitializer(() => inject(SsoLanding).capture(window.location, window.history)),
    provideRouter(routes, withComponentInputBinding()),
    provideAgoraApi(),
  ],
};
