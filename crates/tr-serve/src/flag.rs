//! `POST /v1/flag` and the [`FlagStore`]: a wrong prediction, with the
//! user's correction, kept for later labelling.
//!
//! Each flag is three files in the flag directory, named by its id
//! (`<UTC time>-<counter>`, e.g. `20261202T010203.123Z-0001`):
//!
//! * `<id>.png` — the image as sent (decoded and re-encoded as PNG);
//! * `<id>.json` — `{"id", "created", "image", "width", "height",
//!   "prediction", "correction", "confidence", "model"}`;
//! * `<id>.xml` — a PAGE XML page with one text line covering the whole
//!   image, its text the correction, so that the directory reads as a
//!   `page-lines` dataset: `htr data stats page-lines --set 'roots=[DIR]'`.
//!
//! Files are written to a temporary name and renamed, the XML last, so a
//! reader never sees half a flag. The directory is bounded: the flags in
//! it (counted once, on the first flag after start, then kept up to date)
//! may not pass [`crate::ServeConfig::max_flag_bytes`]; a flag that would is
//! refused with 507 and nothing is written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::Json;
use image::DynamicImage;
use serde::Serialize;

use crate::error::{ApiError, Reason};
use crate::input::read_upload;
use crate::predict::decode;
use crate::state::AppState;

/// Longest prediction or correction kept, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Where flags are written.
#[derive(Debug)]
pub struct FlagStore {
    dir: PathBuf,
    counter: AtomicU64,
    limit: u64,
    /// Bytes of flags in the directory, once counted; held while a flag is
    /// written so that two flags cannot both pass the limit.
    used: Mutex<Option<u64>>,
}

/// What a flag records besides its image.
#[derive(Clone, Debug, Serialize)]
pub struct FlagRecord {
    pub id: String,
    /// RFC 3339 time of the flag (UTC).
    pub created: String,
    /// File name of the image, beside the record.
    pub image: String,
    pub width: u32,
    pub height: u32,
    /// What the model read.
    pub prediction: String,
    /// What the user says the image reads.
    pub correction: String,
    pub confidence: Option<f32>,
    /// The model that made the prediction (name and decoder).
    pub model: String,
}

impl FlagStore {
    /// A store writing into `dir` (created on the first flag), without a
    /// size limit.
    pub fn new(dir: PathBuf) -> Self {
        Self::with_limit(dir, u64::MAX)
    }

    /// A store writing into `dir` that refuses a flag once the flags in
    /// the directory would pass `limit` bytes.
    pub fn with_limit(dir: PathBuf, limit: u64) -> Self {
        Self {
            dir,
            counter: AtomicU64::new(0),
            limit,
            used: Mutex::new(None),
        }
    }

    /// Bytes of flag files (`*.png`, `*.json`, `*.xml`) in the directory; 0
    /// when it does not exist yet.
    fn count_used(&self) -> crate::Result<u64> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(crate::Error::Io {
                    what: format!("reading the flag directory {}", self.dir.display()),
                    source,
                })
            }
        };
        let mut used = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let flag_file = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("png" | "json" | "xml")
            );
            if flag_file {
                used += entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        Ok(used)
    }

    /// The flag directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `<id>.png`, `<id>.json` and `<id>.xml`; returns the record.
    pub fn store(
        &self,
        image: &DynamicImage,
        prediction: String,
        correction: String,
        confidence: Option<f32>,
        model: String,
    ) -> crate::Result<FlagRecord> {
        let io = |what: String| move |source| crate::Error::Io { what, source };
        std::fs::create_dir_all(&self.dir).map_err(io(format!(
            "creating the flag directory {}",
            self.dir.display()
        )))?;
        let now = chrono::Utc::now();
        let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        // The counter keeps ids unique within a process, the existence check across runs.
        let id = loop {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let id = format!("{stamp}-{n:04}");
            if !self.dir.join(format!("{id}.json")).exists() {
                break id;
            }
        };
        let (width, height) = (image.width(), image.height());
        let record = FlagRecord {
            image: format!("{id}.png"),
            id: id.clone(),
            created: now.to_rfc3339(),
            width,
            height,
            prediction,
            correction,
            confidence,
            model,
        };
        let mut png = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| crate::Error::Io {
                what: format!("encoding flag {id} as PNG"),
                source: std::io::Error::other(e),
            })?;
        let json = serde_json::to_vec_pretty(&record).map_err(|e| crate::Error::Io {
            what: format!("writing flag {id}"),
            source: std::io::Error::other(e),
        })?;
        let png = png.into_inner();
        let xml = page_xml(&record);
        let more = (png.len() + json.len() + xml.len()) as u64;
        // A poisoned lock only means another flag's write panicked: recount.
        let mut used = self.used.lock().unwrap_or_else(|p| {
            let mut guard = p.into_inner();
            *guard = None;
            guard
        });
        let now = match *used {
            Some(n) => n,
            None => self.count_used()?,
        };
        *used = Some(now);
        if now.saturating_add(more) > self.limit {
            return Err(crate::Error::FlagsFull {
                dir: self.dir.clone(),
                used: now,
                more,
                limit: self.limit,
            });
        }
        self.write(&format!("{id}.png"), &png)?;
        self.write(&format!("{id}.json"), &json)?;
        self.write(&format!("{id}.xml"), xml.as_bytes())?;
        *used = Some(now + more);
        Ok(record)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> crate::Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| crate::Error::Io {
                what: format!("writing {}", path.display()),
                source,
            })
    }
}

/// A PAGE XML (2019) page of one region with one line: the whole image.
fn page_xml(r: &FlagRecord) -> String {
    let (w, h) = (r.width, r.height);
    let (x1, y1) = (w.saturating_sub(1), h.saturating_sub(1));
    let points = format!("0,0 {x1},0 {x1},{y1} 0,{y1}");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Metadata>
    <Creator>htr serve (flag {id}; prediction: {pred})</Creator>
    <Created>{created}</Created>
    <LastChange>{created}</LastChange>
  </Metadata>
  <Page imageFilename="{image}" imageWidth="{w}" imageHeight="{h}">
    <TextRegion id="r1">
      <Coords points="{points}"/>
      <TextLine id="r1l1">
        <Coords points="{points}"/>
        <TextEquiv><Unicode>{text}</Unicode></TextEquiv>
      </TextLine>
    </TextRegion>
  </Page>
</PcGts>
"#,
        id = xml_escape(&r.id),
        pred = xml_escape(&r.prediction),
        created = xml_escape(&r.created),
        image = xml_escape(&r.image),
        text = xml_escape(&r.correction),
    )
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The answer of `/v1/flag`.
#[derive(Debug, Serialize)]
pub struct FlagResponse {
    pub id: String,
    /// Files written, relative to the flag directory.
    pub files: Vec<String>,
}

pub(crate) async fn flag(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<FlagResponse>), ApiError> {
    let Some(store) = state.inner.flags.as_ref() else {
        return Err(ApiError::new(
            Reason::NotFound,
            "flagging is off: start the server with --flag-dir DIR",
        ));
    };
    let _slot = state.admit()?;
    let timeout = state.config().timeout;
    let work = async {
        let mut upload = read_upload(
            req,
            state.config().max_body_bytes,
            &["prediction", "correction", "confidence"],
        )
        .await?;
        let mut text = |name: &str, required: bool| -> Result<String, ApiError> {
            let value = upload.fields.remove(name).unwrap_or_default();
            if required && value.trim().is_empty() {
                return Err(ApiError::bad_request(format!(
                    "field `{name}` is missing or empty: say what the image really reads"
                )));
            }
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(ApiError::bad_request(format!(
                    "field `{name}` has {} characters, more than the limit of {MAX_TEXT_CHARS}",
                    value.chars().count()
                )));
            }
            Ok(value)
        };
        let prediction = text("prediction", false)?;
        let correction = text("correction", true)?.trim().to_string();
        let confidence = match upload.fields.remove("confidence") {
            None => None,
            Some(c) if c.trim().is_empty() => None,
            Some(c) => Some(
                c.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "field `confidence`: expected a number, found {c:?}"
                        ))
                    })?,
            ),
        };
        let image = decode(std::mem::take(&mut upload.image), state.config().max_pixels).await?;
        let info = &state.inner.info;
        let model = format!("{} ({})", info.name, info.decoder);
        let dir = store.dir().to_path_buf();
        let store = store.clone();
        let record = tokio::task::spawn_blocking(move || {
            store.store(&image, prediction, correction, confidence, model)
        })
        .await
        .map_err(|_| ApiError::new(Reason::Internal, "storing the flag panicked"))?
        .map_err(|e| match e {
            crate::Error::FlagsFull { .. } => {
                tracing::warn!(error = %e, "flag refused");
                ApiError::new(Reason::FlagsFull, format!("cannot store the flag: {e}"))
            }
            e => {
                tracing::error!(dir = %dir.display(), error = %e, "cannot store a flag");
                ApiError::new(Reason::Internal, format!("cannot store the flag: {e}"))
            }
        })?;
        state.metrics().record_flag();
        tracing::info!(id = %record.id, dir = %dir.display(), "flag stored");
        Ok::<_, ApiError>((
            StatusCode::CREATED,
            Json(FlagResponse {
                files: vec![
                    record.image.clone(),
                    format!("{}.json", record.id),
                    format!("{}.xml", record.id),
                ],
                id: record.id,
            }),
        ))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::timeout(timeout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
