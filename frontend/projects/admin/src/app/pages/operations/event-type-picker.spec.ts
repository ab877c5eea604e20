import { TestBed } from '@angular/core/testing';
import { EventTypePicker } from './event-type-picker';

describe('webhook event picker', () => {
  async function picker(chosen: string[]) {
    const fixture = TestBed.createComponent(EventTypePicker);
    fixture.componentRef.setInput('idPrefix', 'test');
    fixture.componentRef.setInput('available', ['catalog.product_created.v1', 'tenancy.shop_settings_updated.v1']);
    fixture.componentRef.setInput('chosen', chosen);
    await fixture.whenStable();
    const boxes = () => [...fixture.nativeElement.querySelectorAll('input[type=checkbox]')] as HTMLInputElement[];
    return { fixture, boxes };
  }

  it('ticks single events, and untick removes them again', async () => {
    const { fixture, boxes } = await picker([]);
    expect(boxes()).toHaveLength(3);
    boxes()[2].click();
    boxes()[1].click();
    await fixture.whenStable();
    expect(fixture.componentInstance.chosen()).toEqual([
      'tenancy.shop_settings_updated.v1',
      'catalog.product_created.v1',
    ]);
    boxes()[2].click();
    expect(fixture.componentInstance.chosen()).toEqual(['catalog.product_created.v1']);
  });

  it('makes “all events” the only choice and hides the single ones', async () => {
    const { fixture, boxes } = await picker(['catalog.product_created.v1']);
    boxes()[0].click();
    await fixture.whenStable();
    expect(fixture.componentInstance.chosen()).toEqual(['*']);
    expect(boxes()).toHaveLength(1);
    boxes()[0].click();
    await fixture.whenStable();
    expect(fixture.componentInstance.chosen()).toEqual([]);
    expect(boxes()).toHaveLength(3);
  });
});
