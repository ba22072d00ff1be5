//! Every model of the zoo, in a tiny configuration of its architecture,
//! overfits one tiny batch to CER 0 (classifiers: accuracy 1) through the
//! step functions of its objective, within a bounded number of AdamW steps.
//!
//! Images are synthetic: each character is a fixed random 8×8 bit pattern
//! (upscaled), ink bright on black; lines are those glyphs side by side.

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use tr_data::Vocabulary;
use tr_lit::{Accuracy, CharErrorRate, LitConfig, LitModel, Objective};
use tr_models::params::trainable_vars;
use tr_models::seeded_var_builder;
use tr_models::{DataSpec, ModelConfig};

const LINES: [&str; 4] = ["abc defg", "hello yo", "tr rocks", "cab bad"];
/// For the fixed-length reader: no spaces, since a window cannot tell a
/// (blank) space from the (blank) padding after a short line.
const WORDS: [&str; 4] = ["abcdefgh", "helloyou", "trrocks", "cabbad"];
/// Short lines for the ResNet encoder (it downsamples 32x).
const SHORT: [&str; 4] = ["abcd", "hey", "dog", "cab"];

/// A `(gh, gw)` glyph: random 8×8 bits seeded by the character, upscaled;
/// space is blank.
fn glyph(c: char, gh: usize, gw: usize) -> Vec<f32> {
    let mut state = u64::from(c as u32).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut bits = [false; 64];
    for b in bits.iter_mut() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *b = c != ' ' && (state >> 33) % 2 == 0;
    }
    let mut out = vec![0f32; gh * gw];
    for y in 0..gh {
        for x in 0..gw {
            out[y * gw + x] = if bits[(y * 8 / gh) * 8 + x * 8 / gw] {
                1.0
            } else {
                0.0
            };
        }
    }
    out
}

/// `(B, 1, gh, n·gw)` images of texts padded with spaces to `n` characters.
fn render(texts: &[&str], n: usize, gh: usize, gw: usize) -> Tensor {
    let w = n * gw;
    let mut data = vec![0f32; texts.len() * gh * w];
    for (i, t) in texts.iter().enumerate() {
        let chars: Vec<char> = t.chars().chain(std::iter::repeat(' ')).take(n).collect();
        for (k, &c) in chars.iter().enumerate() {
            let g = glyph(c, gh, gw);
            for y in 0..gh {
                for x in 0..gw {
                    data[i * gh * w + y * w + k * gw + x] = g[y * gw + x];
                }
            }
        }
    }
    Tensor::from_vec(data, (texts.len(), 1, gh, w), &Device::Cpu).unwrap()
}

struct Case {
    name: &'static str,
    overrides: &'static [(&'static str, &'static str)],
    objective: Option<Objective>,
    glyph: (usize, usize),
    max_steps: usize,
    lr: f64,
}

/// Trains until the validation-mode step decodes the batch perfectly;
/// returns the number of steps it took.
fn overfit(
    case: &Case,
    spec: DataSpec,
    images: &Tensor,
    targets: &Tensor,
    sequence: bool,
) -> usize {
    let mut config = ModelConfig::by_name(case.name).unwrap();
    for (k, v) in case.overrides {
        config
            .set_str(k, v)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    }
    // Seeded initialisation: the test is deterministic.
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, 7, DType::F32, &Device::Cpu);
    let model = config.build(&spec, vb).unwrap();
    let lit_config = LitConfig {
        objective: case.objective,
        ..LitConfig::default()
    };
    let lit = LitModel::new(&lit_config, model.task(), &spec.vocab).unwrap();
    // Trainable variables only (batch-norm running statistics are buffers).
    let vars = trainable_vars(&varmap)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: case.lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )
    .unwrap();
    let mut first_loss = None;
    for step in 1..=case.max_steps {
        let out = lit.step(model.as_ref(), images, targets, true).unwrap();
        let loss = out.loss.to_scalar::<f32>().unwrap();
        assert!(
            loss.is_finite(),
            "{}: loss {loss} at step {step}",
            case.name
        );
        first_loss.get_or_insert(loss);
        opt.backward_step(&out.loss).unwrap();
        if step % 10 == 0 {
            let eval = lit.step(model.as_ref(), images, targets, false).unwrap();
            let done = if sequence {
                let mut cer = CharErrorRate::for_vocab(&spec.vocab);
                cer.update(&eval.predictions, &eval.targets);
                cer.corpus() == 0.0
            } else {
                let mut acc = Accuracy::default();
                acc.update(&eval.predictions, &eval.targets);
                acc.compute() == 1.0
            };
            if done {
                let last = eval.loss.to_scalar::<f32>().unwrap();
                assert!(
                    last < first_loss.unwrap(),
                    "{}: loss did not fall ({last})",
                    case.name
                );
                return step;
            }
        }
    }
    let eval = lit.step(model.as_ref(), images, targets, false).unwrap();
    panic!(
        "{} did not overfit in {} steps: predictions {:?} vs targets {:?}",
        case.name, case.max_steps, eval.predictions, eval.targets
    );
}

fn line_case(case: Case, lines: &[&str], with_start_end: bool, output_len: usize, chars: usize) {
    let vocab = Vocabulary::emnist();
    let (gh, gw) = case.glyph;
    let images = render(lines, chars, gh, gw);
    let targets = vocab
        .encode_batch(lines, output_len, with_start_end, &Device::Cpu)
        .unwrap();
    let spec = DataSpec::new([1, gh, chars * gw], vocab, Some(output_len));
    let steps = overfit(&case, spec, &images, &targets, true);
    eprintln!("{} overfit in {steps} steps", case.name);
}

#[test]
fn mlp_and_cnn_overfit_a_batch_of_characters() {
    let vocab = Vocabulary::emnist();
    let chars = ['a', 'B', '3', 'x', 'q', 'Z'];
    for (name, overrides, max_steps) in [
        (
            "mlp",
            &[("fc1", "32"), ("fc2", "16"), ("fc_dropout", "0.0")][..],
            200,
        ),
        (
            "cnn",
            &[("conv_dim", "8"), ("fc_dim", "32"), ("fc_dropout", "0.0")][..],
            200,
        ),
    ] {
        let glyphs: Vec<f32> = chars.iter().flat_map(|&c| glyph(c, 16, 16)).collect();
        let images = Tensor::from_vec(glyphs, (chars.len(), 1, 16, 16), &Device::Cpu).unwrap();
        let labels: Vec<u32> = chars
            .iter()
            .map(|&c| vocab.char_index(c).unwrap())
            .collect();
        let targets = Tensor::new(labels.as_slice(), &Device::Cpu).unwrap();
        let spec = DataSpec::new([1, 16, 16], vocab.clone(), None);
        let case = Case {
            name,
            overrides,
            objective: None,
            glyph: (16, 16),
            max_steps,
            lr: 1e-2,
        };
        let steps = overfit(&case, spec, &images, &targets, false);
        eprintln!("{name} overfit in {steps} steps");
    }
}

#[test]
fn line_cnn_simple_overfits_with_fixed_length_targets() {
    // One window per character, per-position cross-entropy on 8 padded labels.
    let case = Case {
        name: "line-cnn-simple",
        overrides: &[
            ("cnn.conv_dim", "8"),
            ("cnn.fc_dim", "32"),
            ("cnn.fc_dropout", "0.0"),
            ("window_width", "16"),
            ("window_stride", "16"),
        ],
        objective: Some(Objective::Positional),
        glyph: (16, 16),
        max_steps: 300,
        lr: 1e-2,
    };
    line_case(case, &WORDS, false, 8, 8);
}

#[test]
fn line_cnn_overfits_with_ctc() {
    let case = Case {
        name: "line-cnn",
        overrides: &[
            ("conv_dim", "8"),
            ("fc_dim", "32"),
            ("fc_dropout", "0.0"),
            ("window_width", "16"),
            ("window_stride", "8"),
        ],
        objective: None,
        glyph: (16, 16),
        max_steps: 400,
        lr: 1e-2,
    };
    line_case(case, &LINES, false, 8, 8);
}

#[test]
// lstm_dim 32 is too narrow for this batch from seed 7: it stalls on all
// blanks (lr 3e-3) or on "helo" for "hello" (lr 1e-3) after 1000 steps; 64
// memorises it in 150 steps.
fn line_cnn_lstm_overfits_with_ctc() {
    let case = Case {
        name: "line-cnn-lstm",
        overrides: &[
            ("line_cnn.conv_dim", "8"),
            ("line_cnn.fc_dim", "32"),
            ("line_cnn.fc_dropout", "0.0"),
            ("line_cnn.window_width", "16"),
            ("line_cnn.window_stride", "8"),
            ("lstm_dim", "64"),
            ("lstm_dropout", "0.0"),
        ],
        objective: None,
        glyph: (16, 16),
        max_steps: 400,
        lr: 3e-3,
    };
    line_case(case, &LINES, false, 8, 8);
}

#[test]
fn line_cnn_transformer_overfits_with_teacher_forcing() {
    let case = Case {
        name: "line-cnn-transformer",
        overrides: &[
            ("line_cnn.conv_dim", "8"),
            ("line_cnn.fc_dim", "32"),
            ("line_cnn.fc_dropout", "0.0"),
            ("line_cnn.window_width", "16"),
            ("line_cnn.window_stride", "8"),
            ("tf_dim", "32"),
            ("tf_fc_dim", "64"),
            ("tf_layers", "1"),
            ("tf_nhead", "2"),
            ("tf_dropout", "0.0"),
            ("pos_dropout", "0.0"),
        ],
        objective: None,
        glyph: (16, 16),
        max_steps: 400,
        lr: 3e-3,
    };
    line_case(case, &LINES, true, 10, 8);
}

#[test]
fn resnet_transformer_overfits_with_teacher_forcing() {
    let case = Case {
        name: "resnet-transformer",
        overrides: &[
            ("resnet_width", "8"),
            ("tf_dim", "32"),
            ("tf_fc_dim", "64"),
            ("tf_layers", "1"),
            ("tf_nhead", "2"),
            ("tf_dropout", "0.0"),
            ("pos_dropout", "0.0"),
        ],
        objective: None,
        glyph: (32, 16),
        max_steps: 200,
        lr: 1e-3,
    };
    line_case(case, &SHORT, true, 6, 4);
}
