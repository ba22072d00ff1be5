//! `DataModule::to_candle_vision_dataset` (feature `candle-datasets`).
#![cfg(feature = "candle-datasets")]

use tr_data::datasets::{FakeImagesConfig, FakeTarget, Target};

#[test]
fn classification_module_converts_with_candle_layout() {
    let cfg = FakeImagesConfig {
        num_samples: 40,
        image_height: 6,
        image_width: 5,
        ..FakeImagesConfig::default()
    };
    let m = cfg.build().unwrap();
    let ds = m.to_candle_vision_dataset().unwrap();
    assert_eq!(ds.train_images.dims(), &[20, 30]);
    assert_eq!(ds.test_images.dims(), &[10, 30]);
    assert_eq!(ds.train_labels.dims(), &[20]);
    assert_eq!(ds.labels, 10);
    let labels = ds.train_labels.to_vec1::<u32>().unwrap();
    let images = ds.train_images.to_vec2::<f32>().unwrap();
    for i in 0..20 {
        let s = m.train.get(i, 0).unwrap();
        assert_eq!(Target::Class(labels[i]), s.target);
        let want: Vec<f32> = s
            .image
            .as_raw()
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        assert_eq!(images[i], want);
    }

    let seq = FakeImagesConfig {
        target: FakeTarget::Sequence,
        ..cfg
    }
    .build()
    .unwrap();
    let err = seq.to_candle_vision_dataset().unwrap_err().to_string();
    assert!(err.contains("sequence targets"), "{err}");
}
