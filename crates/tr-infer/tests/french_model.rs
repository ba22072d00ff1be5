//! The French model shipped in `models/copiste` (the English model
//! fine-tuned on *Copiste d'un jour* with its vocabulary mapped): it loads
//! from its folder, can write French letters, and reads the French test line
//! shipped in `examples/fr/`.

use std::path::{Path, PathBuf};

use tr_infer::LineTextRecognizer;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_french_model_reads_its_shipped_sample() {
    let dir = repo().join("models/copiste");
    let r = LineTextRecognizer::from_dir(&dir).unwrap();
    let cfg = r.config();
    assert_eq!(cfg.model.name(), "crnn");
    for c in ['é', 'à', 'ç', 'œ', '«'] {
        assert!(cfg.vocabulary.char_index(c).is_some(), "cannot write {c:?}");
    }
    let card = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for needle in [
        "Copiste d'un jour",
        "CC BY 4.0",
        "CC BY-SA 4.0",
        "htr fit",
        "CER",
    ] {
        assert!(card.contains(needle), "model card lacks {needle:?}");
    }

    let image = repo().join("examples/fr/copiste-1.png");
    let truth = std::fs::read_to_string(image.with_extension("txt")).unwrap();
    let p = r.predict_file(&image).unwrap();
    let (h, t): (Vec<char>, Vec<char>) = (p.text.chars().collect(), truth.trim().chars().collect());
    let cer = tr_lit::edit_distance(&h, &t) as f64 / t.len() as f64;
    eprintln!("{:?} (CER {cer:.3})", p.text);
    assert!(
        cer <= 0.15,
        "{:?} against {:?}: CER {cer:.3}",
        p.text,
        truth.trim()
    );
    assert!(p.text.contains("théorie"), "{:?}", p.text);
}
