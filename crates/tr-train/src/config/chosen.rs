//! The sections of a run config whose settings are those of a variant
//! chosen by name (`data.dataset`, `model.name`, `trainer.optimizer.name`,
//! `trainer.scheduler.name`), and the tree operations that depend on them:
//! filling in the default variant, restarting a section when an override
//! switches its variant, and the reference tree of valid keys.
//!
//! Each such section is a registry of [`tr_data::registry`](mod@tr_data::registry); its valid keys
//! are the default tree of the chosen variant ([`Registry::reference`]), and
//! the keys a section has besides its variant's (the loader settings of
//! `data`) are found from the defaults, so no key or default is listed here.

use serde_json::{Map, Value};
use tr_data::datasets::DatasetConfig;
use tr_data::registry::{ConfigError, Registry};
use tr_models::ModelConfig;

use super::{Reference, RunConfig};
use crate::error::{Error, Result};
use crate::optim::OptimizerConfig;
use crate::schedule::SchedulerConfig;

/// A section whose settings are those of a variant chosen by name from a registry.
struct Chosen {
    /// Dotted path of the section (`trainer.optimizer`).
    section: &'static str,
    /// The key naming the variant (the registry's tag).
    tag: &'static str,
    /// The default tree of a variant: its valid keys with their defaults.
    reference: fn(&str) -> std::result::Result<Value, ConfigError>,
}

impl Chosen {
    const fn of<R: Registry>(section: &'static str) -> Self {
        Self {
            section,
            tag: R::TAG,
            reference: R::reference,
        }
    }

    /// `section.tag`, the key that chooses the variant.
    fn tag_key(&self) -> String {
        format!("{}.{}", self.section, self.tag)
    }

    /// The keys of the section that belong to it rather than to its variant
    /// (the loader settings of `data`), from the defaults.
    fn own_keys(&self, defaults: &Value) -> Result<Vec<String>> {
        let section = at(defaults, self.section).cloned().unwrap_or(Value::Null);
        let variant = match section.get(self.tag) {
            Some(Value::String(name)) => {
                (self.reference)(name).map_err(|e| Error::config(self.tag_key(), e.to_string()))?
            }
            _ => Value::Null,
        };
        Ok(match section {
            Value::Object(map) => map
                .into_iter()
                .map(|(k, _)| k)
                .filter(|k| variant.get(k).is_none())
                .collect(),
            _ => Vec::new(),
        })
    }
}

/// Every section chosen by name.
const CHOSEN: [Chosen; 4] = [
    Chosen::of::<DatasetConfig>("data"),
    Chosen::of::<ModelConfig>("model"),
    Chosen::of::<OptimizerConfig>("trainer.optimizer"),
    Chosen::of::<SchedulerConfig>("trainer.scheduler"),
];

/// The node at dotted `path` of `tree`.
fn at<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, part| node.get(part))
}

fn at_mut<'a>(tree: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.')
        .try_fold(tree, |node, part| node.get_mut(part))
}

fn defaults() -> Result<Value> {
    serde_json::to_value(RunConfig::default()).map_err(|e| Error::config("config", e.to_string()))
}

/// A dotted-key mistake of the registry mechanism as a config error naming the key.
pub(super) fn key_error(key: &str, e: ConfigError) -> Error {
    match e {
        ConfigError::UnknownKey {
            path, level, valid, ..
        } => Error::config(
            path,
            format!(
                "unknown key; valid keys at {}: {}",
                tr_data::registry::level_phrase(&level),
                valid.join(", ")
            ),
        ),
        ConfigError::NotATable { path, table } => {
            Error::config(path, format!("{table} is a value, not a section"))
        }
        ConfigError::EmptySegment { path } => Error::config(path, "empty segment in dotted key"),
        other => Error::config(key, other.to_string()),
    }
}

/// `--model.name X` / `--data.dataset X` / `--trainer.optimizer.name X` /
/// `--trainer.scheduler.name X` choosing a different variant than the file: the old
/// variant's settings do not apply to the new one, so the section restarts from the new
/// variant's defaults (the loader settings of `data` are kept).
pub(super) fn switch_variant(tree: &mut Value, key: &str, value: &Value) -> Result<()> {
    let Some(chosen) = CHOSEN.iter().find(|c| c.tag_key() == key) else {
        return Ok(());
    };
    let keep = chosen.own_keys(&defaults()?)?;
    let Some(Value::Object(map)) = at_mut(tree, chosen.section) else {
        return Ok(());
    };
    if map.get(chosen.tag) == Some(value) {
        return Ok(());
    }
    tracing::info!(
        "{key} switched to {value}: `{}` restarts from its defaults",
        chosen.section
    );
    map.retain(|k, _| keep.contains(k));
    Ok(())
}

/// Adds the sections a file may leave out, and the variant tags with their defaults.
pub(super) fn fill_defaults(tree: &mut Value) -> Result<()> {
    let defaults = defaults()?;
    let Value::Object(map) = tree else {
        return Err(Error::config("config", "expected a mapping of sections"));
    };
    for key in ["name", "seed", "lit", "trainer"] {
        if !map.contains_key(key) {
            map.insert(key.to_string(), defaults[key].clone());
        }
    }
    map.entry("reference".to_string()).or_insert(Value::Null);
    // A file or override may give `trainer.optimizer.lr` without the optimizer's name:
    // the variant is then the default one.
    for chosen in &CHOSEN {
        let (parent, leaf) = match chosen.section.rsplit_once('.') {
            Some((parent, leaf)) => (at_mut(tree, parent), leaf),
            None => (Some(&mut *tree), chosen.section),
        };
        // A parent that is not a mapping is for deserialisation to name.
        let Some(Value::Object(parent)) = parent else {
            continue;
        };
        let section = parent
            .entry(leaf.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(section) = section else {
            return Err(Error::config(chosen.section, "expected a mapping"));
        };
        if !section.contains_key(chosen.tag) {
            let name = at(&defaults, &chosen.tag_key()).cloned();
            section.insert(chosen.tag.to_string(), name.unwrap_or(Value::Null));
        }
    }
    Ok(())
}

/// The tree of valid keys for the variants `tree` chose, with default values:
/// the defaults, each chosen section's variant replaced by the chosen one's default.
pub(super) fn reference_tree(tree: &Value) -> Result<Value> {
    let defaults = defaults()?;
    let mut reference = defaults.clone();
    reference["reference"] = serde_json::to_value(Reference::default())
        .map_err(|e| Error::config("reference", e.to_string()))?;
    for chosen in &CHOSEN {
        let name = match at(tree, &chosen.tag_key()) {
            Some(Value::String(name)) => name,
            Some(other) => {
                return Err(Error::config(
                    chosen.tag_key(),
                    format!("expected a name, got {other}"),
                ))
            }
            None => continue,
        };
        let Value::Object(variant) =
            (chosen.reference)(name).map_err(|e| Error::config(chosen.tag_key(), e.to_string()))?
        else {
            continue;
        };
        let keep = chosen.own_keys(&defaults)?;
        if let Some(Value::Object(section)) = at_mut(&mut reference, chosen.section) {
            section.retain(|k, _| keep.contains(k));
            section.extend(variant);
        }
    }
    Ok(reference)
}
