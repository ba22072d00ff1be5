//! Manual checks against real data (not a test: tests never read real data).
//!
//! ```text
//! cargo run --release -p tr-data --example data_check -- build emnist --data-dir /work/shared/data [--png out.png] [key=value ...]
//! cargo run --release -p tr-data --example data_check -- brown /work/shared/data/brown/brown.zip
//! cargo run --release -p tr-data --example data_check -- iam /work/shared/data/iam-samples/lines.txt
//! ```
//! `TR_CACHE_DIR` moves caches off a read-only data root; the printed notes
//! say whether synthetic lines came from the cache or were generated.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tr_data::datasets::{DatasetConfig, Target};
use tr_data::readers::{read_brown_zip, read_iam_lines, SegmentationStatus};
use tr_data::DataDir;

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => build(&args[1..]),
        Some("brown") => brown(Path::new(args.get(1).ok_or("brown needs a zip path")?)),
        Some("iam") => iam(Path::new(args.get(1).ok_or("iam needs a lines.txt path")?)),
        _ => Err("usage: data_check build <dataset> [--data-dir D] [key=value ...] | brown <zip> | iam <lines.txt>".into()),
    }
}

fn build(args: &[String]) -> Res {
    let name = args.first().ok_or("build needs a dataset name")?;
    let mut cfg = DatasetConfig::by_name(name)?;
    let mut data_dir: Option<PathBuf> = None;
    let mut png: Option<PathBuf> = None;
    let mut rest = args[1..].iter();
    while let Some(a) = rest.next() {
        if a == "--data-dir" {
            data_dir = Some(rest.next().ok_or("--data-dir needs a path")?.into());
        } else if a == "--png" {
            png = Some(rest.next().ok_or("--png needs a path")?.into());
        } else {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {a:?}"))?;
            cfg.set_str(k, v)?;
        }
    }
    let dir = DataDir::resolve(data_dir.as_deref());
    let started = Instant::now();
    let m = cfg.build(&dir)?;
    let secs = started.elapsed().as_secs_f64();
    println!("{} built in {secs:.2}s", m.name);
    println!(
        "splits: train {} / val {} / test {}",
        m.train.len(),
        m.val.len(),
        m.test.len()
    );
    println!(
        "input {:?}, vocabulary {}, output_len {:?}",
        m.input_shape,
        m.vocab.len(),
        m.output_len
    );
    if let Some(p) = &m.pool {
        println!(
            "pool: {} samples in {} classes ({})",
            p.samples, p.classes, p.source
        );
    }
    for n in &m.notes {
        println!("note: {n}");
    }
    for i in 0..3.min(m.test.len()) {
        let s = m.test.get(i, 0)?;
        let label = match &s.target {
            Target::Class(c) => m.vocab.symbol(*c).unwrap_or("?").to_string(),
            Target::Sequence(l) => m.vocab.decode(l)?,
        };
        let ink = s.image.as_raw().iter().filter(|&&p| p > 0).count();
        println!(
            "test[{i}]: {:?} {label:?} ({ink} ink pixels)",
            s.image.dimensions()
        );
        if s.image.height() <= 28 && s.image.width() <= 28 {
            for row in s.image.rows() {
                let art: String = row.map(|p| if p.0[0] > 127 { '#' } else { '.' }).collect();
                println!("  {art}");
            }
        }
    }
    if let Some(path) = png {
        // The first train samples (augmented with aug_seed 1 where the dataset augments), stacked.
        let n = 4.min(m.train.len()) as u32;
        let [_, h, w] = m.input_shape;
        let mut sheet = image::GrayImage::new(w as u32, h as u32 * n);
        for i in 0..n {
            let s = m.train.get(i as usize, 1)?;
            image::imageops::replace(&mut sheet, &s.image, 0, i64::from(i * h as u32));
        }
        sheet.save(&path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn brown(path: &Path) -> Res {
    let started = Instant::now();
    let corpus = read_brown_zip(path)?;
    let clean = corpus.clean_sentences();
    let text = corpus.text();
    println!(
        "{} files, {} sentences ({} non-empty after cleaning), text {} chars, read in {:.2}s",
        corpus.files,
        corpus.sentences.len(),
        clean.len(),
        text.len(),
        started.elapsed().as_secs_f64()
    );
    println!("first: {:?}", clean.first());
    Ok(())
}

fn iam(path: &Path) -> Res {
    let lines = read_iam_lines(path)?;
    let ok = lines
        .iter()
        .filter(|l| l.status == SegmentationStatus::Ok)
        .count();
    println!("{} lines ({ok} ok, {} err)", lines.len(), lines.len() - ok);
    if let Some(l) = lines.first() {
        println!("first: {} {:?}", l.id, l.text());
    }
    Ok(())
}
