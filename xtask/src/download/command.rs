//! The `cargo xtask download` command line: arguments, data-root resolution
//! and the printed summary.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;

use super::error::Result;
use super::install::{install, Request};
use super::metadata::{resolve, MetadataSource};
use super::progress::mib;
use super::report::{DigestStatus, Report};
use super::verify::DigestOrigin;

/// Fetch a dataset (or import a local copy), verify its SHA-256 digests and
/// extract what the metadata says into `<data root>/downloaded/<dataset>/`.
#[derive(Args, Clone, Debug)]
pub struct DownloadArgs {
    /// Dataset: emnist, mnist, brown or iam.
    pub dataset: String,
    /// Import this local file or directory instead of downloading (the source is never modified).
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    /// Data root [default: $TR_DATA_DIR, else the workspace's data/ when run through cargo, else ./data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Download or import again, and re-extract, even when verified copies are present.
    #[arg(long)]
    pub force: bool,
    /// Download only this file of the dataset (repeatable), e.g. `--file gzip.zip` for EMNIST's idx
    /// distribution [default: the metadata's `download` list].
    #[arg(long = "file", value_name = "NAME", conflicts_with = "from")]
    pub files: Vec<String>,
    /// Read `<DIR>/<dataset>/metadata.toml` [default: `<data root>/raw/<dataset>/metadata.toml` when
    /// present, else the copy built into this binary].
    #[arg(long, value_name = "DIR", env = "TR_METADATA_DIR")]
    pub metadata_dir: Option<PathBuf>,
}

/// What one `download` invocation did, printable as the command's output.
#[derive(Clone, Debug)]
pub struct Summary {
    pub report: Report,
    pub metadata: MetadataSource,
    pub root: PathBuf,
}

/// Runs `cargo xtask download` with `args`.
pub fn run(args: &DownloadArgs) -> Result<Summary> {
    let root = data_root(args.data_dir.as_deref());
    let (meta, source) = resolve(&args.dataset, args.metadata_dir.as_deref(), &root)?;
    tracing::info!(
        "dataset {} (metadata: {source}), data root {}",
        meta.name,
        root.display()
    );
    let request = Request {
        meta: &meta,
        root: root.clone(),
        from: args.from.clone(),
        files: args.files.clone(),
        force: args.force,
    };
    let report = install(&request)?;
    Ok(Summary {
        report,
        metadata: source,
        root,
    })
}

/// The data root: `explicit`, else `$TR_DATA_DIR`, else `<workspace>/data`
/// when run through cargo (which sets `CARGO_MANIFEST_DIR` to `xtask/`),
/// else `./data` — [`tr_data::resolve_root`] with the workspace's
/// `data/` as the default.
pub fn data_root(explicit: Option<&Path>) -> PathBuf {
    let default = workspace_root().map_or_else(
        || PathBuf::from(tr_data::DEFAULT_DATA_DIR),
        |w| w.join(tr_data::DEFAULT_DATA_DIR),
    );
    tr_data::resolve_root(explicit, default)
}

/// The workspace root when this runs under cargo: the parent of `xtask/`.
fn workspace_root() -> Option<PathBuf> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let root = manifest.parent()?;
    (manifest.join("Cargo.toml").is_file() && root.join("Cargo.toml").is_file())
        .then(|| root.to_path_buf())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        if r.files.is_empty() && !r.extracted.is_empty() {
            writeln!(f, "{}: imported into {}", r.dataset, r.dir.display())?;
        } else {
            writeln!(
                f,
                "{}: {} file(s) in {}",
                r.dataset,
                r.files.len(),
                r.dir.display()
            )?;
        }
        for file in &r.files {
            let digest = match &file.digest {
                DigestStatus::Verified(DigestOrigin::Metadata) => {
                    "verified against metadata".to_string()
                }
                DigestStatus::Verified(DigestOrigin::Recorded(p)) => {
                    format!("verified against {}", p.display())
                }
                DigestStatus::Recorded => format!(
                    "no digest known, recorded in {}",
                    r.dir.join("SHA256SUMS").display()
                ),
            };
            writeln!(
                f,
                "  {:<44} {:>10}  {}",
                file.name,
                mib(file.bytes),
                file.action
            )?;
            writeln!(f, "  {:<44} sha256 {} ({digest})", "", file.sha256)?;
        }
        for x in &r.extracted {
            let what = if x.skipped {
                "already extracted"
            } else {
                "extracted"
            };
            let list: Vec<&str> = x.files.iter().take(5).map(String::as_str).collect();
            let more = x.files.len().saturating_sub(list.len());
            let more = if more > 0 {
                format!(", ... (+{more})")
            } else {
                String::new()
            };
            writeln!(
                f,
                "  {}: {what} {} file(s): {}{more}",
                x.archive,
                x.files.len(),
                list.join(", ")
            )?;
        }
        if !r.unknown.is_empty() {
            let names: Vec<String> = r
                .unknown
                .iter()
                .take(20)
                .map(|p| p.display().to_string())
                .collect();
            let more = r.unknown.len() - names.len();
            let more = if more > 0 {
                format!(", ... (+{more})")
            } else {
                String::new()
            };
            writeln!(
                f,
                "  skipped (not files of {}): {}{more}",
                r.dataset,
                names.join(", ")
            )?;
        }
        write!(f, "  metadata: {}", self.metadata)
    }
}
