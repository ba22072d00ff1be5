//! Every limit and every kind of garbage: 413 for large bodies and images
//! (the image refused from its header), 400 naming what was wrong, 503 with
//! `Retry-After` when every slot is taken, 504 past the timeout, batches
//! formed from waiting requests, and a graceful shutdown that still answers
//! the requests in flight.

mod common;

use std::time::Duration;

use common::*;
use tr_serve::{ServeConfig, Server};

/// CRC-32 of PNG chunks, bitwise.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A 57-byte PNG that declares `w × h` grey pixels (one empty IDAT).
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[]);
    chunk(b"IEND", &[]);
    out
}

#[test]
fn bodies_and_images_above_the_limits_get_413() {
    let config = ServeConfig {
        max_body_bytes: 64 * 1024,
        max_pixels: 100_000,
        ..test_config()
    };
    let server = Server::start(&config, tiny_recognizer()).unwrap();
    let big = vec![b'A'; 200 * 1024];
    let r = post(&server, "/v1/predict", "image/png", &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.error().contains("65536 bytes"), "{}", r.error());
    let body = serde_json::json!({ "image": String::from_utf8(big).unwrap() });
    assert_eq!(post_json(&server, "/v1/predict", &body).status, 413);
    let (t, b) = multipart(&[("image", Some("a.png"), &vec![0u8; 100 * 1024])]);
    assert_eq!(post(&server, "/v1/predict", &t, &b).status, 413);

    // 50 000 × 50 000 pixels declared in 57 bytes: refused from the header.
    let huge = png_header(50_000, 50_000);
    let r = post_json(
        &server,
        "/v1/predict",
        &serde_json::json!({ "image": data_url(&huge) }),
    );
    assert_eq!(r.status, 413, "{}", r.body);
    let e = r.error();
    assert!(e.contains("50000x50000") && e.contains("100000"), "{e}");
    // Just under the limit decodes (and is read) normally.
    let ok = png_bytes(&scan(400, 200));
    assert_eq!(post(&server, "/v1/predict", "image/png", &ok).status, 200);
    let metrics = get(&server, "/metrics").body;
    assert!(
        metrics.contains("reason=\"body_too_large\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("reason=\"image_too_large\"} 1"),
        "{metrics}"
    );
    server.shutdown().unwrap();
}

#[test]
fn garbage_gets_400_naming_what_was_wrong() {
    let server = Server::start(&test_config(), tiny_recognizer()).unwrap();
    let png = png_bytes(&scan(60, 20));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("application/json", b"{not json".to_vec(), "not valid JSON"),
        ("application/json", b"[1, 2]".to_vec(), "found an array"),
        (
            "application/json",
            br#"{"img": "abc"}"#.to_vec(),
            "missing field `image`",
        ),
        (
            "application/json",
            br#"{"image": 42}"#.to_vec(),
            "expected a string",
        ),
        (
            "application/json",
            br#"{"image": "!!!not base64!!!"}"#.to_vec(),
            "not valid base64",
        ),
        ("application/json", br#"{"image": ""}"#.to_vec(), "empty"),
        (
            "application/json",
            br#"{"image": "data:image/png,abcd"}"#.to_vec(),
            "not base64",
        ),
        (
            "application/json",
            format!(r#"{{"image": "{}"}}"#, base64(b"hello, I am not an image")).into_bytes(),
            "not an image in a supported format",
        ),
        (
            "application/json",
            format!(r#"{{"image": "{}"}}"#, base64(&png[..png.len() / 2])).into_bytes(),
            "cannot decode",
        ),
        ("image/png", Vec::new(), "empty"),
        ("image/png", b"GIF89a garbage".to_vec(), "cannot"),
        ("text/plain", png.clone(), "content type text/plain"),
        ("", png.clone(), "content type"),
        ("multipart/form-data", b"--x\r\n".to_vec(), "multipart"),
    ];
    for (content_type, body, needle) in cases {
        let r = if content_type.is_empty() {
            let r = agent()
                .post(format!("{}/v1/predict", server.url()))
                .send(&body[..])
                .unwrap();
            let status = r.status().as_u16();
            let text = r.into_body().read_to_string().unwrap();
            (status, text)
        } else {
            let r = post(&server, "/v1/predict", content_type, &body);
            (r.status, r.body)
        };
        assert_eq!(r.0, 400, "{content_type} {needle}: {}", r.1);
        let v: serde_json::Value = serde_json::from_str(&r.1).unwrap();
        let e = v["error"].as_str().unwrap();
        assert!(e.contains(needle), "expected {needle:?} in {e:?}");
    }
    let (t, b) = multipart(&[("picture", Some("a.png"), &png), ("note", None, b"x")]);
    let r = post(&server, "/v1/predict", &t, &b);
    assert_eq!(r.status, 400);
    assert!(
        r.error()
            .contains("no field `image` (fields found: picture, note)"),
        "{}",
        r.error()
    );
    // Still serving after all that.
    assert_eq!(post(&server, "/v1/predict", "image/png", &png).status, 200);
    server.shutdown().unwrap();
}

#[test]
fn a_full_queue_gets_503_with_retry_after_and_waiting_requests_form_one_batch() {
    let (model, gate) = gated();
    let config = ServeConfig {
        max_batch: 4,
        queue: 3,
        batch_wait: Duration::from_millis(1),
        ..test_config()
    };
    let server = Server::start(&config, model).unwrap();
    let url = server.url();
    let send = |w: u32| {
        let url = url.clone();
        in_background(move || {
            let png = png_bytes(&scan(w, 20));
            let r = agent()
                .post(format!("{url}/v1/predict"))
                .header("Content-Type", "image/png")
                .send(&png[..])
                .unwrap();
            let status = r.status().as_u16();
            (status, r.into_body().read_to_string().unwrap())
        })
    };
    // The first request holds the model; three more wait in the queue.
    let first = send(10);
    assert_eq!(gate.wait_entered(), 1);
    let waiting: Vec<_> = (0..3).map(|i| send(11 + i)).collect();
    wait_health(&server, "queue_depth", 3);
    // Admitted = queue + max_batch = 7: three more fit, the eighth is refused.
    let more: Vec<_> = (0..3).map(|i| send(20 + i)).collect();
    wait_health(&server, "in_flight", 7);
    let png = png_bytes(&scan(30, 20));
    let r = post(&server, "/v1/predict", "image/png", &png);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.retry_after.as_deref(), Some("1"));
    assert!(r.error().contains("busy"), "{}", r.error());

    // Release: the six waiting requests are read in batches of at most 4.
    gate.release();
    assert_eq!(first.join().unwrap().0, 200);
    let mut sizes = Vec::new();
    while sizes.iter().sum::<usize>() < 6 {
        let n = gate.wait_entered();
        assert!(n <= 4, "batch of {n} above max_batch 4");
        sizes.push(n);
        gate.release();
    }
    assert!(sizes.iter().any(|&n| n > 1), "no batching: {sizes:?}");
    for (i, h) in waiting.into_iter().chain(more).enumerate() {
        let (status, body) = h.join().unwrap();
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        // The gated model reads an image as its size: each got its own answer.
        let w = if i < 3 { 11 + i } else { 20 + i - 3 };
        assert_eq!(v["pred"], format!("{w}x20"));
    }
    let metrics = get(&server, "/metrics").body;
    assert!(metrics.contains("reason=\"queue_full\"} 1"), "{metrics}");
    assert!(metrics.contains("status=\"503\"} 1"), "{metrics}");
    server.shutdown().unwrap();
}

#[test]
fn a_request_past_the_timeout_gets_504_and_frees_its_slot() {
    let (model, gate) = gated();
    // Long enough that a loaded machine still decodes and queues the image
    // in time (the model, not the decoding, must be what times out).
    let config = ServeConfig {
        timeout: Duration::from_millis(1500),
        max_batch: 1,
        queue: 1,
        ..test_config()
    };
    let server = Server::start(&config, model).unwrap();
    let png = png_bytes(&scan(40, 20));
    // The model never answers in time: 504 with a message.
    let r = post(&server, "/v1/predict", "image/png", &png);
    assert_eq!(r.status, 504, "{}", r.body);
    assert!(r.error().contains("1500 ms"), "{}", r.error());
    assert_eq!(gate.wait_entered(), 1);
    // A request queued behind it times out too and is dropped unread.
    let r = post(&server, "/v1/predict", "image/png", &png);
    assert_eq!(r.status, 504);
    gate.release();
    wait_health(&server, "in_flight", 0);
    // The slots are free again: the next request is read.
    let h = in_background({
        let url = server.url();
        move || {
            agent()
                .post(format!("{url}/v1/predict"))
                .header("Content-Type", "image/png")
                .send(&png[..])
                .unwrap()
                .status()
                .as_u16()
        }
    });
    assert_eq!(
        gate.wait_entered(),
        1,
        "the timed-out queued request was read"
    );
    gate.release();
    assert_eq!(h.join().unwrap(), 200);
    let metrics = get(&server, "/metrics").body;
    assert!(metrics.contains("reason=\"timeout\"} 2"), "{metrics}");
    server.shutdown().unwrap();
}

#[test]
fn shutdown_answers_the_requests_in_flight() {
    let (model, gate) = gated();
    let server = Server::start(&test_config(), model).unwrap();
    let url = server.url();
    let pending = in_background(move || {
        let png = png_bytes(&scan(33, 20));
        let r = agent()
            .post(format!("{url}/v1/predict"))
            .header("Content-Type", "image/png")
            .send(&png[..])
            .unwrap();
        (r.status().as_u16(), r.into_body().read_to_string().unwrap())
    });
    assert_eq!(gate.wait_entered(), 1);
    let addr = server.addr();
    let stopping = in_background(move || server.shutdown());
    // Not accepting new connections soon after; the one in flight is still answered.
    std::thread::sleep(Duration::from_millis(100));
    gate.release();
    let (status, body) = pending.join().unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("33x20"));
    stopping.join().unwrap().unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after shutdown"
    );
}
