//! The default model that ships inside the crate (feature `bundled`, on by
//! default): an English line recogniser, its files embedded with
//! `include_bytes!` from the workspace's `models/default/`, so that an
//! embedder reads handwriting with no model directory, no download and no
//! training crate.
//!
//! [`bundled_artifact`] verifies it exactly as [`Artifact::load`] verifies a
//! directory (sizes and hashes from `config.json`, every tensor against the
//! model built from the config). What the model is, what it was trained on,
//! the licences of that data and its measured error rates are in
//! [`BUNDLED_CARD`] (`models/default/README.md`).

use std::path::Path;

use candle_core::Device;

use crate::artifact::{Artifact, ArtifactBytes};
use crate::error::Result;

/// Name the bundled model goes by in messages and in `htr predict`.
pub const BUNDLED_NAME: &str = "bundled:default";

/// The model card of the bundled model (Markdown).
pub const BUNDLED_CARD: &str = include_str!("../../../models/default/README.md");

const CONFIG: &str = include_str!("../../../models/default/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../../models/default/model.safetensors");
const LM: &str = include_str!("../../../models/default/lm.json");

/// Loads and verifies the bundled model on `device`.
pub fn bundled_artifact(device: &Device) -> Result<Artifact> {
    Artifact::from_bytes(
        &ArtifactBytes {
            label: Path::new(BUNDLED_NAME),
            config: CONFIG,
            weights: WEIGHTS,
            lm: Some(LM),
        },
        device,
    )
}
