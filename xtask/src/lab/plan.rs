//! `configs/labs.toml`: which experiments make up each lab, in order, and the
//! overrides `--quick` adds to them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// One lab of the course.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    pub number: u32,
    pub title: String,
    /// Experiment files relative to the configs directory, in run order.
    pub experiments: Vec<PathBuf>,
    /// Dotted overrides applied to every experiment with `--quick`.
    #[serde(default)]
    pub quick: BTreeMap<String, String>,
    /// The "tr recipe" of an experiment: the same model and data trained
    /// another way, run right after it (experiment file → recipe file).
    #[serde(default)]
    pub recipes: BTreeMap<PathBuf, PathBuf>,
    /// Printed under the lab's table (what makes its figures differ from
    /// the course's).
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabsFile {
    lab: Vec<Lab>,
}

/// Reads `<configs>/labs.toml` and returns lab `number` with its experiment
/// paths made absolute (each checked to exist).
pub fn load_lab(configs: &Path, number: u32) -> Result<Lab> {
    let path = configs.join("labs.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read the lab list", path.display()))?;
    let file: LabsFile = toml::from_str(&text)
        .with_context(|| format!("{}: not a valid lab list", path.display()))?;
    let known: Vec<u32> = file.lab.iter().map(|l| l.number).collect();
    let Some(mut lab) = file.lab.into_iter().find(|l| l.number == number) else {
        bail!(
            "{}: no lab {number}; labs defined: {}",
            path.display(),
            known
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let resolve = |file: &Path| -> Result<PathBuf> {
        let full = configs.join(file);
        if !full.is_file() {
            bail!(
                "{}: lab {number} lists {} but {} does not exist",
                path.display(),
                file.display(),
                full.display()
            );
        }
        Ok(full)
    };
    let mut recipes = BTreeMap::new();
    for (exp, recipe) in &lab.recipes {
        if !lab.experiments.contains(exp) {
            bail!(
                "{}: lab {number} has a recipe for {}, which is not one of its experiments",
                path.display(),
                exp.display()
            );
        }
        recipes.insert(resolve(exp)?, resolve(recipe)?);
    }
    lab.recipes = recipes;
    for exp in &mut lab.experiments {
        *exp = resolve(exp)?;
    }
    Ok(lab)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_lab_and_checks_its_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lab9")).unwrap();
        std::fs::write(dir.path().join("lab9/a.yaml"), "name: a\n").unwrap();
        std::fs::write(
            dir.path().join("labs.toml"),
            "[[lab]]\nnumber = 9\ntitle = \"t\"\nexperiments = [\"lab9/a.yaml\"]\nquick = { \"trainer.max_epochs\" = \"1\" }\n",
        )
        .unwrap();
        let lab = load_lab(dir.path(), 9).unwrap();
        assert_eq!(lab.experiments, vec![dir.path().join("lab9/a.yaml")]);
        assert_eq!(lab.quick["trainer.max_epochs"], "1");
        let e = load_lab(dir.path(), 3).unwrap_err().to_string();
        assert!(e.contains("no lab 3") && e.contains("9"), "{e}");
        std::fs::write(
            dir.path().join("labs.toml"),
            "[[lab]]\nnumber = 9\ntitle = \"t\"\nexperiments = [\"lab9/missing.yaml\"]\n",
        )
        .unwrap();
        let e = load_lab(dir.path(), 9).unwrap_err().to_string();
        assert!(e.contains("missing.yaml"), "{e}");

        std::fs::write(dir.path().join("lab9/r.yaml"), "name: r\n").unwrap();
        let with_recipe = |recipes: &str| {
            std::fs::write(
                dir.path().join("labs.toml"),
                format!("[[lab]]\nnumber = 9\ntitle = \"t\"\nexperiments = [\"lab9/a.yaml\"]\nnote = \"n\"\nrecipes = {{ {recipes} }}\n"),
            )
            .unwrap();
            load_lab(dir.path(), 9)
        };
        let lab = with_recipe("\"lab9/a.yaml\" = \"lab9/r.yaml\"").unwrap();
        assert_eq!(
            lab.recipes[&dir.path().join("lab9/a.yaml")],
            dir.path().join("lab9/r.yaml")
        );
        assert_eq!(lab.note.as_deref(), Some("n"));
        let e = with_recipe("\"lab9/b.yaml\" = \"lab9/r.yaml\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lab9/b.yaml") && e.contains("not one of its experiments"),
            "{e}"
        );
        let e = with_recipe("\"lab9/a.yaml\" = \"lab9/none.yaml\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.yaml"), "{e}");
    }

    #[test]
    fn the_repository_lab_list_is_valid() {
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        for n in 1..=4 {
            let lab = load_lab(&configs, n).unwrap();
            assert!(!lab.experiments.is_empty());
            assert!(lab.quick.contains_key("trainer.max_epochs"));
            assert!(
                lab.note.is_some(),
                "lab {n} says how its data differs from the course's"
            );
            for file in lab.experiments.iter().chain(lab.recipes.values()) {
                tr_train::RunConfig::load(Some(file), &[])
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            }
        }
    }
}
