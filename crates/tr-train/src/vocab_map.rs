//! `trainer.init_vocabulary: map`: weights trained with one vocabulary made
//! to fit a model of another, symbol by symbol.
//!
//! Which tensors are indexed by the vocabulary is not guessed from their
//! sizes (a 64-symbol vocabulary and a 64-channel convolution look alike):
//! the model is built a second time, on the CPU, with one more symbol, and
//! the tensors whose shape grows by one along a single axis are the
//! vocabulary-indexed ones (output layers, token embeddings). Along that
//! axis, the slice of every symbol both vocabularies have is copied from the
//! old weights; a symbol the old vocabulary lacks keeps the slice the new
//! model was initialised with. Every other tensor must fit as it is.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use tr_data::Vocabulary;
use tr_models::DataSpec;

use crate::error::{Error, Result};
use crate::session::Session;

/// The symbols of a carry-over: shared ones, and the new ones (listed).
#[derive(Clone, Debug, PartialEq)]
pub struct VocabularyMap {
    pub shared: usize,
    pub new: Vec<String>,
    pub dropped: Vec<String>,
    /// The vocabulary-indexed tensors that were remapped.
    pub tensors: Vec<String>,
}

/// Name → index of the axis along which the tensor is indexed by symbol.
fn vocabulary_axes(session: &Session) -> Result<HashMap<String, usize>> {
    let mut symbols = session.data.vocab.symbols().to_vec();
    symbols.push("<PROBE_SYMBOL>".into());
    let probe_vocab = Vocabulary::from_symbols(symbols)?;
    let spec = DataSpec::new(
        session.spec.input_shape,
        probe_vocab,
        session.spec.output_len,
    );
    let varmap = VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    session
        .config
        .model
        .build(&spec, vb)
        .map_err(|e| Error::config("model", e.to_string()))?;
    let probe = tr_models::params::named_vars(&varmap);
    let here = tr_models::params::named_vars(&session.varmap);
    let mut axes = HashMap::new();
    for (name, var) in &here {
        let Some((_, other)) = probe.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let differ: Vec<usize> = (0..var.rank())
            .filter(|&a| var.dims()[a] != other.dims().get(a).copied().unwrap_or(0))
            .collect();
        if let [axis] = differ[..] {
            if other.dims()[axis] == var.dims()[axis] + 1 {
                axes.insert(name.clone(), axis);
            }
        }
    }
    Ok(axes)
}

/// `weights` (trained with `from`, read from `file`) remapped to the
/// session's vocabulary; unchanged when the vocabularies are equal.
pub fn map_vocabulary(
    session: &Session,
    mut weights: HashMap<String, Tensor>,
    from: &Vocabulary,
    file: &Path,
) -> Result<(HashMap<String, Tensor>, VocabularyMap)> {
    let to = &session.data.vocab;
    let source: Vec<Option<u32>> = to.symbols().iter().map(|s| from.symbol_index(s)).collect();
    let mut report = VocabularyMap {
        shared: source.iter().flatten().count(),
        new: to
            .symbols()
            .iter()
            .zip(&source)
            .filter(|(_, s)| s.is_none())
            .map(|(s, _)| s.clone())
            .collect(),
        dropped: from
            .symbols()
            .iter()
            .filter(|s| to.symbol_index(s).is_none())
            .cloned()
            .collect(),
        tensors: Vec::new(),
    };
    if from == to {
        return Ok((weights, report));
    }
    let axes = vocabulary_axes(session)?;
    if axes.is_empty() {
        return Err(Error::checkpoint(format!(
            "{}: the {} model has no tensor indexed by the vocabulary, so its vocabulary \
             cannot be mapped",
            file.display(),
            session.config.model.name()
        )));
    }
    let vars = tr_models::params::named_vars(&session.varmap);
    let mut names: Vec<&String> = axes.keys().collect();
    names.sort();
    for name in names {
        let axis = axes[name];
        let Some(old) = weights.get(name) else {
            continue; // reported as missing by the shape check that follows
        };
        let Some((_, var)) = vars.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let fresh = var.as_tensor();
        let mut expected = fresh.dims().to_vec();
        expected[axis] = from.len();
        if old.dims() != expected.as_slice() {
            return Err(Error::checkpoint(format!(
                "{}: tensor {name:?} has shape {:?}; with its {} symbols it should be {:?}",
                file.display(),
                old.dims(),
                from.len(),
                expected
            )));
        }
        let old = old.to_device(fresh.device())?.to_dtype(fresh.dtype())?;
        let both = Tensor::cat(&[&old, fresh], axis)?;
        let pick: Vec<u32> = source
            .iter()
            .enumerate()
            .map(|(j, s)| s.unwrap_or((from.len() + j) as u32))
            .collect();
        let pick = Tensor::from_vec(pick, to.len(), fresh.device())?;
        weights.insert(name.clone(), both.index_select(&pick, axis)?);
        report.tensors.push(name.clone());
    }
    Ok((weights, report))
}
