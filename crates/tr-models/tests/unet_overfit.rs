//! The U-Net segmenter memorises one tiny page: three text-like bars,
//! their line-body masks learnt to IoU > 0.9 within a bounded number of
//! AdamW steps, and the thresholded prediction has three components.

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use tr_models::params::trainable_vars;
use tr_models::{mask_loss, seeded_var_builder, UNet, UNetConfig};

const H: usize = 32;
const W: usize = 64;

/// Page (strokes inside three bands) and its body mask (the bands).
fn page() -> (Vec<f32>, Vec<f32>) {
    let mut img = vec![0f32; H * W];
    let mut mask = vec![0f32; H * W];
    for (k, y0) in [3usize, 13, 23].iter().enumerate() {
        for y in *y0..y0 + 6 {
            for x in 4..(56 - 8 * k) {
                mask[y * W + x] = 1.0;
                if x % 3 != 0 || y == *y0 {
                    img[y * W + x] = 1.0;
                }
            }
        }
    }
    (img, mask)
}

#[test]
fn unet_memorises_one_page_of_line_masks() {
    let (img, mask) = page();
    let x = Tensor::from_vec(img, (1, 1, H, W), &Device::Cpu).unwrap();
    let y = Tensor::from_vec(mask.clone(), (1, 1, H, W), &Device::Cpu).unwrap();
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, 7, DType::F32, &Device::Cpu);
    let cfg = UNetConfig {
        base: 4,
        depth: 2,
        out_channels: 1,
        batch_norm: true,
    };
    let net = UNet::new(&cfg, vb).unwrap();
    let vars = trainable_vars(&varmap)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: 1e-2,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )
    .unwrap();
    let first = mask_loss(&net.forward(&x).unwrap(), &y)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let mut iou = 0.0;
    for step in 1..=300 {
        let loss = mask_loss(&net.forward_t(&x, true).unwrap(), &y).unwrap();
        opt.backward_step(&loss).unwrap();
        if step % 20 == 0 {
            let p: Vec<f32> = net
                .probabilities(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let (mut i, mut u) = (0, 0);
            for (&a, &b) in p.iter().zip(&mask) {
                let (a, b) = (a > 0.5, b > 0.5);
                i += usize::from(a && b);
                u += usize::from(a || b);
            }
            iou = i as f64 / u as f64;
            if iou > 0.9 {
                break;
            }
        }
    }
    let last = mask_loss(&net.forward(&x).unwrap(), &y)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(
        iou > 0.9,
        "IoU {iou} after training (loss {first} -> {last})"
    );
    assert!(last < first);
    // Wrong sizes are refused with the rule.
    let odd = Tensor::zeros((1, 1, 30, 64), DType::F32, &Device::Cpu).unwrap();
    let e = net.forward(&odd).unwrap_err().to_string();
    assert!(e.contains("multiple of 4"), "{e}");
}
