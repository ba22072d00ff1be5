//! A multi-layer, optionally bidirectional LSTM with PyTorch's `nn.LSTM`
//! semantics and parameter layout (candle's `rnn::LSTM` is unidirectional).
//!
//! Per layer `k` and direction (suffix `""` forward, `"_reverse"` backward):
//! `weight_ih_l{k}` `(4H, I)`, `weight_hh_l{k}` `(4H, H)`, `bias_ih_l{k}` and
//! `bias_hh_l{k}` `(4H)`, gate rows in PyTorch's order input, forget, cell,
//! output (`i, f, g, o`), all initialised `U(±1/√H)` as PyTorch does:
//!
//! ```text
//! i = σ(W_ii x + b_ii + W_hi h + b_hi)     g = tanh(W_ig x + b_ig + W_hg h + b_hg)
//! f = σ(W_if x + b_if + W_hf h + b_hf)     o = σ(W_io x + b_io + W_ho h + b_ho)
//! c' = f ⊙ c + i ⊙ g                       h' = o ⊙ tanh(c')
//! ```
//!
//! Cost structure: the input projection of a layer is one matmul over the
//! whole sequence and both directions; the recurrence then runs both
//! directions together, one batched `(D, B, H) × (D, H, 4H)` matmul per time
//! step, the backward direction reading the projected sequence reversed.
//! Every LSTM of the zoo goes through [`Lstm::forward`]: for `f32` CPU
//! tensors the recurrence (both directions, forward and backward through
//! time) is the fused kernel of [`tr_kernels::lstm_recurrence`]; other devices and
//! dtypes, or reference ops requested via [`tr_kernels::set_reference_ops`],
//! use the candle ops below.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::dropout::Dropout;
use super::init::symmetric_uniform;

/// Shape settings of an [`Lstm`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmConfig {
    pub input_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub bidirectional: bool,
    /// Dropout on the outputs of every layer but the last (training only).
    pub dropout: f32,
}

/// One direction of one layer.
#[derive(Clone, Debug)]
struct Direction {
    /// `(4H, I)`
    w_ih: Tensor,
    /// `(4H, H)`
    w_hh: Tensor,
    /// `(4H)`
    b_ih: Tensor,
    /// `(4H)`
    b_hh: Tensor,
}

/// A stack of (bi)directional LSTM layers.
#[derive(Clone, Debug)]
pub struct Lstm {
    /// `layers[k][d]`: layer `k`, direction `d` (0 forward, 1 backward).
    layers: Vec<Vec<Direction>>,
    config: LstmConfig,
    dropout: Dropout,
}

impl Lstm {
    /// Creates (or loads) the parameters under `vb` with PyTorch's names.
    pub fn new(config: LstmConfig, vb: VarBuilder) -> Result<Self> {
        let h = config.hidden_size;
        if h == 0 || config.num_layers == 0 || config.input_size == 0 {
            candle_core::bail!("LSTM sizes must be positive, got {config:?}")
        }
        let init = symmetric_uniform(1.0 / (h as f64).sqrt());
        let dirs = if config.bidirectional { 2 } else { 1 };
        let mut layers = Vec::with_capacity(config.num_layers);
        for k in 0..config.num_layers {
            let input = if k == 0 { config.input_size } else { h * dirs };
            let mut directions = Vec::with_capacity(dirs);
            for d in 0..dirs {
                let sfx = if d == 0 { "" } else { "_reverse" };
                directions.push(Direction {
                    w_ih: vb.get_with_hints(
                        (4 * h, input),
                        &format!("weight_ih_l{k}{sfx}"),
                        init,
                    )?,
                    w_hh: vb.get_with_hints((4 * h, h), &format!("weight_hh_l{k}{sfx}"), init)?,
                    b_ih: vb.get_with_hints(4 * h, &format!("bias_ih_l{k}{sfx}"), init)?,
                    b_hh: vb.get_with_hints(4 * h, &format!("bias_hh_l{k}{sfx}"), init)?,
                });
            }
            layers.push(directions);
        }
        Ok(Self {
            layers,
            config,
            dropout: Dropout::new(config.dropout),
        })
    }

    /// The shape settings.
    pub fn config(&self) -> &LstmConfig {
        &self.config
    }

    /// `(S, B, I)` → `(S, B, D·H)`, `D` = 2 when bidirectional; the last
    /// dimension holds the forward direction's `H` outputs, then the
    /// backward direction's (PyTorch's layout). Zero initial states.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.run(x, train, tr_kernels::use_fast_kernels(x))
    }

    /// [`Lstm::forward`] with candle's reference ops whatever the device and
    /// the [`tr_kernels::set_reference_ops`] setting (for equivalence checks).
    pub fn forward_reference(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.run(x, train, false)
    }

    fn run(&self, x: &Tensor, train: bool, fast: bool) -> Result<Tensor> {
        let (_, _, input) = x.dims3()?;
        if input != self.config.input_size {
            candle_core::bail!(
                "LSTM expects {} input features per step, got input {:?}",
                self.config.input_size,
                x.shape()
            )
        }
        let mut x = x.clone();
        for (k, layer) in self.layers.iter().enumerate() {
            if k > 0 {
                x = self.dropout.forward(&x, train)?;
            }
            x = run_layer(&x, layer, self.config.hidden_size, fast)?;
        }
        Ok(x)
    }
}

/// One layer, all its directions: `(S, B, I)` → `(S, B, D·H)`.
fn run_layer(x: &Tensor, dirs: &[Direction], h: usize, fast: bool) -> Result<Tensor> {
    let (s, b, i) = x.dims3()?;
    let d = dirs.len();
    if s == 0 {
        return Tensor::zeros((0, b, d * h), x.dtype(), x.device());
    }
    // Input projection for every step and direction at once: (S·B, D·4H).
    let w_ih = Tensor::cat(&dirs.iter().map(|p| p.w_ih.clone()).collect::<Vec<_>>(), 0)?;
    let bias = dirs
        .iter()
        .map(|p| &p.b_ih + &p.b_hh)
        .collect::<Result<Vec<_>>>()?;
    let bias = Tensor::cat(&bias, 0)?;
    let xw = x
        .reshape((s * b, i))?
        .matmul(&w_ih.t()?)?
        .broadcast_add(&bias)?;
    if fast {
        let w_hh = Tensor::stack(&dirs.iter().map(|p| p.w_hh.clone()).collect::<Vec<_>>(), 0)?;
        return tr_kernels::lstm_recurrence(&xw.reshape((s, b, d * 4 * h))?, &w_hh);
    }
    let xw = xw.reshape((s, b, d, 4 * h))?;
    let reverse = reversed_indices(s, x)?;
    // (S, D, B, 4H) with the backward direction's steps in reverse order, so
    // recurrence step `t` reads row `t` for every direction.
    let xw = if d == 2 {
        let fwd = xw.narrow(2, 0, 1)?;
        let bwd = xw
            .narrow(2, 1, 1)?
            .contiguous()?
            .index_select(&reverse, 0)?;
        Tensor::cat(&[fwd, bwd], 2)?
    } else {
        xw
    };
    let xw = xw.transpose(1, 2)?.contiguous()?;
    // (D, H, 4H)
    let w_hh_t = Tensor::stack(
        &dirs
            .iter()
            .map(|p| p.w_hh.t())
            .collect::<Result<Vec<_>>>()?,
        0,
    )?
    .contiguous()?;
    let mut hid = Tensor::zeros((d, b, h), x.dtype(), x.device())?;
    let mut cell = hid.clone();
    let mut outputs = Vec::with_capacity(s);
    for t in 0..s {
        let gates = (xw.get(t)? + hid.matmul(&w_hh_t)?)?;
        let in_gate = candle_nn::ops::sigmoid(&gates.narrow(2, 0, h)?)?;
        let forget = candle_nn::ops::sigmoid(&gates.narrow(2, h, h)?)?;
        let cand = gates.narrow(2, 2 * h, h)?.tanh()?;
        let out_gate = candle_nn::ops::sigmoid(&gates.narrow(2, 3 * h, h)?)?;
        cell = ((forget * &cell)? + (in_gate * cand)?)?;
        hid = (out_gate * cell.tanh()?)?;
        outputs.push(hid.clone());
    }
    // (S, D, B, H); put the backward direction back in time order.
    let out = Tensor::stack(&outputs, 0)?;
    let out = if d == 2 {
        let fwd = out.narrow(1, 0, 1)?;
        let bwd = out
            .narrow(1, 1, 1)?
            .contiguous()?
            .index_select(&reverse, 0)?;
        Tensor::cat(&[fwd, bwd], 1)?
    } else {
        out
    };
    out.permute((0, 2, 1, 3))?.reshape((s, b, d * h))
}

/// `[S-1, …, 1, 0]` as a `u32` tensor on `like`'s device.
fn reversed_indices(s: usize, like: &Tensor) -> Result<Tensor> {
    let idx: Vec<u32> = (0..s as u32).rev().collect();
    Tensor::from_vec(idx, s, like.device())
}
