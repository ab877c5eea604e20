import { TestBed } from '@angular/core/testing';
import { I18n, client, type TaskDetail } from 'shared';
import { CATALOG } from '../../texts/catalog';
import { TaskProgress } from './task-progress';

function task(status: string, percent: number, rowsDone: number, errors: TaskDetail['errors'] = []): TaskDetail {
  return {
    task: {
      id: 'task-1',
      kind: 'catalog.import_products',
      status: status as TaskDetail['task']['status'],
      percent,
      rows_done: rowsDone,
      rows_failed: errors.length,
      rows_total: 10,
      error_count: errors.length,
      cancel_requested: false,
      permission: 'catalog.manage',
      started_by: 'staff:1',
      created_at: '2026-01-01T00:00:00Z',
      result:
        status === 'succeeded'
          ? { name: 'products.csv', content_type: 'text/csv', download: '/api/v1/admin/tasks/task-1/result' }
          : null,
    },
    errors,
  };
}

/** The tasks API as the browser meets it: answers in turn, the last one repeated. */
function api(answers: TaskDetail[]): { asked: () => number } {
  let asked = 0;
  vi.stubGlobal('fetch', async () => {
    const body = answers[Math.min(asked++, answers.length - 1)];
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
  return { asked: () => asked };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('TaskProgress', () => {
  beforeEach(() => {
    client.setConfig({ baseUrl: 'http://shop.test' });
    TestBed.inject(I18n).register(CATALOG);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('follows a task to its end, lists refused rows by line and offers the file', async () => {
    const calls = api([
      task('running', 40, 4),
      task('succeeded', 100, 10, [{ line: 7, field: 'sku', message: 'listed twice' }]),
    ]);
    const fixture = TestBed.createComponent(TaskProgress);
    fixture.componentRef.setInput('taskId', 'task-1');
    fixture.componentRef.setInput('title', 'Import');
    const finished: TaskDetail[] = [];
    fixture.componentInstance.done.subscribe((d) => finished.push(d));
    await until(() => finished.length === 1);
    await fixture.whenStable();
    const text: string = fixture.nativeElement.textContent;
    expect(text).toContain('Finished');
    expect(text).toContain('10 of 10 rows');
    expect(text).toContain('1 refused');
    const cells = [...fixture.nativeElement.querySelectorAll('.task-errors td')].map((td: Element) => td.textContent);
    expect(cells).toEqual(['7', 'sku', 'listed twice']);
    const link: HTMLAnchorElement = fixture.nativeElement.querySelector('a[download]');
    expect(link.getAttribute('href')).toBe('/api/v1/admin/tasks/task-1/result');
    // Finished tasks are not asked about again.
    const asked = calls.asked();
    await new Promise((r) => setTimeout(r, 700));
    expect(calls.asked()).toBe(asked);
    expect(finished.length).toBe(1);
  });
});
