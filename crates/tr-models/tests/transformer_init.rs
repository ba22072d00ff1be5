//! The two Transformer models share one encoder–decoder implementation
//! (`seq2seq::encoder_decoder`); these pins show that sharing it kept their
//! parameter names and same-seed initial weights, so existing checkpoints
//! and artifacts load and same-seed runs start from the same point.

mod common;

use candle_nn::VarMap;
use tr_data::Vocabulary;
use tr_models::{DataSpec, ModelConfig};

/// Number of tensors, FNV-1a of the sorted names, Σw and Σw² of a tiny
/// `name` model built with the test seed.
fn fingerprint(name: &str, spec: DataSpec, sets: &[(&str, &str)]) -> (usize, u64, f64, f64) {
    let mut cfg = ModelConfig::by_name(name).unwrap();
    for (k, v) in sets {
        cfg.set_str(k, v).unwrap();
    }
    let varmap = VarMap::new();
    cfg.build(&spec, common::vb(&varmap)).unwrap();
    let vars = tr_models::params::named_vars(&varmap);
    let mut names: u64 = 0xcbf2_9ce4_8422_2325;
    let (mut sum, mut sq) = (0f64, 0f64);
    for (n, v) in &vars {
        for b in n.bytes().chain([b'\n']) {
            names = (names ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        for x in v
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
        {
            sum += f64::from(x);
            sq += f64::from(x) * f64::from(x);
        }
    }
    (vars.len(), names, sum, sq)
}

fn assert_close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: {got:.12e}, pinned {want:.12e}"
    );
}

fn check(name: &str, got: (usize, u64, f64, f64), want: (usize, u64, f64, f64)) {
    assert_eq!((got.0, got.1), (want.0, want.1), "{name}: tensor names");
    assert_close(&format!("{name} sum"), got.2, want.2);
    assert_close(&format!("{name} sum of squares"), got.3, want.3);
}

#[test]
fn line_cnn_transformer_names_and_initial_weights_are_pinned() {
    let got = fingerprint(
        "line-cnn-transformer",
        DataSpec::new([1, 16, 96], Vocabulary::emnist(), Some(12)),
        &[
            ("line_cnn.conv_dim", "4"),
            ("line_cnn.fc_dim", "16"),
            ("tf_dim", "16"),
            ("tf_fc_dim", "32"),
            ("tf_layers", "2"),
            ("tf_nhead", "2"),
        ],
    );
    // Computed before the two models shared their implementation.
    let pinned = (
        61,
        10301672162209251018,
        98.58064051771947,
        448.5099904849615,
    );
    check("line-cnn-transformer", got, pinned);
}

#[test]
fn resnet_transformer_names_and_initial_weights_are_pinned() {
    let got = fingerprint(
        "resnet-transformer",
        DataSpec::new([1, 64, 96], Vocabulary::paragraphs(), Some(12)),
        &[
            ("tf_dim", "32"),
            ("tf_fc_dim", "64"),
            ("tf_layers", "2"),
            ("resnet_width", "8"),
        ],
    );
    // Computed before the two models shared their implementation.
    let pinned = (
        141,
        5073259548885558793,
        1329.9212319699573,
        2805.047831964493,
    );
    check("resnet-transformer", got, pinned);
}
