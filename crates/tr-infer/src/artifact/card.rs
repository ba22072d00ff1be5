//! The `README.md` model card of an artifact: what the model is, what it
//! was trained on and how, how well it did, and how to use it.

use std::collections::BTreeMap;

use super::ArtifactConfig;

/// How a model was made; rendered into `README.md` by [`ModelCard::render`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelCard {
    /// Experiment name (title of the card).
    pub name: String,
    /// The training data (dataset name and settings).
    pub data: String,
    /// The command that trained the model.
    pub command: String,
    /// Metrics of the staged checkpoint (`val_cer`, `test_cer`, ...).
    pub metrics: BTreeMap<String, f64>,
    /// When the artifact was made (RFC 3339).
    pub date: String,
    /// Further lines (run directory, checkpoint, git commit, ...).
    pub notes: Vec<String>,
}

impl ModelCard {
    /// Markdown text of the card for `config`, a model of `parameters` parameters.
    pub fn render(&self, config: &ArtifactConfig, parameters: usize) -> String {
        let [c, h, w] = config.input_shape;
        let title = if self.name.is_empty() {
            config.model.name()
        } else {
            &self.name
        };
        let mut s = format!("# {title}\n\n");
        s.push_str(&format!(
            "A `{}` handwritten text recogniser ({}) for the `tr` toolkit.\n\n",
            config.model.name(),
            config.model.description()
        ));
        s.push_str("| | |\n|---|---|\n");
        s.push_str(&format!("| model | `{}` |\n", config.model.name()));
        s.push_str(&format!("| parameters | {parameters} |\n"));
        s.push_str(&format!(
            "| input | {c}×{h}×{w} (C×H×W), bright ink on black |\n"
        ));
        s.push_str(&format!(
            "| vocabulary | {} symbols |\n",
            config.vocabulary.len()
        ));
        s.push_str(&format!("| decoder | {} |\n", config.decoder.label()));
        s.push_str(&format!("| weights | {:?} |\n", config.weights.dtype));
        if !self.date.is_empty() {
            s.push_str(&format!("| date | {} |\n", self.date));
        }
        s.push_str("\n## Data\n\n");
        s.push_str(if self.data.is_empty() {
            "not recorded"
        } else {
            &self.data
        });
        s.push_str("\n\n## Training command\n\n");
        if self.command.is_empty() {
            s.push_str("not recorded\n");
        } else {
            s.push_str(&format!("```sh\n{}\n```\n", self.command));
        }
        s.push_str("\n## Metrics\n\n");
        if self.metrics.is_empty() {
            s.push_str("none recorded\n");
        } else {
            s.push_str("CER is corpus-level (sum of edits / sum of reference lengths).\n\n");
            s.push_str("| metric | value |\n|---|---|\n");
            for (k, v) in &self.metrics {
                s.push_str(&format!("| {k} | {v:.4} |\n"));
            }
        }
        if !self.notes.is_empty() {
            s.push_str("\n## Provenance\n\n");
            for n in &self.notes {
                s.push_str(&format!("- {n}\n"));
            }
        }
        s.push_str("\n## Usage\n\n```sh\nhtr predict --model <this directory> image.png\n```\n\n");
        let class = if config.data_spec().reads_paragraphs() {
            "ParagraphTextRecognizer"
        } else {
            "LineTextRecognizer"
        };
        s.push_str(&format!(
            "```rust,ignore\nlet recognizer = tr_infer::{class}::from_dir(\"<this directory>\")?;\nlet text = recognizer.predict(&image::open(\"image.png\")?)?.text;\n```\n"
        ));
        s
    }
}
