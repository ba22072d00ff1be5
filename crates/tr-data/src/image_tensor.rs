//! Grey images ⇄ `f32` tensors.

use std::borrow::Borrow;

use candle_core::{DType, Device, Tensor};
use image::GrayImage;

use crate::error::{Error, Result};

/// Stacks same-sized grey images into a `(B, 1, H, W)` `f32` tensor in `[0, 1]`.
///
/// Images are grey `u8`, ink bright (255) on black (0), the polarity of the
/// course's EMNIST and IAM data. As tensors they are `f32` in `[0, 1]`
/// (`value / 255`): a batch is `(B, 1, H, W)`, one image `(1, H, W)`.
/// Converting back clamps to `[0, 1]` and rounds, so `u8 → f32 → u8` is
/// exact.
///
/// Part of the light core: only `candle-core` and `image` are needed.
///
/// An empty slice, or an image whose size differs from the first one, is an
/// error naming the image's position and both sizes.
pub fn images_to_tensor<I: Borrow<GrayImage>>(images: &[I], device: &Device) -> Result<Tensor> {
    let first = images
        .first()
        .ok_or_else(|| Error::invalid("images", "cannot build a batch tensor from zero images"))?
        .borrow();
    let (w, h) = first.dimensions();
    let mut data = Vec::with_capacity(images.len() * (w as usize) * (h as usize));
    for (i, img) in images.iter().enumerate() {
        let img = img.borrow();
        if img.dimensions() != (w, h) {
            return Err(Error::invalid(
                "images",
                format!(
                    "image {i} is {}x{} (HxW) but image 0 is {h}x{w}; every image of a batch must have the same size",
                    img.height(),
                    img.width()
                ),
            ));
        }
        data.extend(img.as_raw().iter().map(|&v| f32::from(v) / 255.0));
    }
    Ok(Tensor::from_vec(
        data,
        (images.len(), 1, h as usize, w as usize),
        device,
    )?)
}

/// One grey image as a `(1, H, W)` `f32` tensor in `[0, 1]`.
pub fn image_to_tensor(image: &GrayImage, device: &Device) -> Result<Tensor> {
    let (w, h) = image.dimensions();
    let data = image
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect();
    Ok(Tensor::from_vec(data, (1, h as usize, w as usize), device)?)
}

/// Splits a `(B, 1, H, W)` tensor (any float dtype) into `B` grey images.
///
/// Values are clamped to `[0, 1]` and scaled by 255 with rounding; NaN becomes 0.
pub fn tensor_to_images(tensor: &Tensor) -> Result<Vec<GrayImage>> {
    let (b, c, h, w) = match tensor.dims() {
        &[b, c, h, w] => (b, c, h, w),
        other => {
            return Err(Error::invalid(
                "image tensor",
                format!("expected shape (B, 1, H, W), got {other:?}"),
            ))
        }
    };
    if c != 1 {
        return Err(Error::invalid(
            "image tensor",
            format!(
                "expected 1 channel in shape (B, 1, H, W), got {c} in {:?}",
                tensor.dims()
            ),
        ));
    }
    let flat = float_values(tensor)?;
    let plane = h * w;
    (0..b)
        .map(|i| gray_from_values(&flat[i * plane..(i + 1) * plane], h, w))
        .collect()
}

/// One grey image from a `(H, W)`, `(1, H, W)` or `(1, 1, H, W)` tensor
/// (any float dtype), clamped and rounded as [`tensor_to_images`].
pub fn tensor_to_image(tensor: &Tensor) -> Result<GrayImage> {
    let (h, w) = match tensor.dims() {
        &[h, w] | &[1, h, w] | &[1, 1, h, w] => (h, w),
        other => {
            return Err(Error::invalid(
                "image tensor",
                format!(
                    "expected one image of shape (H, W), (1, H, W) or (1, 1, H, W), got {other:?}"
                ),
            ))
        }
    };
    gray_from_values(&float_values(tensor)?, h, w)
}

/// All values of a float tensor as a flat `f32` vector (row-major).
fn float_values(tensor: &Tensor) -> Result<Vec<f32>> {
    if !tensor.dtype().is_float() {
        return Err(Error::invalid(
            "image tensor",
            format!(
                "expected a float tensor with values in [0, 1], got dtype {:?}",
                tensor.dtype()
            ),
        ));
    }
    Ok(tensor
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?)
}

fn gray_from_values(values: &[f32], h: usize, w: usize) -> Result<GrayImage> {
    let too_big = || Error::invalid("image tensor", format!("{h}x{w} is too large for an image"));
    let (hu, wu) = (
        u32::try_from(h).map_err(|_| too_big())?,
        u32::try_from(w).map_err(|_| too_big())?,
    );
    // `as u8` saturates and maps NaN to 0, which is what we want after clamping.
    let bytes = values
        .iter()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    GrayImage::from_raw(wu, hu, bytes).ok_or_else(too_big)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn ramp(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| Luma([((x * 7 + y * 13) % 256) as u8]))
    }

    #[test]
    fn batch_round_trip_is_exact() {
        let imgs = vec![ramp(5, 3), GrayImage::from_pixel(5, 3, Luma([255]))];
        let t = images_to_tensor(&imgs, &Device::Cpu).unwrap();
        assert_eq!(t.dims(), &[2, 1, 3, 5]);
        assert_eq!(t.dtype(), DType::F32);
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v[0], 0.0);
        assert!((v[1] - 7.0 / 255.0).abs() < 1e-7);
        assert_eq!(v[15..].iter().copied().fold(f32::MAX, f32::min), 1.0);
        assert_eq!(tensor_to_images(&t).unwrap(), imgs);
        // References work too.
        let refs: Vec<&GrayImage> = imgs.iter().collect();
        assert_eq!(
            images_to_tensor(&refs, &Device::Cpu).unwrap().dims(),
            &[2, 1, 3, 5]
        );
    }

    #[test]
    fn single_image_round_trip_accepts_three_layouts() {
        let img = ramp(4, 6);
        let t = image_to_tensor(&img, &Device::Cpu).unwrap();
        assert_eq!(t.dims(), &[1, 6, 4]);
        assert_eq!(tensor_to_image(&t).unwrap(), img);
        assert_eq!(tensor_to_image(&t.squeeze(0).unwrap()).unwrap(), img);
        assert_eq!(tensor_to_image(&t.unsqueeze(0).unwrap()).unwrap(), img);
    }

    #[test]
    fn out_of_range_values_are_clamped() {
        let t = Tensor::new(&[[-0.5f32, 0.5, 2.0, f32::NAN]], &Device::Cpu).unwrap();
        let img = tensor_to_image(&t).unwrap();
        assert_eq!(img.as_raw(), &vec![0, 128, 255, 0]);
    }

    #[test]
    fn size_mismatch_names_index_and_both_sizes() {
        let imgs = vec![ramp(5, 3), ramp(5, 3), ramp(4, 3)];
        let err = images_to_tensor(&imgs, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("image 2 is 3x4"), "{err}");
        assert!(err.contains("image 0 is 3x5"), "{err}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let empty: Vec<GrayImage> = vec![];
        assert!(images_to_tensor(&empty, &Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("zero images"));
        let rgb = Tensor::zeros((2, 3, 4, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(tensor_to_images(&rgb)
            .unwrap_err()
            .to_string()
            .contains("got 3"));
        let ints = Tensor::zeros((1, 1, 4, 4), DType::U8, &Device::Cpu).unwrap();
        assert!(tensor_to_images(&ints)
            .unwrap_err()
            .to_string()
            .contains("float"));
        let batch = Tensor::zeros((2, 1, 4, 4), DType::F32, &Device::Cpu).unwrap();
        assert!(tensor_to_image(&batch)
            .unwrap_err()
            .to_string()
            .contains("[2, 1, 4, 4]"));
    }
}
