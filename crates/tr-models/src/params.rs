//! A model's named variables: parameters versus buffers, parameter
//! counting, and the one check of named tensors from a file (a training
//! checkpoint, an artifact's weights) against the model built to hold them.
//!
//! A model's `VarMap` holds its trainable parameters and, for batch-norm
//! layers, the running statistics (`running_mean`, `running_var`). Those are
//! buffers: saved with the weights, updated by the forward pass in training
//! mode, never touched by an optimiser and not counted as parameters
//! (PyTorch's `parameters()` vs `buffers()`).
//!
//! [`load_named_tensors`] is the weights-versus-model rule both sides of the
//! train/infer boundary call (`tr-train` restoring a checkpoint, `tr-infer`
//! loading and writing an artifact): every variable needs a tensor of its
//! name and shape, every tensor needs a variable, and errors name the file,
//! the tensor and the expected and found shapes.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Tensor, Var};
use candle_nn::VarMap;

use crate::error::{Error, Result};

/// Name suffixes of non-trainable buffers.
pub const BUFFER_SUFFIXES: [&str; 2] = ["running_mean", "running_var"];

/// True for a buffer's variable name (`….running_mean`, `….running_var`).
pub fn is_buffer(name: &str) -> bool {
    BUFFER_SUFFIXES
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
}

/// Trainable variables of `varmap` (buffers excluded), sorted by name.
pub fn trainable_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    named_vars(varmap)
        .into_iter()
        .filter(|(name, _)| !is_buffer(name))
        .collect()
}

/// Every variable of `varmap` (buffers included), sorted by name.
pub fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap
        .data()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut vars: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Number of trainable scalars in `varmap`.
pub fn count_parameters(varmap: &VarMap) -> usize {
    trainable_vars(varmap)
        .iter()
        .map(|(_, v)| v.elem_count())
        .sum()
}

/// Named tensors as they pair with a model's variables, checked.
///
/// Every variable of `vars` must have a tensor of the same name, the same
/// shape and a float dtype, and every tensor must belong to a variable.
/// `file` (where the tensors were read from) and `model` (the registry name)
/// name the culprit in the error; `built_from` says what the model was built
/// from ("config.json", "this config"), since that is what the file
/// disagrees with.
pub fn check_named_tensors<'a>(
    vars: &'a [(String, Var)],
    tensors: &'a HashMap<String, Tensor>,
    file: &Path,
    model: &str,
    built_from: &str,
) -> Result<Vec<(&'a Var, &'a Tensor)>> {
    let fail = |message: String| Error::Weights {
        file: file.to_path_buf(),
        message,
    };
    let mut pairs = Vec::with_capacity(vars.len());
    for (name, var) in vars {
        let t = tensors.get(name).ok_or_else(|| {
            fail(format!(
                "tensor {name:?} of {model} is missing ({} tensors in the file, {} expected)",
                tensors.len(),
                vars.len()
            ))
        })?;
        if t.dims() != var.dims() {
            return Err(fail(format!(
                "tensor {name:?} has shape {:?}, but {model} built from {built_from} needs {:?}",
                t.dims(),
                var.dims()
            )));
        }
        if !t.dtype().is_float() {
            return Err(fail(format!(
                "tensor {name:?} has dtype {:?}, expected f32 or f16",
                t.dtype()
            )));
        }
        pairs.push((var, t));
    }
    let mut extra: Vec<&String> = tensors
        .keys()
        .filter(|k| !vars.iter().any(|(n, _)| n == *k))
        .collect();
    extra.sort();
    if let Some(first) = extra.first() {
        return Err(fail(format!(
            "tensor {first:?} is not part of {model} built from {built_from} ({} unexpected tensor(s))",
            extra.len()
        )));
    }
    Ok(pairs)
}

/// Checks `tensors` against `vars` with [`check_named_tensors`], then copies
/// each into its variable, converted to the variable's dtype and device.
/// Nothing is copied unless every tensor fits.
pub fn load_named_tensors(
    vars: &[(String, Var)],
    tensors: &HashMap<String, Tensor>,
    file: &Path,
    model: &str,
    built_from: &str,
) -> Result<()> {
    for (var, t) in check_named_tensors(vars, tensors, file, model, built_from)? {
        var.set(&t.to_device(var.device())?.to_dtype(var.dtype())?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn model() -> (VarMap, Vec<(String, Var)>) {
        let varmap = VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        candle_nn::linear(3, 2, vb.pp("fc")).unwrap();
        let vars = named_vars(&varmap);
        (varmap, vars)
    }

    fn tensors(weight: (usize, usize)) -> HashMap<String, Tensor> {
        let mut t = HashMap::new();
        t.insert(
            "fc.weight".to_string(),
            Tensor::ones(weight, DType::F16, &Device::Cpu).unwrap(),
        );
        t.insert(
            "fc.bias".to_string(),
            Tensor::ones(2, DType::F16, &Device::Cpu).unwrap(),
        );
        t
    }

    fn error(vars: &[(String, Var)], t: &HashMap<String, Tensor>) -> String {
        load_named_tensors(vars, t, Path::new("w.safetensors"), "mlp", "config.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn fitting_tensors_are_copied_with_dtype_conversion() {
        let (_map, vars) = model();
        let t = tensors((2, 3));
        load_named_tensors(&vars, &t, Path::new("w.safetensors"), "mlp", "config.json").unwrap();
        for (_, var) in &vars {
            assert_eq!(var.dtype(), DType::F32);
            let v = var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            assert!(v.iter().all(|&x| x == 1.0), "{v:?}");
        }
    }

    #[test]
    fn missing_extra_misshapen_and_integer_tensors_name_file_tensor_and_shapes() {
        let (_map, vars) = model();
        let mut t = tensors((2, 3));
        t.remove("fc.bias");
        let e = error(&vars, &t);
        assert!(e.starts_with("w.safetensors: "), "{e}");
        assert!(
            e.contains("\"fc.bias\" of mlp is missing (1 tensors in the file, 2 expected)"),
            "{e}"
        );

        let mut t = tensors((2, 3));
        t.insert(
            "head.bias".into(),
            Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap(),
        );
        let e = error(&vars, &t);
        assert!(
            e.contains("\"head.bias\" is not part of mlp built from config.json (1 unexpected"),
            "{e}"
        );

        let e = error(&vars, &tensors((3, 2)));
        assert!(
            e.contains(
                "\"fc.weight\" has shape [3, 2], but mlp built from config.json needs [2, 3]"
            ),
            "{e}"
        );

        let mut t = tensors((2, 3));
        t.insert(
            "fc.bias".into(),
            Tensor::zeros(2, DType::U32, &Device::Cpu).unwrap(),
        );
        let e = error(&vars, &t);
        assert!(
            e.contains("\"fc.bias\" has dtype U32, expected f32 or f16"),
            "{e}"
        );
    }

    #[test]
    fn nothing_is_copied_unless_every_tensor_fits() {
        let (_map, vars) = model();
        let before: Vec<Vec<f32>> = vars
            .iter()
            .map(|(_, v)| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
            .collect();
        let mut t = tensors((2, 3));
        t.insert(
            "zz".into(),
            Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap(),
        );
        error(&vars, &t);
        let after: Vec<Vec<f32>> = vars
            .iter()
            .map(|(_, v)| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
            .collect();
        assert_eq!(before, after);
    }
}
