//! Every endpoint of a server on 127.0.0.1:0 with a tiny real model: the
//! answers of /v1/predict in each body format match the recogniser's own,
//! and /healthz, /metrics, /openapi.json and the page answer as documented;
//! a line model segments pages and answers each line with its outline.

mod common;

use common::*;
use tr_serve::Server;

fn tiny_server() -> Server {
    Server::start(&test_config(), tiny_recognizer()).unwrap()
}

#[test]
fn predict_answers_every_body_format_with_the_models_reading() {
    let server = tiny_server();
    let image = scan(150, 30);
    let png = png_bytes(&image);
    let expected = tiny_recognizer().predict(&image).unwrap();

    let (mp_type, mp_body) = multipart(&[("image", Some("line.png"), &png)]);
    let (mp_text_type, mp_text_body) = multipart(&[("image", None, data_url(&png).as_bytes())]);
    let replies = [
        post_json(
            &server,
            "/v1/predict",
            &serde_json::json!({ "image": data_url(&png) }),
        ),
        post_json(
            &server,
            "/v1/predict",
            &serde_json::json!({ "image": base64(&png) }),
        ),
        post(&server, "/v1/predict", &mp_type, &mp_body),
        post(&server, "/v1/predict", &mp_text_type, &mp_text_body),
        post(&server, "/v1/predict", "image/png", &png),
    ];
    for r in replies {
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.content_type.starts_with("application/json"));
        let v = r.json();
        assert_eq!(v["pred"], expected.text);
        assert!((v["confidence"].as_f64().unwrap() - f64::from(expected.confidence)).abs() < 1e-5);
        assert_eq!(v["width"], 150);
        assert_eq!(v["height"], 30);
        assert_eq!(v["inverted"], expected.inverted);
        assert_eq!(v["model"]["name"], "line-cnn");
        assert_eq!(v["model"]["layout"], "line");
        let lines = v["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["text"], expected.text);
        assert_eq!(lines[0]["box"], serde_json::json!([0, 0, 150, 30]));
        assert_eq!(
            lines[0]["polygon"],
            serde_json::json!([[0, 0], [150, 0], [150, 30], [0, 30]])
        );
        let confs: Vec<f32> = lines[0]["char_confidences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(confs.len(), expected.char_confidences.len());
        for (a, b) in confs.iter().zip(&expected.char_confidences) {
            assert!((a - b).abs() < 1e-5);
        }
        let t = &v["timings_ms"];
        for key in ["decode", "queue", "preprocess", "model", "total"] {
            assert!(t[key].as_f64().unwrap() >= 0.0, "timings_ms.{key}: {t}");
        }
        assert!(t["total"].as_f64().unwrap() >= t["decode"].as_f64().unwrap());
        assert!(v["batch_size"].as_u64().unwrap() >= 1);
    }
    server.shutdown().unwrap();
}

#[test]
fn healthz_metrics_openapi_and_the_page_answer() {
    let server = tiny_server();
    let h = get(&server, "/healthz");
    assert_eq!(h.status, 200);
    let v = h.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["model"]["name"], "line-cnn");
    assert_eq!(v["queue_depth"], 0);
    assert_eq!(v["flagging"], false);

    let png = png_bytes(&scan(90, 28));
    assert_eq!(post(&server, "/v1/predict", "image/png", &png).status, 200);
    assert_eq!(
        post(&server, "/v1/predict", "text/plain", b"hello").status,
        400
    );

    let m = get(&server, "/metrics");
    assert_eq!(m.status, 200);
    assert!(
        m.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        m.content_type
    );
    for needle in [
        "htr_requests_total{route=\"/v1/predict\",status=\"200\"} 1",
        "htr_requests_total{route=\"/v1/predict\",status=\"400\"} 1",
        "htr_requests_total{route=\"/healthz\",status=\"200\"} 1",
        "htr_errors_total{route=\"/v1/predict\",reason=\"bad_request\"} 1",
        "htr_request_duration_seconds_count{route=\"/v1/predict\"} 2",
        "# TYPE htr_request_duration_seconds histogram",
        "htr_queue_depth 0",
        "htr_batch_size_count 1",
        "htr_batch_size_bucket{le=\"1\"} 1",
    ] {
        assert!(
            m.body.contains(needle),
            "/metrics lacks {needle:?}:\n{}",
            m.body
        );
    }
    // Memory gauges (Linux/glibc): a positive RSS and live heap.
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let gauge = |name: &str| -> f64 {
            m.body
                .lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("/metrics lacks {name}:\n{}", m.body))
        };
        assert!(gauge("process_resident_memory_bytes ") > 1e6);
        assert!(gauge("htr_heap_bytes{state=\"in_use\"} ") > 1e5);
        assert!(gauge("htr_heap_bytes{state=\"free\"} ") >= 0.0);
    }

    let o = get(&server, "/openapi.json");
    assert_eq!(o.status, 200);
    let spec = o.json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/v1/predict", "/v1/flag", "/healthz", "/metrics"] {
        assert!(spec["paths"][path].is_object(), "openapi.json lacks {path}");
    }
    let required = &spec["components"]["schemas"]["Prediction"]["required"];
    for field in ["pred", "confidence", "lines", "timings_ms"] {
        assert!(required.as_array().unwrap().iter().any(|f| f == field));
    }

    let page = get(&server, "/");
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("<script src=\"/app.js\">"));
    let js = get(&server, "/app.js");
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(js.body.contains("/v1/predict") && js.body.contains("/v1/flag"));
    assert!(get(&server, "/style.css")
        .content_type
        .starts_with("text/css"));

    let examples = get(&server, "/examples.json").json();
    let examples = examples.as_array().unwrap();
    assert_eq!(examples.len(), 3);
    assert_eq!(examples[0]["text"], "My dear Dyer");
    let url = examples[0]["url"].as_str().unwrap();
    let r = agent()
        .get(format!("{}{url}", server.url()))
        .call()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    let bytes = r.into_body().read_to_vec().unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    assert!(img.width() > img.height());

    let missing = get(&server, "/nope");
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("/nope"), "{}", missing.body);
    assert_eq!(get(&server, "/examples/secret.png").status, 404);
    server.shutdown().unwrap();
}

#[test]
fn a_line_model_reads_pages_line_by_line_with_their_outlines() {
    let page = page_scan(3);
    let r = tiny_page_recognizer();
    let expected = r.predict_page(&page).unwrap();
    assert_eq!(expected.lines.len(), 3, "the fixture has three lines");
    let as_line = r
        .predict_line_batch(std::slice::from_ref(&page))
        .unwrap()
        .remove(0);
    let server = Server::start(&test_config(), r).unwrap();
    let png = png_bytes(&page);

    let h = get(&server, "/healthz").json();
    assert_eq!(h["model"]["layout"], "line");
    assert_eq!(h["model"]["segments_pages"], true);

    // auto: three lines found, so a page; `layout=page` says the same.
    let auto = post(&server, "/v1/predict", "image/png", &png);
    let asked = post(&server, "/v1/predict?layout=page", "image/png", &png);
    for reply in [auto, asked] {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let v = reply.json();
        assert_eq!(v["read_as"], "page");
        assert_eq!(v["pred"], expected.text);
        let lines = v["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 3);
        let mut last_y = -1i64;
        for (got, want) in lines.iter().zip(&expected.lines) {
            assert_eq!(got["text"], want.prediction.text);
            let b: Vec<i64> = serde_json::from_value(got["box"].clone()).unwrap();
            let [x0, y0, x1, y1] = want.bbox;
            assert_eq!(b[0], x0.round() as i64, "box {b:?} vs {:?}", want.bbox);
            assert_eq!(b[1], y0.round() as i64);
            assert!((b[2] - (x1 - x0).round() as i64).abs() <= 1);
            assert!((b[3] - (y1 - y0).round() as i64).abs() <= 1);
            // Top to bottom, each inside the image.
            assert!(b[1] > last_y, "reading order: {lines:?}");
            last_y = b[1];
            assert!(b[0] + b[2] <= 200 && b[1] + b[3] <= page.height() as i64);
            let polygon = got["polygon"].as_array().unwrap();
            assert_eq!(polygon.len(), want.polygon.len());
            assert!(got["char_x"].is_null());
        }
    }

    // The whole image as one line, asked by query or by the JSON field.
    let q = post(&server, "/v1/predict?layout=line", "image/png", &png);
    let f = post_json(
        &server,
        "/v1/predict",
        &serde_json::json!({ "image": data_url(&png), "layout": "line" }),
    );
    for reply in [q, f] {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let v = reply.json();
        assert_eq!(v["read_as"], "line");
        assert_eq!(v["pred"], as_line.text);
        assert_eq!(v["lines"].as_array().unwrap().len(), 1);
        assert_eq!(
            v["lines"][0]["box"],
            serde_json::json!([0, 0, 200, page.height()])
        );
    }

    // A line image stays a line under auto.
    let line = png_bytes(&scan(150, 30));
    let v = post(&server, "/v1/predict", "image/png", &line).json();
    assert_eq!(v["read_as"], "line");

    let bad = post(&server, "/v1/predict?layout=sideways", "image/png", &png);
    assert_eq!(bad.status, 400);
    assert!(
        bad.error().contains("expected auto, line or page"),
        "{}",
        bad.body
    );
    server.shutdown().unwrap();
}

#[test]
fn a_line_only_recogniser_refuses_pages_with_a_400() {
    let server = tiny_server();
    let png = png_bytes(&page_scan(2));
    let r = post(&server, "/v1/predict?layout=page", "image/png", &png);
    assert_eq!(r.status, 400);
    assert!(r.error().contains("single lines only"), "{}", r.body);
    // Without a layout the image is read as one line.
    let v = post(&server, "/v1/predict", "image/png", &png).json();
    assert_eq!(v["read_as"], "line");
    assert_eq!(v["model"]["segments_pages"], false);
    server.shutdown().unwrap();
}
