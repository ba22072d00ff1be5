//! The results table `cargo xtask lab N` ends with (Markdown, so it can be
//! pasted into notes as is).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One experiment's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub experiment: String,
    pub model: String,
    pub epochs: u64,
    pub wall_seconds: f64,
    pub samples_per_sec: f64,
    /// `(name, value)` of the monitored validation metric (best epoch).
    pub val: Option<(String, f64)>,
    /// `(name, value)` of the test metric the course reported.
    pub test: Option<(String, f64)>,
    /// The course's published value of that metric, if any.
    pub course: Option<f64>,
    /// Set when the experiment failed; the other fields are then empty.
    pub error: Option<String>,
    /// The test figure of this experiment's "tr recipe" run, if it has one.
    pub recipe: Option<(String, f64)>,
    /// `(label, link)` of the plots kept next to the table.
    pub plots: Vec<(String, String)>,
}

impl Row {
    /// The row of an experiment that failed with `error`.
    pub fn failed(experiment: String, error: String) -> Self {
        Self {
            experiment,
            model: String::new(),
            epochs: 0,
            wall_seconds: 0.0,
            samples_per_sec: 0.0,
            val: None,
            test: None,
            course: None,
            error: Some(error),
            recipe: None,
            plots: Vec::new(),
        }
    }
}

fn metric(m: &Option<(String, f64)>) -> String {
    match m {
        Some((name, v)) => format!("{name} {:.1}%", v * 100.0),
        None => "—".into(),
    }
}

fn wall(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Renders `rows` under a heading naming the lab and whether it ran
/// `--quick`, with `note` (if any) under the table.
pub fn render(lab: u32, title: &str, quick: bool, rows: &[Row], note: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Lab {lab}: {title}\n");
    if quick {
        let _ = writeln!(
            out,
            "**--quick**: reduced data and epochs (see configs/labs.toml); figures are a smoke \
             check, not comparable with the course's.\n"
        );
    }
    out.push_str(
        "| experiment | model | epochs | wall | samples/s | val (best) | test | course | tr recipe | plots |\n\
         |---|---|---:|---:|---:|---|---|---|---|---|\n",
    );
    for r in rows {
        if let Some(e) = &r.error {
            let _ = writeln!(
                out,
                "| {} | failed: {} | | | | | | | | |",
                r.experiment,
                e.replace('|', "/").replace('\n', " ")
            );
            continue;
        }
        let course = match r.course {
            Some(v) => format!("{:.1}%", v * 100.0),
            None => "not published".into(),
        };
        let plots = r
            .plots
            .iter()
            .map(|(label, link)| format!("[{label}]({link})"))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} |",
            r.experiment,
            r.model,
            r.epochs,
            wall(r.wall_seconds),
            r.samples_per_sec,
            metric(&r.val),
            metric(&r.test),
            course,
            metric(&r.recipe),
            plots
        );
    }
    out.push_str(
        "\nCER is corpus-level (sum of edits / sum of reference lengths). \"tr recipe\" is the same \
         model and data trained with this project's recipe (its config is named in the row below \
         the experiment).\n",
    );
    if let Some(note) = note {
        let _ = writeln!(out, "\n{}", note.trim());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_results_failures_and_the_quick_warning() {
        let rows = vec![
            Row {
                experiment: "line_cnn_ctc".into(),
                model: "line-cnn".into(),
                epochs: 2,
                wall_seconds: 125.4,
                samples_per_sec: 41.25,
                val: Some(("val_cer".into(), 0.25)),
                test: Some(("test_cer".into(), 0.2612)),
                course: Some(0.18),
                error: None,
                recipe: Some(("test_cer".into(), 0.091)),
                plots: vec![("cer".into(), "lab3/line_cnn_ctc-cer.png".into())],
            },
            Row::failed("bad".into(), "data missing | run x\nsecond line".into()),
        ];
        let t = render(3, "Lines", true, &rows, Some("Only the test split.\n"));
        assert!(t.contains("## Lab 3: Lines"), "{t}");
        assert!(t.contains("--quick"), "{t}");
        assert!(
            t.contains(
                "| line_cnn_ctc | line-cnn | 2 | 2:05 | 41.2 | val_cer 25.0% | test_cer 26.1% | 18.0% \
                 | test_cer 9.1% | [cer](lab3/line_cnn_ctc-cer.png) |"
            ),
            "{t}"
        );
        assert!(
            t.contains("| bad | failed: data missing / run x second line |"),
            "{t}"
        );
        assert!(t.trim_end().ends_with("Only the test split."), "{t}");
        assert!(!render(3, "Lines", false, &rows, None).contains("--quick"));
    }
}
