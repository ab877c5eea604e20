import { TestBed } from '@angular/core/testing';
import type { Problem } from '../api';
import { FieldError } from './field-error';
import { ProblemAlert } from './problem-alert';

const invalid: Problem = {
  type: 'https://agora.dev/problems/validation-failed',
  title: 'Validation failed',
  detail: 'the request has invalid fields',
  status: 422,
  errors: [
    { field: 'email', message: 'is not an email address' },
    { field: 'roles', message: 'names an unknown role' },
  ],
};

describe('problem display', () => {
  it('shows a field error under its field with the id the input points at', async () => {
    const fixture = TestBed.createComponent(FieldError);
    fixture.componentRef.setInput('problem', invalid);
    fixture.componentRef.setInput('field', 'email');
    fixture.componentRef.setInput('for', 'signup-email');
    await fixture.whenStable();
    const message = fixture.nativeElement.querySelector('#signup-email-error');
    expect(message?.textContent).toContain('is not an email address');
  });

  it('shows nothing for a field the problem does not name', async () => {
    const fixture = TestBed.createComponent(FieldError);
    fixture.componentRef.setInput('problem', invalid);
    fixture.componentRef.setInput('field', 'password');
    fixture.componentRef.setInput('for', 'password');
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent.trim()).toBe('');
  });

  it('lists in the banner only the errors the form does not place', async () => {
    const fixture = TestBed.createComponent(ProblemAlert);
    fixture.componentRef.setInput('problem', invalid);
    fixture.componentRef.setInput('placed', ['email']);
    await fixture.whenStable();
    const alert: HTMLElement = fixture.nativeElement.querySelector('[role=alert]');
    expect(alert.textContent).toContain('Validation failed');
    expect(alert.textContent).toContain('roles: names an unknown role');
    expect(alert.textContent).not.toContain('is not an email address');
  });

  it('offers to reload and reapply after a 412', async () => {
    const fixture = TestBed.createComponent(ProblemAlert);
    const conflict: Problem = {
      type: 'https://agora.dev/problems/version-conflict',
      title: 'Conflict',
      detail: '',
      status: 412,
    };
    fixture.componentRef.setInput('problem', conflict);
    let reloads = 0;
    fixture.componentInstance.reload.subscribe(() => reloads++);
    await fixture.whenStable();
    const button: HTMLButtonElement = fixture.nativeElement.querySelector('button');
    expect(button.textContent).toContain('Reload and reapply');
    button.click();
    expect(reloads).toBe(1);
  });
});
