//! Configs chosen by name, with dotted overrides: the one mechanism behind
//! the model, dataset, optimizer and scheduler registries.
//!
//! A registry is a serde enum, internally tagged (`name: line-cnn`,
//! `dataset: emnist-lines`), whose variants each hold one config struct with
//! the course's defaults. The [`registry!`](crate::registry!) macro writes
//! the enum from a list naming each variant exactly once:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! pub struct SmallConfig { pub width: usize }
//!
//! #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! pub struct LargeConfig { pub width: usize, #[serde(default)] pub depth: usize }
//! impl Default for LargeConfig {
//!     fn default() -> Self { Self { width: 64, depth: 0 } }
//! }
//!
//! tr_data::registry! {
//!     /// A toy registry.
//!     #[derive(Clone, Debug, PartialEq)]
//!     pub enum NetConfig {
//!         kind: "net",
//!         tag: "name",
//!         error: tr_data::registry::ConfigError,
//!         "small" => Small(SmallConfig),
//!         "large" => Large(LargeConfig),
//!     }
//! }
//!
//! let mut net = NetConfig::by_name("large")?;
//! net.set_str("depth", "3")?;
//! assert_eq!(net, NetConfig::Large(LargeConfig { width: 64, depth: 3 }));
//! assert_eq!(net.keys(), ["depth", "width"]);
//! assert!(NetConfig::by_name("huge").unwrap_err().to_string().contains("small, large"));
//! # Ok::<(), tr_data::registry::ConfigError>(())
//! ```
//!
//! Everything else is implemented once, generically through `serde_json`, in
//! the [`Registry`] trait: [`Registry::by_name`] (a variant's default;
//! unknown names list the valid ones), [`Registry::keys`] (dotted leaf keys),
//! [`Registry::set`] / [`Registry::set_str`] (one dotted key, re-validated
//! against the variant's type; the config is unchanged on error) and
//! [`Registry::reference`] (a variant's default tree, against which a user's
//! keys are checked, see [`dotted::check_keys`]). The macro also gives the
//! enum these as inherent methods returning the crate's own error, so
//! callers need no import.
//!
//! What a variant *does* (a model's builder, a dataset's loader) is a trait
//! of the crate that owns the registry, implemented in each variant's own
//! module; `each: dyn Trait` makes the macro write the dispatch
//! (`fn kind(&self) -> &dyn Trait`), so no `match` over all variants is
//! written by hand.
//!
//! Every variant's default is its config type's `Default`. A variant with
//! fields that a config file must give (no serde default) still has one
//! `Default` — the registry's template listing its keys — while a file that
//! omits such a field stays an error naming it.

pub mod dotted;

use serde::de::DeserializeOwned;
use serde::Serialize;
pub use serde_json::Value;

/// A mistake in choosing a variant or setting one of its keys. Paths are
/// dotted and start at what the tree is (a variant name such as
/// `line-cnn`, or a section of a run config such as `data`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A name the registry does not know.
    #[error("unknown {kind} {name:?}; valid names: {}", valid.join(", "))]
    UnknownName {
        kind: &'static str,
        name: String,
        valid: &'static [&'static str],
    },
    /// A key the tree does not have; `valid` are the keys at `level`.
    #[error("unknown key {key:?} ({path}); valid keys at {}: {}", level_phrase(level), valid.join(", "))]
    UnknownKey {
        path: String,
        key: String,
        /// Dotted path of the table the key was looked up in (empty: the top level).
        level: String,
        valid: Vec<String>,
    },
    /// A dotted key that goes through a plain value.
    #[error("{path}: `{table}` is a value, not a table of settings")]
    NotATable { path: String, table: String },
    /// `a..b`, `.a` or `a.`.
    #[error("{path}: empty segment in dotted key")]
    EmptySegment { path: String },
    /// A value the variant's config type does not accept at `key`.
    #[error(
        "invalid value for key {key:?} ({path}): expected {expected}, got {value} ({message})"
    )]
    WrongType {
        path: String,
        key: String,
        expected: &'static str,
        value: String,
        /// serde's own explanation.
        message: String,
    },
    /// An attempt to set the tag: the variant is chosen by name, not as a setting.
    #[error("{path}: the {kind} is chosen by name, not set as one of its keys")]
    TagNotSettable { path: String, kind: &'static str },
}

/// `the top level` for an empty level, `` `a.b` `` otherwise: where a key was looked up, in words.
pub fn level_phrase(level: &str) -> String {
    if level.is_empty() {
        "the top level".into()
    } else {
        format!("`{level}`")
    }
}

/// A config enum whose variant is chosen by name. Implemented by
/// [`registry!`](crate::registry!); the provided methods are the mechanism.
pub trait Registry: Serialize + DeserializeOwned {
    /// What the variants are, in messages: `model`, `dataset`, `optimizer`.
    const KIND: &'static str;
    /// The field naming the variant in config files: `name`, `dataset`.
    const TAG: &'static str;
    /// Every variant's name, in registry order.
    const NAMES: &'static [&'static str];

    /// The default config of variant `name`, `None` for an unknown name.
    fn default_of(name: &str) -> Option<Self>;

    /// This config's variant name.
    fn name(&self) -> &'static str;

    /// The default config of variant `name`; an unknown name is an error listing the valid ones.
    fn by_name(name: &str) -> Result<Self, ConfigError> {
        Self::default_of(name).ok_or_else(|| ConfigError::UnknownName {
            kind: Self::KIND,
            name: name.to_string(),
            valid: Self::NAMES,
        })
    }

    /// The default tree of variant `name` (tag included): its valid keys with their defaults.
    fn reference(name: &str) -> Result<Value, ConfigError> {
        Ok(Self::by_name(name)?.to_json())
    }

    /// The config as a JSON object, tag included.
    fn to_json(&self) -> Value {
        // Config structs of numbers, strings and lists always serialise.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Every settable key, dotted for nested configs (`line_cnn.conv_dim`), sorted.
    fn keys(&self) -> Vec<String> {
        dotted::leaf_keys(&self.to_json(), Self::TAG)
    }

    /// Overrides one (dotted) key with a JSON value, re-validated against the
    /// variant's config type. An unknown key lists the valid keys at its
    /// level; a wrong type names the key, the expected type and the value.
    /// The config is unchanged on error.
    fn set(&mut self, key: &str, value: Value) -> Result<(), ConfigError> {
        set_with(self, key, |_| value)
    }

    /// [`Registry::set`] from command-line text: the bare text for a string
    /// setting, otherwise JSON (`64`, `0.5`, `true`, `[1, 2]`), and the bare
    /// text when it is not JSON.
    fn set_str(&mut self, key: &str, text: &str) -> Result<(), ConfigError> {
        set_with(self, key, |current| dotted::parse_text(current, text))
    }
}

/// A config type registered as one variant of `R` (implemented by
/// [`registry!`](crate::registry!)): its name, written once in the registration.
pub trait Variant<R> {
    /// The registry name, e.g. `line-cnn`.
    const NAME: &'static str;
}

fn set_with<R: Registry>(
    config: &mut R,
    key: &str,
    make: impl FnOnce(&Value) -> Value,
) -> Result<(), ConfigError> {
    let variant = config.name();
    let path = format!("{variant}.{key}");
    if key == R::TAG {
        return Err(ConfigError::TagNotSettable {
            path,
            kind: R::KIND,
        });
    }
    let mut tree = config.to_json();
    let slot = dotted::slot_mut(&mut tree, key, variant, R::TAG)?;
    let expected = dotted::describe(slot);
    let value = make(slot);
    let shown = value.to_string();
    *slot = value;
    match serde_json::from_value::<R>(tree) {
        Ok(updated) => {
            *config = updated;
            Ok(())
        }
        Err(e) => Err(ConfigError::WrongType {
            path,
            key: key.to_string(),
            expected,
            value: shown,
            message: e.to_string(),
        }),
    }
}

/// Writes a registry enum from one list of `"name" => Variant(ConfigType)`
/// (see the [module docs](mod@crate::registry)).
///
/// ```text
/// tr_data::registry! {
///     /// docs
///     #[derive(Clone, Debug, PartialEq)]      // Serialize/Deserialize are added
///     pub enum ModelConfig {
///         kind: "model",                      // in messages
///         tag: "name",                        // the field naming the variant
///         each: dyn crate::ModelKind,         // optional: `fn kind(&self) -> &dyn ModelKind`
///         error: crate::Error,                // From<ConfigError>; the inherent methods' error
///         "mlp" => Mlp(MlpConfig),
///         ...
///     }
/// }
/// ```
///
/// Each config type must implement `Default` and serde's traits and may
/// appear in one variant only. The invoking crate depends on `serde`.
#[macro_export]
macro_rules! registry {
    (@each $Enum:ident, [$($Variant:ident),+]) => {};
    (@each $Enum:ident, [$($Variant:ident),+], $each:path) => {
        impl $Enum {
            /// The chosen variant's own behaviour.
            pub fn kind(&self) -> &dyn $each {
                match self {
                    $( Self::$Variant(config) => config, )+
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $Enum:ident {
            kind: $kind:literal,
            tag: $tag:literal,
            $(each: dyn $each:path,)?
            error: $err:ty,
            $( $(#[$vmeta:meta])* $name:literal => $Variant:ident($Config:ty) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        #[serde(tag = $tag)]
        $vis enum $Enum {
            $( $(#[$vmeta])* #[serde(rename = $name)] $Variant($Config), )+
        }

        impl $crate::registry::Registry for $Enum {
            const KIND: &'static str = $kind;
            const TAG: &'static str = $tag;
            const NAMES: &'static [&'static str] = &[$($name),+];

            fn default_of(name: &str) -> ::std::option::Option<Self> {
                match name {
                    $( $name => ::std::option::Option::Some(
                        Self::$Variant(<$Config as ::std::default::Default>::default()),
                    ), )+
                    _ => ::std::option::Option::None,
                }
            }

            fn name(&self) -> &'static str {
                match self {
                    $( Self::$Variant(_) => $name, )+
                }
            }
        }

        $(
            impl $crate::registry::Variant<$Enum> for $Config {
                const NAME: &'static str = $name;
            }

            impl ::std::convert::From<$Config> for $Enum {
                fn from(config: $Config) -> Self {
                    Self::$Variant(config)
                }
            }
        )+

        #[allow(clippy::useless_conversion)]
        impl $Enum {
            /// Every registry name, in registry order.
            pub fn names() -> &'static [&'static str] {
                <Self as $crate::registry::Registry>::NAMES
            }

            /// The default config of `name`; an unknown name is an error listing the valid ones.
            pub fn by_name(name: &str) -> ::std::result::Result<Self, $err> {
                <Self as $crate::registry::Registry>::by_name(name).map_err(::std::convert::Into::into)
            }

            /// The registry name of this config.
            pub fn name(&self) -> &'static str {
                <Self as $crate::registry::Registry>::name(self)
            }

            /// The config as a JSON object, with its tag.
            pub fn to_json(&self) -> $crate::registry::Value {
                <Self as $crate::registry::Registry>::to_json(self)
            }

            /// Every settable key, dotted for nested configs, sorted.
            pub fn keys(&self) -> ::std::vec::Vec<::std::string::String> {
                <Self as $crate::registry::Registry>::keys(self)
            }

            /// Overrides one dotted key (see [`Registry::set`]); unchanged on error.
            ///
            /// [`Registry::set`]: $crate::registry::Registry::set
            pub fn set(
                &mut self,
                key: &str,
                value: $crate::registry::Value,
            ) -> ::std::result::Result<(), $err> {
                <Self as $crate::registry::Registry>::set(self, key, value)
                    .map_err(::std::convert::Into::into)
            }

            /// Overrides one dotted key from command-line text (see [`Registry::set_str`]).
            ///
            /// [`Registry::set_str`]: $crate::registry::Registry::set_str
            pub fn set_str(&mut self, key: &str, text: &str) -> ::std::result::Result<(), $err> {
                <Self as $crate::registry::Registry>::set_str(self, key, text)
                    .map_err(::std::convert::Into::into)
            }
        }

        $crate::registry!(@each $Enum, [$($Variant),+] $(, $each)?);
    };
}
