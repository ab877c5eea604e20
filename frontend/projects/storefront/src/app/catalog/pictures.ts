import type { StoreProduct } from 'shared';

/** A picture as the store API gives it: alt text, its size, and its renderings smallest first. */
export type StoreMedia = StoreProduct['media'][number];

/** What an `<img>` needs to show a picture. */
export interface Picture {
  /** The largest rendering: what a browser without `srcset` shows. */
  src: string;
  /** Every rendering with its width: the browser picks the one the layout needs. */
  srcset: string;
  /** The smallest rendering, for thumbnails. */
  thumb: string;
  alt: string;
  width: number;
  height: number;
}

/**
 * A picture as an `<img>`, from renderings smallest first (the product page's gallery and the
 * product cards). `null` while no rendering exists yet (the thumbnail job has not run).
 */
export function picture(medium: StoreMedia, fallbackAlt: string): Picture | null {
  const images = medium.images;
  if (!images.length) return null;
  return {
    src: images[images.length - 1].url,
    srcset: images.map((image) => `${image.url} ${image.width}w`).join(', '),
    thumb: images[0].url,
    alt: medium.alt || fallbackAlt,
    width: medium.width,
    height: medium.height,
  };
}
