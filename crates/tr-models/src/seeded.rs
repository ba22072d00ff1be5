//! Reproducible randomness for models: seeded weight initialisation and
//! seeded dropout masks.
//!
//! candle's CPU device cannot be seeded (`Device::set_seed` fails and
//! `Tensor::rand*` draw from the thread RNG), so a model initialised through
//! `VarBuilder::from_varmap` or regularised with `candle_nn::ops::dropout`
//! differs from run to run. Training in tr is reproducible bit for bit, so:
//!
//! * [`seeded_var_builder`] builds variables on the host from a ChaCha
//!   generator seeded by [`derive_seed`]`(seed, variable name)` — independent of the order in
//!   which layers are constructed — and honours candle's [`Init`] hints
//!   (constants, normal, uniform, Kaiming);
//! * [`dropout`] draws its mask from a thread-local generator that the
//!   trainer re-seeds before every step with [`reseed_dropout`], so a resumed
//!   run draws exactly the masks an uninterrupted run would have drawn.

use std::cell::RefCell;

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::init::{Init, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

// The seed-derivation rule has one home, tr-data: a variable's values are
// drawn from `derive_seed(seed, name)`, a run's streams from labels such as
// `"weights"` and `"dropout/{epoch}/{batch}"`.
use tr_data::derive_seed;

/// Host values for one variable drawn as `init` asks, from `rng`.
fn sample_init(init: Init, shape: &Shape, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let n = shape.elem_count();
    let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| -> Vec<f32> {
        (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                (mean + std * z) as f32
            })
            .collect()
    };
    let uniform = |rng: &mut ChaCha8Rng, lo: f64, up: f64| -> Vec<f32> {
        (0..n).map(|_| rng.random_range(lo..up) as f32).collect()
    };
    match init {
        Init::Const(c) => vec![c as f32; n],
        Init::Randn { mean, stdev } => normal(rng, mean, stdev),
        Init::Uniform { lo, up } => uniform(rng, lo, up),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let std = non_linearity.gain() / (fan.for_shape(shape).max(1) as f64).sqrt();
            match dist {
                NormalOrUniform::Normal => normal(rng, 0.0, std),
                NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    uniform(rng, -bound, bound)
                }
            }
        }
    }
}

/// A `VarBuilder` backend that stores variables in a [`VarMap`] and creates
/// missing ones from a seeded generator.
struct SeededVarMap {
    map: VarMap,
    seed: u64,
}

impl SimpleBackend for SeededVarMap {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut data = self
            .map
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
        if let Some(var) = data.get(name) {
            if var.shape() != &s {
                candle_core::bail!(
                    "variable {name}: requested shape {s:?} but it already exists with {:?}",
                    var.shape()
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(self.seed, name));
        let values = sample_init(h, &s, &mut rng);
        let t = Tensor::from_vec(values, s, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        let data = self
            .map
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
        match data.get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => {
                candle_core::bail!("variable {name} does not exist and has no shape to create it")
            }
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.map
            .data()
            .lock()
            .map(|d| d.contains_key(name))
            .unwrap_or(false)
    }
}

/// A `VarBuilder` that creates trainable variables in `map`, initialised
/// reproducibly from `seed`.
///
/// candle's CPU device cannot be seeded (`Device::set_seed` fails and
/// `Tensor::rand*` draw from the thread RNG), so a model initialised through
/// `VarBuilder::from_varmap` differs from run to run. This builder draws
/// every variable on the host from a ChaCha generator seeded by
/// `tr_data::derive_seed(seed, variable name)` — independent of the
/// order in which layers are constructed — and honours candle's
/// [`Init`] hints (constants, normal, uniform, Kaiming).
pub fn seeded_var_builder(
    map: &VarMap,
    seed: u64,
    dtype: DType,
    device: &Device,
) -> VarBuilder<'static> {
    VarBuilder::from_backend(
        Box::new(SeededVarMap {
            map: map.clone(),
            seed,
        }),
        dtype,
        device.clone(),
    )
}

thread_local! {
    static DROPOUT_RNG: RefCell<ChaCha8Rng> = RefCell::new(ChaCha8Rng::seed_from_u64(0));
}

/// Re-seeds this thread's dropout generator (the trainer calls it before
/// every step with a seed derived from the run seed and the global step), so
/// a resumed run draws exactly the masks an uninterrupted run would have
/// drawn. Every dropout of the zoo ([`crate::layers::Dropout`]) draws its
/// mask from this generator.
pub fn reseed_dropout(seed: u64) {
    DROPOUT_RNG.with(|r| *r.borrow_mut() = ChaCha8Rng::seed_from_u64(seed));
}

/// Inverted dropout with a mask from this thread's seeded generator: in
/// training, zeroes each element with probability `p` and scales the rest by
/// `1 / (1 - p)`; outside training (or `p == 0`) returns `x` unchanged.
pub fn dropout(x: &Tensor, p: f32, train: bool) -> Result<Tensor> {
    if !train || p <= 0.0 {
        return Ok(x.clone());
    }
    if p >= 1.0 {
        return x.zeros_like();
    }
    let n = x.elem_count();
    let scale = 1.0 / (1.0 - p);
    let mask: Vec<f32> = DROPOUT_RNG.with(|r| {
        let mut rng = r.borrow_mut();
        (0..n)
            .map(|_| if rng.random::<f32>() < p { 0.0 } else { scale })
            .collect()
    });
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    x.mul(&mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::Module;

    #[test]
    fn same_seed_same_weights_any_construction_order() -> Result<()> {
        let build = |order_swapped: bool, seed: u64| -> Result<Vec<f32>> {
            let map = VarMap::new();
            let vb = seeded_var_builder(&map, seed, DType::F32, &Device::Cpu);
            let (a, b) = if order_swapped {
                let b = candle_nn::linear(3, 2, vb.pp("b"))?;
                (candle_nn::linear(4, 3, vb.pp("a"))?, b)
            } else {
                (
                    candle_nn::linear(4, 3, vb.pp("a"))?,
                    candle_nn::linear(3, 2, vb.pp("b"))?,
                )
            };
            let x = Tensor::ones((1, 4), DType::F32, &Device::Cpu)?;
            b.forward(&a.forward(&x)?)?.flatten_all()?.to_vec1::<f32>()
        };
        assert_eq!(build(false, 7)?, build(true, 7)?);
        assert_ne!(build(false, 7)?, build(false, 8)?);
        Ok(())
    }

    #[test]
    fn kaiming_normal_fan_out_has_expected_spread() -> Result<()> {
        let map = VarMap::new();
        let vb = seeded_var_builder(&map, 1, DType::F32, &Device::Cpu);
        let init = Init::Kaiming {
            dist: NormalOrUniform::Normal,
            fan: candle_nn::init::FanInOut::FanOut,
            non_linearity: candle_nn::init::NonLinearity::ReLU,
        };
        let w = vb.get_with_hints((64, 32, 3, 3), "w", init)?;
        let v = w.flatten_all()?.to_vec1::<f32>()?;
        let var = v.iter().map(|x| (x * x) as f64).sum::<f64>() / v.len() as f64;
        let expected = 2.0 / (64.0 * 9.0);
        assert!(
            (var / expected - 1.0).abs() < 0.05,
            "variance {var} vs {expected}"
        );
        Ok(())
    }

    #[test]
    fn dropout_is_reproducible_and_scaled() -> Result<()> {
        let x = Tensor::ones((1000,), DType::F32, &Device::Cpu)?;
        reseed_dropout(3);
        let a = dropout(&x, 0.25, true)?.to_vec1::<f32>()?;
        reseed_dropout(3);
        let b = dropout(&x, 0.25, true)?.to_vec1::<f32>()?;
        assert_eq!(a, b);
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((200..300).contains(&zeros), "{zeros} zeros");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
        assert_eq!(dropout(&x, 0.25, false)?.to_vec1::<f32>()?, vec![1.0; 1000]);
        Ok(())
    }
}
