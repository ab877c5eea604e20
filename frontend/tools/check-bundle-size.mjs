// The bundle budgets the product promises are gzipped transfer sizes of the initial JavaScript
// (what a first visit downloads before the page can run). Angular's own budgets measure raw
// bytes, so angular.json holds raw ceilings and this check holds the promise: it reads each
// built index.html, follows its scripts and module preloads, and gzips them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGETS = { storefront: 150 * 1024, admin: 350 * 1024 };
let failed = false;
for (const [app, limit] of Object.entries(BUDGETS)) {
  const dir = join(import.meta.dirname, '..', 'dist', app, 'browser');
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = new Set();
  for (const match of html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+\.js)"/g)) {
    files.add(match[1]);
  }
  let total = 0;
  for (const file of files) {
    total += gzipSync(readFileSync(join(dir, file)), { level: 9 }).length;
  }
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  const verdict = total <= limit ? 'ok' : 'OVER BUDGET';
  console.log(
    `${app}: initial JavaScript ${kb(total)} gzipped in ${files.size} files (budget ${kb(limit)}) ${verdict}`,
  );
  failed ||= total > limit || files.size === 0;
}
process.exit(failed ? 1 : 0);
