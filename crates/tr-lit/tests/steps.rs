//! Step functions with stand-in models whose outputs are known, so the
//! losses, target handling and decoding of each objective are checked
//! exactly (the real models are exercised by tests/overfit.rs).

use std::sync::Mutex;

use candle_core::{DType, Device, Result, Tensor};
use tr_data::Vocabulary;
use tr_lit::{CharErrorRate, LitConfig, LitModel, Objective};
use tr_models::{GreedyDecode, Model, Task};

/// Returns fixed logits whatever the images; records decoder inputs.
struct Fixed {
    task: Task,
    logits: Tensor,
    greedy: Option<Tensor>,
    seen_teacher_input: Mutex<Option<Vec<Vec<u32>>>>,
}

impl Fixed {
    fn new(task: Task, logits: Tensor) -> Self {
        Self {
            task,
            logits,
            greedy: None,
            seen_teacher_input: Mutex::new(None),
        }
    }
}

impl Model for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }
    fn task(&self) -> Task {
        self.task
    }
    fn forward(&self, _x: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(self.logits.clone())
    }
    fn decode_greedy(&self, _x: &Tensor) -> Result<GreedyDecode> {
        let tokens = self.greedy.clone().expect("greedy tokens set");
        let probs = Tensor::ones(tokens.dims(), DType::F32, tokens.device())?;
        Ok(GreedyDecode { tokens, probs })
    }
    fn forward_teacher(&self, _x: &Tensor, y: &Tensor, _train: bool) -> Result<Tensor> {
        *self.seen_teacher_input.lock().unwrap() = Some(y.to_vec2::<u32>()?);
        Ok(self.logits.clone())
    }
}

/// `(B, C, S)` logits with `scale` on the given class at each step.
fn one_hot_logits(rows: &[Vec<u32>], classes: usize, scale: f32) -> Tensor {
    let (b, s) = (rows.len(), rows[0].len());
    let mut v = vec![0f32; b * classes * s];
    for (i, row) in rows.iter().enumerate() {
        for (t, &k) in row.iter().enumerate() {
            v[i * classes * s + k as usize * s + t] = scale;
        }
    }
    Tensor::from_vec(v, (b, classes, s), &Device::Cpu).unwrap()
}

fn images(b: usize) -> Tensor {
    Tensor::zeros((b, 1, 4, 8), DType::F32, &Device::Cpu).unwrap()
}

#[test]
fn classify_step_reports_classes_and_exact_loss() {
    let logits = Tensor::new(&[[2.0f32, 0.0, 0.0], [0.0, 0.0, 1.0]], &Device::Cpu).unwrap();
    let model = Fixed::new(Task::Classify, logits);
    let vocab = Vocabulary::digits();
    let lit = LitModel::new(&LitConfig::default(), Task::Classify, &vocab).unwrap();
    assert_eq!(lit.objective, Objective::Classify);
    let targets = Tensor::new(&[0u32, 1], &Device::Cpu).unwrap();
    let out = lit.step(&model, &images(2), &targets, true).unwrap();
    assert_eq!(out.predictions, vec![vec![0], vec![2]]);
    assert_eq!(out.targets, vec![vec![0], vec![1]]);
    let e = std::f32::consts::E;
    let expected = (-(e * e / (e * e + 2.0)).ln() - (1.0 / (e + 2.0)).ln()) / 2.0;
    assert!((out.loss.to_scalar::<f32>().unwrap() - expected).abs() < 1e-6);
}

#[test]
fn ctc_step_strips_tokens_and_decodes_greedily() {
    let v = Vocabulary::emnist();
    let (b, s, e, p) = (0u32, 1u32, 2u32, 3u32);
    let [h, i] = [v.char_index('h').unwrap(), v.char_index('i').unwrap()];
    // Paths: "h h _ i _ _" -> "hi"; "i _ i _ _ _" -> "ii".
    let paths = vec![vec![h, h, b, i, b, b], vec![i, b, i, b, b, b]];
    let model = Fixed::new(Task::Ctc, one_hot_logits(&paths, v.len(), 30.0));
    let lit = LitModel::new(&LitConfig::default(), Task::Ctc, &v).unwrap();
    // Targets with <S>/<E> around "hi", and a plain padded "ii".
    let targets = Tensor::new(&[[s, h, i, e, p], [i, i, p, p, p]], &Device::Cpu).unwrap();
    let out = lit.step(&model, &images(2), &targets, false).unwrap();
    assert_eq!(out.targets, vec![vec![h, i], vec![i, i]]);
    assert_eq!(out.predictions, out.targets);
    // Near-certain correct paths: loss ~ 0 (mean over the batch of loss / length).
    let loss = out.loss.to_scalar::<f32>().unwrap();
    assert!(loss.abs() < 1e-3, "{loss}");
    let mut cer = CharErrorRate::for_vocab(&v);
    cer.update(&out.predictions, &out.targets);
    assert_eq!(cer.corpus(), 0.0);
    // A wrong target gives a large loss.
    let wrong = Tensor::new(&[[h, h, p, p, p], [i, i, p, p, p]], &Device::Cpu).unwrap();
    let bad = lit
        .step(&model, &images(2), &wrong, false)
        .unwrap()
        .loss
        .to_scalar::<f32>()
        .unwrap();
    assert!(bad > 5.0, "{bad}");
}

#[test]
fn positional_step_is_per_position_cross_entropy() {
    let v = Vocabulary::emnist();
    let a = v.char_index('a').unwrap();
    let rows = vec![vec![a, a, 3, 3]];
    let model = Fixed::new(Task::Ctc, one_hot_logits(&rows, v.len(), 20.0));
    let config = LitConfig {
        objective: Some(Objective::Positional),
        ..LitConfig::default()
    };
    let lit = LitModel::new(&config, Task::Ctc, &v).unwrap();
    let targets = Tensor::new(&[[a, a, 3u32, 3]], &Device::Cpu).unwrap();
    let out = lit.step(&model, &images(1), &targets, true).unwrap();
    assert_eq!(out.predictions, vec![vec![a, a]]);
    assert!(out.loss.to_scalar::<f32>().unwrap() < 1e-6);
    // A target length that differs from the model's steps is an error.
    let short = Tensor::new(&[[a, 3u32]], &Device::Cpu).unwrap();
    let err = lit
        .step(&model, &images(1), &short, true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("one step per target position"), "{err}");
}

#[test]
fn seq2seq_step_teacher_forces_and_decodes_in_validation() {
    let v = Vocabulary::emnist();
    let (s, e, p) = (1u32, 2u32, 3u32);
    let [o, k] = [v.char_index('o').unwrap(), v.char_index('k').unwrap()];
    let y = [s, o, k, e, p];
    // Logits predict y[:, 1:] exactly.
    let mut model = Fixed::new(
        Task::Seq2Seq,
        one_hot_logits(&[y[1..].to_vec()], v.len(), 20.0),
    );
    model.greedy = Some(Tensor::new(&[[s, o, o, e, p]], &Device::Cpu).unwrap());
    let lit = LitModel::new(&LitConfig::default(), Task::Seq2Seq, &v).unwrap();
    let targets = Tensor::new(&[[s, o, k, e, p]], &Device::Cpu).unwrap();

    let train = lit.step(&model, &images(1), &targets, true).unwrap();
    assert_eq!(
        model.seen_teacher_input.lock().unwrap().clone().unwrap(),
        vec![vec![s, o, k, e]]
    );
    assert_eq!(train.predictions, vec![vec![o, k]]);
    assert_eq!(train.targets, vec![vec![o, k]]);
    assert!(train.loss.to_scalar::<f32>().unwrap() < 1e-6);

    // Validation reads decode_greedy, not the teacher-forced logits.
    let val = lit.step(&model, &images(1), &targets, false).unwrap();
    assert_eq!(val.predictions, vec![vec![o, o]]);

    // Padding: a model that predicts <E> where the target has <P> is
    // penalised only when padding counts (the 2022 rewrite) and not when it
    // is ignored (the course's TransformerLitModel).
    let counted = LitModel::new(
        &LitConfig {
            ignore_padding: false,
            ..LitConfig::default()
        },
        Task::Seq2Seq,
        &v,
    )
    .unwrap();
    let pad_wrong = Fixed::new(
        Task::Seq2Seq,
        one_hot_logits(&[vec![o, k, e, e]], v.len(), 20.0),
    );
    let a = lit
        .step(&pad_wrong, &images(1), &targets, true)
        .unwrap()
        .loss
        .to_scalar::<f32>()
        .unwrap();
    let b = counted
        .step(&pad_wrong, &images(1), &targets, true)
        .unwrap()
        .loss
        .to_scalar::<f32>()
        .unwrap();
    assert!(a < 1e-5, "ignored padding: {a}");
    // One of four positions has NLL ~20 (logit 20 on the wrong class).
    assert!((b - 20.0 / 4.0).abs() < 0.01, "counted padding: {b}");
}

#[test]
fn configuration_errors() {
    let v = Vocabulary::emnist();
    let err = LitModel::new(
        &LitConfig {
            objective: Some(Objective::Ctc),
            ..LitConfig::default()
        },
        Task::Seq2Seq,
        &v,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot train"), "{err}");
    let err = LitModel::new(&LitConfig::default(), Task::Ctc, &Vocabulary::digits())
        .unwrap_err()
        .to_string();
    assert!(err.contains("<B>"), "{err}");
    let model = Fixed::new(
        Task::Ctc,
        Tensor::zeros((2, 83, 5), DType::F32, &Device::Cpu).unwrap(),
    );
    let lit = LitModel::new(&LitConfig::default(), Task::Ctc, &v).unwrap();
    let err = lit
        .step(
            &model,
            &images(3),
            &Tensor::zeros((3, 4), DType::U32, &Device::Cpu).unwrap(),
            true,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("(3, C, S)"), "{err}");
    let config: LitConfig =
        serde_json::from_str(r#"{"objective": "positional", "label_smoothing": 0.1}"#).unwrap();
    assert_eq!(config.objective, Some(Objective::Positional));
    assert!(config.ignore_padding);
    assert!(serde_json::from_str::<LitConfig>(r#"{"objectiv": "ctc"}"#).is_err());
}
