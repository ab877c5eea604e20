import { defineConfig } from '@hey-api/openapi-ts';

// The API client is generated from the committed contract; `npm run generate` rewrites it and the
// test command fails when the committed copy differs (a route changed without regenerating).
export default defineConfig({
  input: '../openapi/openapi.json',
  output: { path: 'projects/shared/src/lib/api' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', { name: '@hey-api/sdk' }],
});
