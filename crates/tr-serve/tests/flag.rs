//! `POST /v1/flag` stores image + record + PAGE XML under the flag
//! directory, and that directory reads back as a `page-lines` dataset
//! whose lines carry the corrections.

mod common;

use std::collections::BTreeSet;

use common::*;
use tr_data::datasets::{DatasetConfig, Target};
use tr_data::DataDir;
use tr_serve::{ServeConfig, Server};

#[test]
fn flags_are_stored_and_read_back_as_a_dataset() {
    let flags = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        flag_dir: Some(flags.path().join("flags")),
        ..test_config()
    };
    let server = Server::start(&config, tiny_recognizer()).unwrap();
    assert_eq!(get(&server, "/healthz").json()["flagging"], true);

    let line = |w| png_bytes(&scan(w, 40));
    let r = post_json(
        &server,
        "/v1/flag",
        &serde_json::json!({
            "image": data_url(&line(200)),
            "prediction": "Mv dear Dver",
            "correction": "My dear Dyer",
            "confidence": 0.42,
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.json();
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(
        first["files"],
        serde_json::json!([
            format!("{id}.png"),
            format!("{id}.json"),
            format!("{id}.xml")
        ])
    );
    let png2 = line(180);
    let (t, b) = multipart(&[
        ("image", Some("l.png"), &png2),
        ("prediction", None, b"it is, I thinh"),
        ("correction", None, "it is, I think & <so>".as_bytes()),
    ]);
    let r = post(&server, "/v1/flag", &t, &b);
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post_json(
        &server,
        "/v1/flag",
        &serde_json::json!({ "image": base64(&line(160)), "correction": "We shall be glad" }),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    // Refusals name the field.
    let r = post_json(
        &server,
        "/v1/flag",
        &serde_json::json!({ "image": data_url(&line(90)) }),
    );
    assert_eq!(r.status, 400);
    assert!(r.error().contains("`correction`"), "{}", r.error());
    let r = post_json(
        &server,
        "/v1/flag",
        &serde_json::json!({ "image": data_url(&line(90)), "correction": "x", "confidence": "high" }),
    );
    assert_eq!(r.status, 400);
    assert!(r.error().contains("`confidence`"), "{}", r.error());
    let r = post_json(
        &server,
        "/v1/flag",
        &serde_json::json!({ "correction": "x" }),
    );
    assert_eq!(r.status, 400);
    assert!(r.error().contains("`image`"), "{}", r.error());

    // The files of the first flag.
    let dir = flags.path().join("flags");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{id}.json"))).unwrap()).unwrap();
    assert_eq!(record["prediction"], "Mv dear Dver");
    assert_eq!(record["correction"], "My dear Dyer");
    assert_eq!(record["width"], 200);
    assert_eq!(record["height"], 40);
    assert!((record["confidence"].as_f64().unwrap() - 0.42).abs() < 1e-6);
    assert_eq!(record["model"], "line-cnn (greedy)");
    let stored = image::open(dir.join(format!("{id}.png"))).unwrap();
    assert_eq!(stored.to_luma8(), scan(200, 40).to_luma8());
    let names: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 9, "{names:?}");
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "temporary files left: {names:?}"
    );
    assert!(get(&server, "/metrics").body.contains("htr_flags_total 3"));
    server.shutdown().unwrap();

    // The flag directory is a page-lines dataset: its lines read the corrections.
    let mut data = DatasetConfig::by_name("page-lines").unwrap();
    data.set_str("roots", &dir.display().to_string()).unwrap();
    data.set_str("height", "32").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let module = data.build(&DataDir::new(cache.path())).unwrap();
    let mut texts = BTreeSet::new();
    for split in [&module.train, &module.val, &module.test] {
        for i in 0..split.len() {
            let sample = split.get(i, 0).unwrap();
            assert_eq!(sample.image.height(), 32);
            let Target::Sequence(labels) = sample.target else {
                panic!("page-lines targets are sequences");
            };
            texts.insert(module.vocab.decode(&labels).unwrap());
        }
    }
    let expected: BTreeSet<String> = ["My dear Dyer", "it is, I think & <so>", "We shall be glad"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(texts, expected);
}

#[test]
fn flagging_is_off_without_a_flag_directory() {
    let server = Server::start(&test_config(), tiny_recognizer()).unwrap();
    let png = png_bytes(&scan(60, 20));
    let r = post_json(
        &server,
        "/v1/flag",
        &serde_json::json!({ "image": data_url(&png), "correction": "x" }),
    );
    assert_eq!(r.status, 404);
    assert!(r.error().contains("--flag-dir"), "{}", r.error());
    server.shutdown().unwrap();
}

#[test]
fn a_full_flag_directory_refuses_flags_with_507_and_counts_what_was_there() {
    let flags = tempfile::tempdir().unwrap();
    let dir = flags.path().join("flags");
    std::fs::create_dir_all(&dir).unwrap();
    // Flags of an earlier run count against the limit; other files do not.
    std::fs::write(dir.join("old.png"), vec![0u8; 3000]).unwrap();
    std::fs::write(dir.join("notes.txt"), vec![0u8; 50_000]).unwrap();
    let flag = |server: &Server, w: u32| {
        post_json(
            server,
            "/v1/flag",
            &serde_json::json!({ "image": data_url(&png_bytes(&scan(w, 40))), "correction": "x" }),
        )
    };
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).unwrap().count();
    let flag_bytes = |dir: &std::path::Path| -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x != "txt"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    };

    // One flag without a (practical) limit, to learn a flag's size.
    let mut config = ServeConfig {
        flag_dir: Some(dir.clone()),
        ..test_config()
    };
    let server = Server::start(&config, tiny_recognizer()).unwrap();
    assert_eq!(flag(&server, 60).status, 201);
    server.shutdown().unwrap();
    let one = flag_bytes(&dir) - 3000;

    // Room for one more flag beside the old file and that flag, not for two.
    config.max_flag_bytes = 3000 + 2 * one + one / 2;
    let server = Server::start(&config, tiny_recognizer()).unwrap();
    assert_eq!(flag(&server, 60).status, 201);
    let before = files(&dir);
    let r = flag(&server, 60);
    assert_eq!(r.status, 507, "{}", r.body);
    assert!(r.error().contains("--max-flag-bytes"), "{}", r.error());
    assert_eq!(files(&dir), before, "a refused flag writes nothing");
    assert!(get(&server, "/metrics")
        .body
        .contains("htr_errors_total{route=\"/v1/flag\",reason=\"flags_full\"} 1"));
    server.shutdown().unwrap();

    // A restarted server counts the flags already there.
    let server = Server::start(&config, tiny_recognizer()).unwrap();
    assert_eq!(flag(&server, 60).status, 507);
    server.shutdown().unwrap();
}
