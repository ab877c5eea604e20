/*
 * What both apps share: the generated API client, the glue that sends it our session and
 * language, problem+json handling, translations and the common components.
 */
export * from './lib/api';
export { client } from './lib/api/client.gen';
export * from './lib/api-setup';
export * from './lib/problem';
export * from './lib/outcome';
export * from './lib/session';
export * from './lib/i18n';
export * from './lib/components/field-error';
export * from './lib/components/problem-alert';
export * from './lib/components/language-switch';
