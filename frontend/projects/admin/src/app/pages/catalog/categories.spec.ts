import type { Category } from 'shared';
import { treeOf } from './categories';

function category(id: string, parent: string | null, position: number): Category {
  return {
    id,
    parent_id: parent,
    position,
    name: { en: id },
    description: {},
    slug: id,
    breadcrumbs: [],
    version: 1,
    created_at: '',
    modified_at: '',
  };
}

describe('the category tree', () => {
  it('nests children under their parents, siblings by position', () => {
    const tree = treeOf([
      category('clothing', null, 1),
      category('home', null, 0),
      category('trousers', 'clothing', 2),
      category('shirts', 'clothing', 1),
      category('linen', 'shirts', 0),
    ]);
    const shape = (nodes: ReturnType<typeof treeOf>): unknown =>
      nodes.map((n) => (n.children.length ? { [n.category.id]: shape(n.children) } : n.category.id));
    expect(shape(tree)).toEqual(['home', { clothing: [{ shirts: ['linen'] }, 'trousers'] }]);
  });
});
