//! Dotted keys (`line_cnn.conv_dim`) over JSON trees: listing the leaf keys
//! of a config, finding the slot a key names, inserting a value at a path,
//! and checking a user's tree against a reference tree of valid keys.
//!
//! These are the tree operations behind [`super::Registry::set`] and the run
//! config of `tr-train` (a YAML file with `--section.key value` overrides);
//! both report mistakes with the same [`ConfigError`] values.

use serde_json::{Map, Value};

use super::ConfigError;

/// Every leaf key of `value` (a JSON object), dotted for nested objects and
/// sorted; `skip` is left out at the top level (a registry's tag).
pub fn leaf_keys(value: &Value, skip: &str) -> Vec<String> {
    let mut keys = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            if k != skip {
                collect(k, v, &mut keys);
            }
        }
    }
    keys.sort();
    keys
}

fn collect(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect(&format!("{prefix}.{k}"), v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

/// The keys of one level of a tree, sorted, without `skip`.
fn level_keys(map: &Map<String, Value>, skip: &str) -> Vec<String> {
    let mut keys: Vec<String> = map.keys().filter(|k| *k != skip).cloned().collect();
    keys.sort();
    keys
}

/// `root.key`, or `key` when there is no root.
fn join(root: &str, key: &str) -> String {
    match (root.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (false, true) => root.to_string(),
        (false, false) => format!("{root}.{key}"),
    }
}

/// The existing slot `key` names in `tree`. Errors name the key as
/// `root.key` (`root`: what the tree is, e.g. the variant `line-cnn`) and
/// list the valid keys of the level where the lookup failed; `skip` (the
/// tag) is not a valid key at the top level.
pub fn slot_mut<'a>(
    tree: &'a mut Value,
    key: &str,
    root: &str,
    skip: &str,
) -> Result<&'a mut Value, ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut node = tree;
    for (i, part) in parts.iter().enumerate() {
        let level = parts[..i].join(".");
        let Value::Object(map) = node else {
            return Err(ConfigError::NotATable {
                path: join(root, key),
                table: join(root, &level),
            });
        };
        let skip_here = if i == 0 { skip } else { "" };
        if part.is_empty() || *part == skip_here || !map.contains_key(*part) {
            return Err(ConfigError::UnknownKey {
                path: join(root, key),
                key: key.to_string(),
                level: join(root, &level),
                valid: level_keys(map, skip_here),
            });
        }
        node = map.get_mut(*part).expect("checked above");
    }
    Ok(node)
}

/// Sets `key` (dotted) in `tree` to `value`, creating the tables on the way;
/// whether the key is valid is for [`check_keys`] to say. `root` prefixes
/// the key in errors.
pub fn insert(tree: &mut Value, key: &str, value: Value, root: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::EmptySegment {
            path: join(root, key),
        });
    }
    let mut node = tree;
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = node else {
            return Err(ConfigError::NotATable {
                path: join(root, key),
                table: join(root, &parts[..i].join(".")),
            });
        };
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return Ok(());
        }
        node = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

/// Every key of `user` must exist in `reference`, recursively where both are
/// tables. The first unknown key is an [`ConfigError::UnknownKey`] listing
/// the valid keys of its level; paths are prefixed with `root`.
pub fn check_keys(user: &Value, reference: &Value, root: &str) -> Result<(), ConfigError> {
    let (Value::Object(u), Value::Object(r)) = (user, reference) else {
        return Ok(());
    };
    for (k, v) in u {
        let path = join(root, k);
        match r.get(k) {
            None => {
                return Err(ConfigError::UnknownKey {
                    key: k.clone(),
                    level: root.to_string(),
                    valid: level_keys(r, ""),
                    path,
                })
            }
            Some(rv) => check_keys(v, rv, &path)?,
        }
    }
    Ok(())
}

/// What a slot currently holding `value` accepts, in words.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "true or false",
        Value::Number(n) if n.is_u64() => "a non-negative integer",
        Value::Number(n) if n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list like [1, 2]",
        Value::Object(_) => "a table of settings",
        Value::Null => "a value or null",
    }
}

/// Command-line text for a slot holding `current`: the bare text for string
/// slots, otherwise JSON (`64`, `0.5`, `true`, `[1, 2]`, `{"a": 1}`), and
/// the bare text when it is not JSON. A list slot also takes unquoted items,
/// `[a, b]` or `a,b` (each item JSON when it parses, else a string), so
/// `--data.roots ../pages/hooker` and `--data.crop.tags [handwritten]` work.
pub fn parse_text(current: &Value, text: &str) -> Value {
    match current {
        Value::String(_) => Value::String(text.to_string()),
        Value::Array(_) => serde_json::from_str(text).unwrap_or_else(|_| {
            let t = text.trim();
            let inner = t
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .unwrap_or(t);
            Value::Array(
                inner
                    .split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(|i| {
                        serde_json::from_str(i).unwrap_or_else(|_| Value::String(i.to_string()))
                    })
                    .collect(),
            )
        }),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn list_slots_take_unquoted_items() {
        let list = json!([]);
        assert_eq!(parse_text(&list, "[a/b, c]"), json!(["a/b", "c"]));
        assert_eq!(parse_text(&list, "x,y"), json!(["x", "y"]));
        assert_eq!(parse_text(&list, "../one"), json!(["../one"]));
        assert_eq!(parse_text(&list, "[1, 2]"), json!([1, 2]));
        assert_eq!(parse_text(&list, "[]"), json!([]));
        assert_eq!(parse_text(&json!("s"), "[a]"), json!("[a]"));
    }

    #[test]
    fn leaf_keys_are_dotted_and_sorted() {
        let v = json!({"name": "x", "b": 1, "a": {"d": true, "c": [1]}, "e": {}});
        assert_eq!(leaf_keys(&v, "name"), ["a.c", "a.d", "b"]);
    }

    #[test]
    fn slots_are_found_or_explained() {
        let mut v = json!({"name": "x", "a": {"b": 1}, "c": 2});
        *slot_mut(&mut v, "a.b", "toy", "name").unwrap() = json!(5);
        assert_eq!(v["a"]["b"], 5);
        let e = slot_mut(&mut v, "a.z", "toy", "name").unwrap_err();
        assert_eq!(
            e,
            ConfigError::UnknownKey {
                path: "toy.a.z".into(),
                key: "a.z".into(),
                level: "toy.a".into(),
                valid: vec!["b".into()],
            }
        );
        let e = slot_mut(&mut v, "name", "toy", "name").unwrap_err();
        assert!(matches!(e, ConfigError::UnknownKey { ref valid, .. } if valid == &["a", "c"]));
        let e = slot_mut(&mut v, "c.d", "toy", "name").unwrap_err();
        assert_eq!(
            e,
            ConfigError::NotATable {
                path: "toy.c.d".into(),
                table: "toy.c".into()
            }
        );
    }

    #[test]
    fn insert_creates_tables_and_refuses_values_as_tables() {
        let mut v = json!({"a": 1});
        insert(&mut v, "b.c.d", json!(true), "").unwrap();
        assert_eq!(v, json!({"a": 1, "b": {"c": {"d": true}}}));
        let e = insert(&mut v, "a.x", json!(0), "").unwrap_err();
        assert!(matches!(e, ConfigError::NotATable { ref table, .. } if table == "a"));
        assert!(matches!(
            insert(&mut v, "b..c", json!(0), ""),
            Err(ConfigError::EmptySegment { .. })
        ));
    }

    #[test]
    fn check_keys_names_the_first_unknown_key_and_its_level() {
        let reference = json!({"a": {"b": 1, "c": 2}, "d": null});
        check_keys(
            &json!({"a": {"c": 5}, "d": {"anything": 1}}),
            &reference,
            "",
        )
        .unwrap();
        let e = check_keys(&json!({"a": {"x": 5}}), &reference, "").unwrap_err();
        assert_eq!(
            e,
            ConfigError::UnknownKey {
                path: "a.x".into(),
                key: "x".into(),
                level: "a".into(),
                valid: vec!["b".into(), "c".into()],
            }
        );
        let e = check_keys(&json!({"z": 1}), &reference, "").unwrap_err();
        assert!(e.to_string().contains("the top level"), "{e}");
    }

    #[test]
    fn text_is_parsed_by_the_slot_it_goes_to() {
        assert_eq!(parse_text(&json!("s"), "64"), json!("64"));
        assert_eq!(parse_text(&json!(1), "64"), json!(64));
        assert_eq!(parse_text(&json!(1), "wide"), json!("wide"));
        assert_eq!(parse_text(&Value::Null, "[1, 2]"), json!([1, 2]));
        assert_eq!(describe(&json!(-1)), "an integer");
        assert_eq!(describe(&json!(0.5)), "a number");
    }
}
