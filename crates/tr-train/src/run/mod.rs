//! Training runs on disk, with one owner: where runs live and how they are
//! named ([`RunDir`], [`runs_of`]), what they logged ([`Record`],
//! [`MetricsLog`]), which metric they are judged by ([`Monitor`]) and which
//! checkpoint to take from them ([`RunDir::best_checkpoint`],
//! [`resolve_checkpoint`]). The training loop, the command line and staging
//! all go through here.
//!
//! ```text
//! runs/<yyyymmdd-hhmmss>-<name>/
//!   config.yaml      resolved configuration (defaults included)
//!   metrics.jsonl    one JSON object per logged step / epoch
//!   metrics.csv      the same records as a table (columns = union of metric names)
//!   checkpoints/     last.safetensors, best-*.safetensors
//!   plots/           loss.png, cer.png (or accuracy.png), lr.png
//!   samples/         validation images with prediction vs truth
//!   summary.json     best metrics, epochs, wall time, samples/s, parameters, git commit
//! ```

mod best_of;
mod dir;
mod find;
mod log;
mod monitor;
mod select;

pub use best_of::{best_of_runs, BestOfRuns, RunCandidate};
pub use dir::{git_commit, safe_name, RunDir};
pub use find::runs_of;
pub use log::{read_records, MetricsLog, Record};
pub use monitor::Monitor;
pub use select::{resolve_checkpoint, Selected};
