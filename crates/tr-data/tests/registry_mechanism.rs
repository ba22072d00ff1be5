//! The registry mechanism itself, on a toy registry written with the
//! `registry!` macro: names, defaults, dotted keys, error messages, the
//! config left unchanged on error, the per-variant dispatch, and a variant
//! with a field a config must give.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tr_data::registry::{dotted, ConfigError, Registry, Variant};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inner {
    pub width: usize,
    pub rate: f64,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            width: 8,
            rate: 0.5,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Small {
    pub depth: usize,
    pub label: String,
    pub inner: Inner,
}

impl Default for Small {
    fn default() -> Self {
        Self {
            depth: 2,
            label: "s".into(),
            inner: Inner::default(),
        }
    }
}

/// `start` is required in a config file; its `Default` is the registry's template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    pub start: f64,
    #[serde(default)]
    pub flag: bool,
}

/// What each toy variant does.
pub trait Sound {
    fn sound(&self) -> String;
}

impl Sound for Small {
    fn sound(&self) -> String {
        format!("small {}", self.depth)
    }
}

impl Sound for Ramp {
    fn sound(&self) -> String {
        format!("ramp {}", self.start)
    }
}

tr_data::registry! {
    /// A toy registry.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Toy {
        kind: "toy",
        tag: "name",
        each: dyn Sound,
        error: ConfigError,
        "small" => Small(Small),
        /// A variant with a required field.
        "ramp" => Ramp(Ramp),
    }
}

#[test]
fn names_defaults_and_round_trips() {
    assert_eq!(Toy::names(), &["small", "ramp"]);
    assert_eq!(<Toy as Registry>::NAMES, Toy::names());
    assert_eq!(<Small as Variant<Toy>>::NAME, "small");
    for &name in Toy::names() {
        let toy = Toy::by_name(name).unwrap();
        assert_eq!(toy.name(), name);
        let json = toy.to_json();
        assert_eq!(json["name"], name);
        assert_eq!(serde_json::from_value::<Toy>(json).unwrap(), toy);
    }
    assert_eq!(Toy::by_name("small").unwrap(), Toy::from(Small::default()));
    assert_eq!(Toy::by_name("ramp").unwrap().kind().sound(), "ramp 0");
    assert_eq!(
        Toy::reference("small").unwrap(),
        json!({"name": "small", "depth": 2, "label": "s", "inner": {"width": 8, "rate": 0.5}})
    );
}

#[test]
fn unknown_names_list_the_valid_ones() {
    let e = Toy::by_name("big").unwrap_err();
    assert_eq!(
        e,
        ConfigError::UnknownName {
            kind: "toy",
            name: "big".into(),
            valid: &["small", "ramp"],
        }
    );
    assert_eq!(
        e.to_string(),
        "unknown toy \"big\"; valid names: small, ramp"
    );
    assert!(Toy::reference("big").is_err());
}

#[test]
fn keys_are_dotted_leaves_without_the_tag() {
    let toy = Toy::by_name("small").unwrap();
    assert_eq!(toy.keys(), ["depth", "inner.rate", "inner.width", "label"]);
    assert_eq!(Toy::by_name("ramp").unwrap().keys(), ["flag", "start"]);
}

#[test]
fn set_reaches_nested_keys_and_parses_text_by_slot() {
    let mut toy = Toy::by_name("small").unwrap();
    toy.set("depth", json!(5)).unwrap();
    toy.set_str("inner.width", "16").unwrap();
    toy.set_str("inner.rate", "0.25").unwrap();
    // A string slot takes the text as it is, even when it reads as a number.
    toy.set_str("label", "64").unwrap();
    toy.set("inner", json!({"width": 3})).unwrap();
    let Toy::Small(s) = &toy else {
        panic!("{toy:?}")
    };
    assert_eq!((s.depth, s.label.as_str()), (5, "64"));
    assert_eq!(
        s.inner,
        Inner {
            width: 3,
            rate: 0.5
        }
    );
    assert_eq!(toy.kind().sound(), "small 5");
}

#[test]
fn unknown_keys_list_the_valid_keys_of_their_level() {
    let mut toy = Toy::by_name("small").unwrap();
    let before = toy.clone();
    let e = toy.set_str("dept", "3").unwrap_err();
    assert_eq!(
        e,
        ConfigError::UnknownKey {
            path: "small.dept".into(),
            key: "dept".into(),
            level: "small".into(),
            valid: vec!["depth".into(), "inner".into(), "label".into()],
        }
    );
    assert_eq!(
        e.to_string(),
        "unknown key \"dept\" (small.dept); valid keys at `small`: depth, inner, label"
    );
    let e = toy.set_str("inner.widht", "3").unwrap_err().to_string();
    assert!(
        e.contains("small.inner.widht") && e.contains("`small.inner`: rate, width"),
        "{e}"
    );
    let e = toy.set_str("depth.x", "3").unwrap_err();
    assert!(matches!(e, ConfigError::NotATable { .. }), "{e}");
    assert!(e.to_string().contains("`small.depth` is a value"), "{e}");
    let e = toy.set_str("name", "ramp").unwrap_err();
    assert!(matches!(e, ConfigError::TagNotSettable { .. }), "{e}");
    assert!(toy.set_str("", "1").is_err());
    assert_eq!(toy, before, "failed sets leave the config unchanged");
}

#[test]
fn wrong_types_name_key_expected_type_and_value() {
    let mut toy = Toy::by_name("small").unwrap();
    let before = toy.clone();
    let e = toy.set_str("depth", "deep").unwrap_err();
    let ConfigError::WrongType {
        path,
        key,
        expected,
        value,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (path.as_str(), key.as_str(), *expected, value.as_str()),
        ("small.depth", "depth", "a non-negative integer", "\"deep\"")
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("invalid value for key \"depth\" (small.depth): expected a non-negative integer, got \"deep\" ("),
        "{msg}"
    );
    let msg = toy.set_str("depth", "-1").unwrap_err().to_string();
    assert!(msg.contains("got -1"), "{msg}");
    let msg = toy.set("inner.rate", json!([1])).unwrap_err().to_string();
    assert!(
        msg.contains("expected a number") && msg.contains("[1]"),
        "{msg}"
    );
    let msg = toy
        .set("inner", json!({"bogus": 1}))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("a table of settings") && msg.contains("bogus"),
        "{msg}"
    );
    assert_eq!(toy, before, "failed sets leave the config unchanged");
}

#[test]
fn required_fields_stay_required_in_files() {
    let e = serde_json::from_value::<Toy>(json!({"name": "ramp"})).unwrap_err();
    assert!(e.to_string().contains("start"), "{e}");
    let toy: Toy = serde_json::from_value(json!({"name": "ramp", "start": 2.0})).unwrap();
    assert_eq!(
        toy,
        Toy::Ramp(Ramp {
            start: 2.0,
            flag: false
        })
    );
    let e =
        serde_json::from_value::<Toy>(json!({"name": "ramp", "start": 1.0, "x": 1})).unwrap_err();
    assert!(e.to_string().contains('x'), "{e}");
}

#[test]
fn user_trees_are_checked_against_a_variant_reference() {
    let reference = json!({"toy": Toy::reference("small").unwrap()});
    dotted::check_keys(&json!({"toy": {"inner": {"rate": 1.0}}}), &reference, "").unwrap();
    let e =
        dotted::check_keys(&json!({"toy": {"inner": {"rat": 1.0}}}), &reference, "").unwrap_err();
    assert_eq!(
        e,
        ConfigError::UnknownKey {
            path: "toy.inner.rat".into(),
            key: "rat".into(),
            level: "toy.inner".into(),
            valid: vec!["rate".into(), "width".into()],
        }
    );
}
