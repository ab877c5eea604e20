//! Product pictures drawn here (no downloads): a soft gradient in the product's colour behind a
//! shape that says what kind of thing it is (a circle for clothes, a rounded square for the
//! home, a diamond for electronics), with a shadow beneath. Plain, but a shop page full of them
//! looks like a shop.

use super::generate::{Colour, Family};
use image::{ImageBuffer, Rgb, RgbImage};

/// Pixels per side.
pub const SIZE: u32 = 600;

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let m = |x: u8, y: u8| (f32::from(x) * (1.0 - t) + f32::from(y) * t).round().clamp(0.0, 255.0) as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [20, 20, 24];

/// How far inside the shape a point is (> 0 inside), in pixels; `variant` turns and sizes it a
/// little, so a category's products differ.
fn inside(family: Family, variant: u64, x: f32, y: f32) -> f32 {
    let c = SIZE as f32 / 2.0;
    let r = SIZE as f32 * (0.26 + 0.02 * (variant % 4) as f32);
    let (dx, dy) = (x - c, y - c);
    match family {
        Family::Apparel => r - (dx * dx + dy * dy).sqrt(),
        Family::Home => {
            // A rounded square's signed distance, negated.
            let corner = r * 0.3;
            let (qx, qy) = (dx.abs() - (r - corner), dy.abs() - (r - corner));
            let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
            corner - outside - qx.max(qy).min(0.0)
        }
        Family::Electronics => r * 1.15 - (dx.abs() + dy.abs()),
    }
}

/// A JPEG of the product's picture.
pub fn picture(colour: &Colour, family: Family, variant: u64) -> Vec<u8> {
    let top = mix(colour.rgb, WHITE, 0.85);
    let bottom = mix(colour.rgb, WHITE, 0.55);
    let shape = mix(colour.rgb, INK, 0.12);
    let highlight = mix(colour.rgb, WHITE, 0.25);
    let shadow_offset = SIZE as f32 * 0.035;
    let img: RgbImage = ImageBuffer::from_fn(SIZE, SIZE, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let background = mix(top, bottom, fy / SIZE as f32);
        let d = inside(family, variant, fx, fy);
        if d > 1.0 {
            // Lit from the top left: lighter towards it.
            let light = ((SIZE as f32 - fx - fy) / (2.0 * SIZE as f32)).clamp(0.0, 1.0);
            Rgb(mix(shape, highlight, light * 0.6))
        } else if d > 0.0 {
            Rgb(mix(background, shape, d))
        } else {
            let s = inside(family, variant, fx - shadow_offset, fy - shadow_offset);
            let darkness = ((s + 24.0) / 24.0).clamp(0.0, 1.0) * 0.18;
            Rgb(mix(background, INK, darkness))
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    #[allow(clippy::expect_used)] // encoding an in-memory RGB image into memory cannot fail
    encoder.encode_image(&img).expect("encode a JPEG in memory");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::generate::COLOURS;

    #[test]
    fn a_picture_is_a_real_jpeg_in_the_products_colour() {
        for (family, colour) in
            [(Family::Apparel, &COLOURS[2]), (Family::Home, &COLOURS[4]), (Family::Electronics, &COLOURS[0])]
        {
            let bytes = picture(colour, family, 1);
            let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (SIZE, SIZE));
            // The middle is the shape: close to the product's colour.
            let centre = img.get_pixel(SIZE / 2, SIZE / 2).0;
            let distance: i32 = centre.iter().zip(colour.rgb).map(|(a, b)| (i32::from(*a) - i32::from(b)).abs()).sum();
            assert!(distance < 90, "{centre:?} vs {:?}", colour.rgb);
            // The corner is background: lighter than the shape.
            let corner = img.get_pixel(5, 5).0;
            assert!(
                corner.iter().map(|c| u32::from(*c)).sum::<u32>() > centre.iter().map(|c| u32::from(*c)).sum::<u32>()
            );
        }
    }
}
