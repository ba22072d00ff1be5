//! Shared fixtures: a tiny untrained line model, a recogniser that waits
//! for the test's signal, servers on 127.0.0.1:0 and a small HTTP client.
#![allow(dead_code)]

use std::path::Path;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use candle_core::{DType, Device};
use candle_nn::VarMap;
use image::{DynamicImage, GrayImage, Luma};
use tr_infer::artifact::{write_artifact, ArtifactSpec};
use tr_infer::{BatchTimings, LineTextRecognizer, ParagraphTextRecognizer, Prediction};
use tr_models::{seeded_var_builder, DataSpec, ModelConfig};
use tr_serve::{Layout, ModelInfo, ReadAs, Reading, Recognize, ServeConfig, Server};

/// Writes a tiny seeded line-cnn (input 28 × 64, EMNIST vocabulary) into `dir`.
pub fn tiny_artifact(dir: &Path) {
    let mut model = ModelConfig::by_name("line-cnn").unwrap();
    model.set_str("conv_dim", "4").unwrap();
    model.set_str("fc_dim", "16").unwrap();
    let spec = DataSpec::new([1, 28, 64], tr_data::Vocabulary::emnist(), Some(16));
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, 7, DType::F32, &Device::Cpu);
    model.build(&spec, vb).unwrap();
    let weights = tr_models::params::named_vars(&varmap)
        .into_iter()
        .map(|(k, v)| (k, v.as_tensor().clone()))
        .collect();
    write_artifact(dir, &ArtifactSpec::new(model, &spec), &weights).unwrap();
}

/// The tiny line model, loaded.
pub fn tiny_recognizer() -> LineTextRecognizer {
    let dir = tempfile::tempdir().unwrap();
    tiny_artifact(dir.path());
    LineTextRecognizer::from_dir(dir.path()).unwrap()
}

/// The tiny line model behind a `ParagraphTextRecognizer`: it reads lines
/// and segments pages.
pub fn tiny_page_recognizer() -> ParagraphTextRecognizer {
    let dir = tempfile::tempdir().unwrap();
    tiny_artifact(dir.path());
    ParagraphTextRecognizer::from_dir(dir.path()).unwrap()
}

/// A scan-like page: `lines` bands of dark strokes on light paper, 20
/// pixels high and 25 apart, 200 pixels wide.
pub fn page_scan(lines: u32) -> DynamicImage {
    let h = 20 + 45 * lines;
    DynamicImage::ImageLuma8(GrayImage::from_fn(200, h, |x, y| {
        let band = y >= 20 && (y - 20) % 45 < 20 && (15..185).contains(&x);
        let stroke = band && ((x / 3) % 4 == 0 || (y - 20) % 45 == 10);
        Luma([if stroke { 30 } else { 228 }])
    }))
}

/// A scan-like line: dark strokes on light paper, `w × h`.
pub fn scan(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageLuma8(GrayImage::from_fn(w, h, |x, y| {
        let stroke = (x / 3) % 5 == 0 && y > h / 5 && y < h - h / 5 || (x * 7 + y * 3) % 41 == 0;
        Luma([if stroke { 30 } else { 228 }])
    }))
}

pub fn png_bytes(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn data_url(bytes: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64(bytes))
}

/// Settings for tests: any free loopback port, no signal handling.
pub fn test_config() -> ServeConfig {
    ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    }
}

/// A recogniser that reports each batch it is given and then waits until
/// the test releases it; it "reads" an image as its size (`WxH`).
pub struct Gated {
    entered: Mutex<Sender<usize>>,
    release: Mutex<Receiver<()>>,
}

/// The test's side of a [`Gated`] recogniser.
pub struct Gate {
    pub entered: Receiver<usize>,
    release: Sender<()>,
}

impl Gate {
    /// Lets one batch finish.
    pub fn release(&self) {
        let _ = self.release.send(());
    }

    /// Waits until the model has started a batch; returns its size.
    pub fn wait_entered(&self) -> usize {
        self.entered
            .recv_timeout(Duration::from_secs(20))
            .expect("the model never started a batch")
    }
}

pub fn gated() -> (Gated, Gate) {
    let (etx, erx) = channel();
    let (rtx, rrx) = channel();
    (
        Gated {
            entered: Mutex::new(etx),
            release: Mutex::new(rrx),
        },
        Gate {
            entered: erx,
            release: rtx,
        },
    )
}

impl Recognize for Gated {
    fn predict_batch(
        &self,
        images: &[DynamicImage],
        _read_as: &[ReadAs],
    ) -> tr_infer::Result<(Vec<Reading>, BatchTimings)> {
        let _ = self.entered.lock().unwrap().send(images.len());
        // A dropped gate (test over) lets everything through.
        let _ = self.release.lock().unwrap().recv();
        let predictions = images
            .iter()
            .map(|img| {
                let text = format!("{}x{}", img.width(), img.height());
                Reading::from(Prediction {
                    char_confidences: vec![0.5; text.chars().count()],
                    confidence: 0.5f32.powi(text.chars().count() as i32),
                    text,
                    steps: None,
                    x: None,
                    inverted: false,
                })
            })
            .collect();
        Ok((predictions, BatchTimings::default()))
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            name: "gated".into(),
            layout: Layout::Line,
            decoder: "none".into(),
            segments_pages: false,
        }
    }
}

/// A blocking HTTP client that returns 4xx/5xx answers instead of failing.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// An answer: status, headers we look at, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` message of a refused request.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error field: {}", self.body))
            .to_string()
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("request failed");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type").unwrap_or_default();
    let retry_after = header("retry-after");
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        content_type,
        retry_after,
        body,
    }
}

pub fn get(server: &Server, path: &str) -> Reply {
    reply(agent().get(format!("{}{path}", server.url())).call())
}

pub fn post(server: &Server, path: &str, content_type: &str, body: &[u8]) -> Reply {
    reply(
        agent()
            .post(format!("{}{path}", server.url()))
            .header("Content-Type", content_type)
            .send(body),
    )
}

pub fn post_json(server: &Server, path: &str, body: &serde_json::Value) -> Reply {
    post(
        server,
        path,
        "application/json",
        body.to_string().as_bytes(),
    )
}

/// A multipart/form-data body of `(name, file name, bytes)` parts.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----trserveboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/png\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Runs `f` on another thread (requests that block until a gate opens).
pub fn in_background<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::spawn(f)
}

/// Polls `/healthz` until `field` reaches `value`.
pub fn wait_health(server: &Server, field: &str, value: i64) {
    for _ in 0..2000 {
        if get(server, "/healthz").json()[field].as_i64() == Some(value) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("/healthz {field} never reached {value}");
}
