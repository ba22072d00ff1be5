//! `htr models`: the model registry — every model's name, task, the data it
//! is made for (input shape, classes, target length), its parameter count
//! with the default config, and a one-line description; `--json` adds each
//! default config.

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};
use tr_models::{default_spec, parameter_count, ModelConfig, Task};

/// Options of `htr models`.
#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Print a JSON array (one object per model, default config included) instead of the table.
    #[arg(long)]
    json: bool,
}

/// One model of the registry with its defaults.
struct Row {
    name: &'static str,
    task: Task,
    input_shape: [usize; 3],
    classes: usize,
    output_len: Option<usize>,
    parameters: usize,
    description: &'static str,
    config: Value,
}

fn rows() -> anyhow::Result<Vec<Row>> {
    ModelConfig::names()
        .iter()
        .map(|name| {
            let config = ModelConfig::by_name(name)?;
            let spec = default_spec(name)?;
            let parameters = parameter_count(&config, &spec)
                .with_context(|| format!("counting the parameters of {name}"))?;
            Ok(Row {
                name,
                task: config.task(),
                input_shape: spec.input_shape,
                classes: spec.num_classes(),
                output_len: spec.output_len,
                parameters,
                description: config.description(),
                config: config.to_json(),
            })
        })
        .collect()
}

fn task_name(task: Task) -> &'static str {
    match task {
        Task::Classify => "classify",
        Task::Ctc => "ctc",
        Task::Seq2Seq => "seq2seq",
    }
}

/// `1234567` → `"1,234,567"`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn render_table(rows: &[Row]) -> String {
    let header = [
        "model",
        "task",
        "input",
        "classes",
        "out len",
        "params",
        "description",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let [c, h, w] = r.input_shape;
            [
                r.name.to_string(),
                task_name(r.task).to_string(),
                format!("{c}x{h}x{w}"),
                r.classes.to_string(),
                r.output_len.map_or("-".to_string(), |n| n.to_string()),
                thousands(r.parameters),
                r.description.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Numbers right-aligned, text left-aligned; the last column unpadded.
    let right = [false, false, true, true, true, true, false];
    let line = |row: &[String]| -> String {
        let parts: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| match (i + 1 == row.len(), right[i]) {
                (true, _) => cell.clone(),
                (false, true) => format!("{cell:>width$}", width = widths[i]),
                (false, false) => format!("{cell:<width$}", width = widths[i]),
            })
            .collect();
        parts.join("  ")
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

fn render_json(rows: &[Row]) -> anyhow::Result<String> {
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "task": task_name(r.task),
                "input_shape": r.input_shape,
                "classes": r.classes,
                "output_len": r.output_len,
                "parameters": r.parameters,
                "description": r.description,
                "config": r.config,
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).context("serialising the model list")
}

/// Prints the registry table (or JSON) to stdout.
pub fn run(args: ModelsArgs) -> anyhow::Result<()> {
    let rows = rows()?;
    let text = if args.json {
        render_json(&rows)?
    } else {
        render_table(&rows)
    };
    println!("{}", text.trim_end());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_003_891), "1,003,891");
    }

    #[test]
    fn table_lists_every_model_with_its_count() -> anyhow::Result<()> {
        let rows = rows()?;
        let table = render_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + ModelConfig::names().len());
        assert!(lines[0].starts_with("model"));
        let line_cnn = lines
            .iter()
            .find(|l| l.starts_with("line-cnn "))
            .expect("line-cnn row");
        assert!(
            line_cnn.contains("ctc")
                && line_cnn.contains("1x28x896")
                && line_cnn.contains("1,003,891"),
            "{line_cnn}"
        );
        let lstm = lines
            .iter()
            .find(|l| l.starts_with("line-cnn-lstm"))
            .expect("lstm row");
        assert!(lstm.contains("3,491,782"), "{lstm}");
        let para = lines
            .iter()
            .find(|l| l.starts_with("resnet-transformer"))
            .expect("resnet row");
        assert!(
            para.contains("1x576x640") && para.contains("84") && para.contains("682"),
            "{para}"
        );
        let json: Value = serde_json::from_str(&render_json(&rows)?)?;
        assert_eq!(json[3]["name"], "line-cnn");
        assert_eq!(json[3]["parameters"], 1_003_891);
        assert_eq!(json[3]["config"]["window_width"], 16);
        Ok(())
    }
}
