//! The page in a real browser: headless Chromium, driven over the DevTools
//! protocol (a websocket), opens the page, uploads a real line through the
//! file input, and the recognised text, its shading and the line outline
//! are read back from the page; then the flag form stores a correction.
//!
//! Skipped, with a message, when no Chromium is installed (`.ci/run`
//! installs Debian's `chromium`). `CHROMIUM=/path` picks the binary;
//! `TR_SERVE_SCREENSHOT=out.png` also saves a screenshot of the page.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use tr_serve::{ServeConfig, Server};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// A headless Chromium, killed when dropped.
struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1200,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        // Chromium prints the browser's websocket address on stderr.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium printed no DevTools address");
        let (ws, _) = tungstenite::connect(url.as_str()).expect("cannot reach DevTools");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
        }
        Browser {
            child,
            ws,
            next_id: 0,
            session: None,
            _profile: profile,
        }
    }

    /// Sends a command (to the attached page, once there is one) and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let m = self.ws.read().expect("DevTools connection lost");
            let Message::Text(text) = m else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            if v["id"].as_u64() == Some(id) {
                assert!(v["error"].is_null(), "{method} failed: {}", v["error"]);
                return v["result"].clone();
            }
        }
    }

    /// Opens a new tab on `url` and attaches to it.
    fn open(&mut self, url: &str) {
        let target = self.call("Target.createTarget", json!({ "url": "about:blank" }));
        let session = self.call(
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        self.session = Some(session["sessionId"].as_str().unwrap().to_string());
        self.call("Page.enable", json!({}));
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
        );
        self.call("Page.navigate", json!({ "url": url }));
        self.eval_until("document.readyState === 'complete' && !!window.htr");
    }

    /// The value of a JavaScript expression (promises awaited).
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        );
        assert!(
            r["exceptionDetails"].is_null(),
            "{expression}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Polls `condition` until it is true (60 s at most).
    fn eval_until(&mut self, condition: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if self.eval(&format!("!!({condition})")) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the page never got to {condition}");
    }
}

#[test]
fn the_page_reads_an_uploaded_line_outlines_it_and_flags_a_correction() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "SKIPPED browser test: no chromium binary found (install Debian's chromium, or set CHROMIUM=/path)"
        );
        return;
    };
    let flags = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        flag_dir: Some(flags.path().to_path_buf()),
        ..test_config()
    };
    let model = tr_infer::LineTextRecognizer::bundled().unwrap();
    let server = Server::start(&config, model).unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hooker-3.png");
    let bytes = std::fs::read(&example).unwrap();
    let api = post(&server, "/v1/predict", "image/png", &bytes).json();
    let expected = api["pred"].as_str().unwrap().to_string();
    assert!(!expected.is_empty());

    let mut browser = Browser::launch(&chromium);
    browser.open(&format!("{}/", server.url()));
    browser.eval_until("document.querySelectorAll('#examples button').length === 3");
    assert!(browser
        .eval("document.getElementById('model').textContent")
        .as_str()
        .unwrap()
        .contains("crnn"));

    // Upload through the file input, as a user choosing a file would.
    let doc = browser.call("DOM.getDocument", json!({}));
    let input = browser.call(
        "DOM.querySelector",
        json!({ "nodeId": doc["root"]["nodeId"], "selector": "#file" }),
    );
    browser.call(
        "DOM.setFileInputFiles",
        json!({ "nodeId": input["nodeId"], "files": [example.canonicalize().unwrap()] }),
    );
    browser.eval_until("document.body.dataset.state === 'done'");
    let shown = browser.eval(
        r#"(() => {
            const poly = document.querySelector('#overlay polygon.outline');
            const box = poly ? poly.getBoundingClientRect() : null;
            const img = document.getElementById('preview').getBoundingClientRect();
            return {
                text: document.getElementById('text').textContent,
                spans: document.querySelectorAll('#text .ch').length,
                shaded: [...document.querySelectorAll('#text .ch')].filter(s => s.style.background).length,
                confidences: [...document.querySelectorAll('#text .ch')].map(s => +s.dataset.confidence),
                outlines: document.querySelectorAll('#overlay polygon.outline').length,
                unsure_marks: document.querySelectorAll('#overlay rect.unsure').length,
                points: poly ? poly.getAttribute('points') : null,
                outline_px: box ? [box.width, box.height] : null,
                image_px: [img.width, img.height],
                correction: document.getElementById('correction').value,
            };
        })()"#,
    );
    assert_eq!(shown["text"], expected.as_str(), "{shown}");
    assert_eq!(shown["spans"], expected.chars().count());
    // Shading follows the confidences the API gave.
    let api_conf = api["lines"][0]["char_confidences"].as_array().unwrap();
    let shaded = api_conf
        .iter()
        .filter(|c| (1.0 - c.as_f64().unwrap()) * 0.9 >= 0.05)
        .count();
    assert_eq!(shown["shaded"], shaded);
    // And on the image, where the model read them (below 0.9).
    let unsure = api_conf
        .iter()
        .filter(|c| c.as_f64().unwrap() < 0.9)
        .count();
    assert_eq!(shown["unsure_marks"], unsure);
    // One outline, drawn over the whole image.
    assert_eq!(shown["outlines"], 1);
    let (w, h) = (
        api["width"].as_u64().unwrap(),
        api["height"].as_u64().unwrap(),
    );
    assert_eq!(shown["points"], format!("0,0 {w},0 {w},{h} 0,{h}"));
    let (ow, oh) = (
        shown["outline_px"][0].as_f64().unwrap(),
        shown["outline_px"][1].as_f64().unwrap(),
    );
    let (iw, ih) = (
        shown["image_px"][0].as_f64().unwrap(),
        shown["image_px"][1].as_f64().unwrap(),
    );
    assert!(
        ow > 0.0 && (ow - iw).abs() < 2.0 && (oh - ih).abs() < 2.0,
        "{shown}"
    );
    assert_eq!(shown["correction"], expected.as_str());

    if let Some(out) = std::env::var_os("TR_SERVE_SCREENSHOT") {
        let shot = browser.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(&out, png).unwrap();
    }

    // The flag form sends the correction.
    browser.eval(
        "document.getElementById('correction').value = 'My dear Dyer!'; \
         document.getElementById('flag-button').click(); true",
    );
    browser.eval_until("!!document.body.dataset.flag");
    let id = browser.eval("document.body.dataset.flag");
    let id = id.as_str().unwrap();
    let record: Value =
        serde_json::from_slice(&std::fs::read(flags.path().join(format!("{id}.json"))).unwrap())
            .unwrap();
    assert_eq!(record["correction"], "My dear Dyer!");
    assert_eq!(record["prediction"], expected.as_str());
    let stored = image::open(flags.path().join(format!("{id}.png"))).unwrap();
    assert_eq!(
        stored.to_luma8(),
        image::load_from_memory(&bytes).unwrap().to_luma8()
    );
    drop(browser);
    server.shutdown().unwrap();
}
