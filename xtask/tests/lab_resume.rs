//! `cargo xtask lab N --resume` on a tiny lab of two experiments (fake
//! images, a small MLP): a finished experiment is skipped, an interrupted one
//! continues in its own run directory, and a run made with other settings
//! never stands in for this one.

use std::path::Path;

use xtask::lab::{run, LabArgs};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn experiment(name: &str) -> String {
    format!(
        "name: {name}\nseed: 1\ndata:\n  dataset: fake-images\n  num_samples: 48\n  image_height: 8\n  image_width: 8\n  num_classes: 3\n  batch_size: 16\nmodel:\n  name: mlp\n  fc1: 8\n  fc2: 8\ntrainer:\n  max_epochs: 2\n  progress_bar: false\n  num_sample_images: 0\n"
    )
}

fn lab(dir: &Path) -> LabArgs {
    write(
        &dir.join("configs/labs.toml"),
        "[[lab]]\nnumber = 1\ntitle = \"tiny\"\nexperiments = [\"a.yaml\", \"b.yaml\"]\nquick = { \"trainer.max_epochs\" = \"1\" }\n",
    );
    write(&dir.join("configs/a.yaml"), &experiment("tiny-a"));
    write(&dir.join("configs/b.yaml"), &experiment("tiny-b"));
    LabArgs {
        number: 1,
        quick: false,
        resume: true,
        configs: dir.join("configs"),
        data_dir: Some(dir.join("data")),
        runs_dir: dir.join("runs"),
        only: None,
        out: Some(dir.join("tables")),
        no_recipes: false,
        overrides: Vec::new(),
    }
}

fn run_dirs(runs: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(runs)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            p.is_dir()
                .then(|| p.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn resume_skips_finished_continues_unfinished_and_ignores_other_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = lab(tmp.path());

    // A quick run first: other settings, so it must not count for the full lab.
    args.quick = true;
    run(&args).unwrap();
    let quick = run_dirs(&args.runs_dir);
    assert_eq!(quick.len(), 2);
    args.quick = false;

    let table = run(&args).unwrap();
    assert!(table.contains("tiny-a") || table.contains("a"), "{table}");
    let dirs = run_dirs(&args.runs_dir);
    assert_eq!(dirs.len(), 4, "the full lab made its own runs: {dirs:?}");

    // Everything finished: nothing new is run.
    run(&args).unwrap();
    assert_eq!(run_dirs(&args.runs_dir), dirs);

    // Interrupt experiment b's full run: without its summary it is unfinished
    // and continues from its last checkpoint, in the same directory.
    // Runs started in the same second get a `-2` suffix: find b's full run
    // as the new directory whose config names tiny-b.
    let b_full = dirs
        .iter()
        .filter(|d| !quick.contains(d))
        .find(|d| {
            std::fs::read_to_string(args.runs_dir.join(d).join("config.yaml"))
                .unwrap()
                .contains("name: tiny-b")
        })
        .unwrap();
    let b = args.runs_dir.join(b_full);
    std::fs::remove_file(b.join("summary.json")).unwrap();
    assert!(b.join("checkpoints/last.safetensors").is_file());
    run(&args).unwrap();
    assert_eq!(run_dirs(&args.runs_dir), dirs, "no new run for b");
    assert!(
        b.join("summary.json").is_file(),
        "b finished again in place"
    );

    // Without --resume every experiment runs anew.
    args.resume = false;
    run(&args).unwrap();
    assert_eq!(run_dirs(&args.runs_dir).len(), 6);
}

#[test]
fn a_recipe_runs_after_its_experiment_and_the_table_keeps_the_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = lab(tmp.path());
    write(
        &tmp.path().join("configs/labs.toml"),
        "[[lab]]\nnumber = 1\ntitle = \"tiny\"\nexperiments = [\"a.yaml\"]\n\
         recipes = { \"a.yaml\" = \"a_recipe.yaml\" }\nnote = \"Only a tiny fake dataset here.\"\n",
    );
    write(
        &tmp.path().join("configs/a_recipe.yaml"),
        &experiment("tiny-a-recipe").replace("max_epochs: 2", "max_epochs: 3"),
    );
    args.resume = false;
    let table = run(&args).unwrap();
    let file = tmp.path().join("tables/lab1.md");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), table);
    let lines: Vec<&str> = table.lines().filter(|l| l.starts_with("| a")).collect();
    assert_eq!(lines.len(), 1, "{table}");
    let recipe_row = table
        .lines()
        .find(|l| l.starts_with("| ↳ tr recipe: a_recipe |"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        recipe_row.contains("| 3 |"),
        "the recipe's own epochs: {recipe_row}"
    );
    // The course row's "tr recipe" column holds the recipe's test figure.
    let cells: Vec<&str> = lines[0].split('|').map(str::trim).collect();
    let recipe_cells: Vec<&str> = recipe_row.split('|').map(str::trim).collect();
    assert!(cells[9].starts_with("test_"), "{table}");
    assert_eq!(cells[9], recipe_cells[7], "{table}");
    assert!(
        table.trim_end().ends_with("Only a tiny fake dataset here."),
        "{table}"
    );
    // Every plot link points at a file copied next to the table.
    let links: Vec<&str> = table
        .split("](")
        .skip(1)
        .map(|rest| &rest[..rest.find(')').unwrap()])
        .collect();
    assert!(links.len() >= 2, "plots for both rows: {table}");
    for link in links {
        assert!(tmp.path().join("tables").join(link).is_file(), "{link}");
    }
    // --no-recipes leaves the recipe out.
    args.no_recipes = true;
    let table = run(&args).unwrap();
    assert!(!table.contains("↳ tr recipe"), "{table}");
}
