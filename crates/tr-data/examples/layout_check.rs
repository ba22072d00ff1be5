//! Reads every XML of a folder of page layouts (ALTO, PAGE or IAM forms) and
//! prints pages, lines, skipped lines with reasons, characters and the
//! character set — per split when `../splits/{train,val,test}.txt` exist.
//! Optionally crops every line and times it. A manual check against real
//! data, not a test (tests never read real data).
//!
//! ```text
//! cargo run --release -p tr-data --example layout_check -- ../shared/data/htr/hooker/xml
//! cargo run --release -p tr-data --example layout_check -- ../shared/data/htr/stanford/xml --tags handwritten
//! cargo run --release -p tr-data --example layout_check -- ../shared/data/htr/copiste/xml --exclude wikitexte
//! cargo run --release -p tr-data --example layout_check -- DIR --crop [--threads 2] [--padding 8] [--height 64] [--sheet out.png]
//! ```
//!
//! Lines are read with empty text kept, then filtered in the order empty text
//! → tag → excluded text, the order the collections' READMEs count in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use tr_data::layout::LineFilter;
use tr_data::layout::{
    crop_line, load_page_image, read_page, CropOptions, Page, ReadOptions, SkipReason,
};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    dir: PathBuf,
    filter: LineFilter,
    crop: bool,
    threads: usize,
    opts: CropOptions,
    sheet: Option<PathBuf>,
}

fn parse_args() -> Res<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        dir: PathBuf::new(),
        filter: LineFilter::default(),
        crop: false,
        threads: 2,
        opts: CropOptions::default(),
        sheet: None,
    };
    let value = |name: &str, it: &mut dyn Iterator<Item = String>| -> Res<String> {
        it.next()
            .ok_or_else(|| format!("{name} needs a value").into())
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--tags" => {
                a.filter.tags = value("--tags", &mut it)?
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--exclude" => a.filter.exclude_text.push(value("--exclude", &mut it)?),
            "--crop" => a.crop = true,
            "--threads" => a.threads = value("--threads", &mut it)?.parse()?,
            "--padding" => a.opts.padding = value("--padding", &mut it)?.parse()?,
            "--height" => a.opts.target_height = Some(value("--height", &mut it)?.parse()?),
            "--sheet" => a.sheet = Some(value("--sheet", &mut it)?.into()),
            _ if a.dir.as_os_str().is_empty() => a.dir = arg.into(),
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    if a.dir.as_os_str().is_empty() {
        return Err("usage: layout_check DIR [--tags T,T] [--exclude TEXT] [--crop [--threads N] [--padding P] [--height H] [--sheet PNG]]".into());
    }
    Ok(a)
}

#[derive(Default)]
struct Tally {
    pages: usize,
    lines: usize,
    chars: usize,
    charset: BTreeMap<char, usize>,
}

fn main() -> Res {
    let args = parse_args()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
        .collect();
    files.sort();
    let split_of = read_splits(&args.dir);

    let started = Instant::now();
    let read_opts = ReadOptions {
        keep_empty_text: true,
        ..ReadOptions::default()
    };
    let mut pages: Vec<Page> = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match read_page(f, &read_opts) {
            Ok(mut p) => {
                args.filter.apply(&mut p);
                pages.push(p);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let read_secs = started.elapsed().as_secs_f64();

    let mut all_lines_in_files = 0;
    let mut skips: BTreeMap<(SkipReason, String), usize> = BTreeMap::new();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for p in &pages {
        all_lines_in_files += p.line_count() + p.skipped.len();
        for s in &p.skipped {
            // Group tag skips by the tags, others by reason only.
            let key = if s.reason == SkipReason::TagFiltered {
                s.detail.clone()
            } else {
                String::new()
            };
            *skips.entry((s.reason, key)).or_insert(0) += 1;
        }
        let stem = p
            .xml
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let split = split_of
            .get(&stem)
            .cloned()
            .unwrap_or_else(|| "(no split)".into());
        for key in [split, "all".to_string()] {
            let t = tallies.entry(key).or_default();
            t.pages += 1;
            for l in p.lines() {
                t.lines += 1;
                for c in l.text.trim().chars() {
                    t.chars += 1;
                    *t.charset.entry(c).or_insert(0) += 1;
                }
            }
        }
    }

    println!(
        "{}: {} XML files, {} pages read in {read_secs:.2}s, {} errors",
        args.dir.display(),
        files.len(),
        pages.len(),
        errors.len()
    );
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    println!("all TextLine elements: {all_lines_in_files}");
    println!(
        "{:<12} {:>6} {:>8} {:>10}",
        "split", "pages", "lines", "chars"
    );
    for (split, t) in &tallies {
        println!("{split:<12} {:>6} {:>8} {:>10}", t.pages, t.lines, t.chars);
    }
    println!("skipped:");
    for ((reason, detail), n) in &skips {
        println!(
            "  {n:>6}  {reason}{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            }
        );
    }
    if let Some(all) = tallies.get("all") {
        let set: String = all
            .charset
            .keys()
            .map(|&c| if c == ' ' { '␠' } else { c })
            .collect();
        println!("{} distinct characters: {set}", all.charset.len());
        let beyond: Vec<String> = all
            .charset
            .iter()
            .filter(|(c, _)| !c.is_ascii())
            .map(|(c, n)| format!("{c} U+{:04X} ×{n}", *c as u32))
            .collect();
        println!("beyond ASCII: {}", beyond.join(", "));
    }
    if args.crop {
        crop_all(&pages, &args)?;
    }
    Ok(())
}

/// Crops every kept line on `threads` threads (page loading included) and times it.
fn crop_all(pages: &[Page], args: &Args) -> Res {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()?;
    let started = Instant::now();
    type PageResult = (
        usize,
        usize,
        u64,
        Vec<image::GrayImage>,
        Option<String>,
        f64,
        f64,
    );
    let results: Vec<PageResult> = pool.install(|| {
        pages
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let t0 = Instant::now();
                let img = match load_page_image(p) {
                    Ok(img) => img,
                    Err(e) => return (0, 0, 0, Vec::new(), Some(e.to_string()), 0.0, 0.0),
                };
                let load = t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                let (mut ok, mut skipped, mut pixels, mut sample) = (0, 0, 0u64, Vec::new());
                for l in p.lines() {
                    match crop_line(&img, l, &args.opts) {
                        Ok(c) => {
                            ok += 1;
                            pixels += u64::from(c.width()) * u64::from(c.height());
                            if i % 29 == 0 && sample.len() < 2 {
                                sample.push(c);
                            }
                        }
                        Err(_) => skipped += 1,
                    }
                }
                (
                    ok,
                    skipped,
                    pixels,
                    sample,
                    None,
                    load,
                    t1.elapsed().as_secs_f64(),
                )
            })
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let ok: usize = results.iter().map(|r| r.0).sum();
    let skipped: usize = results.iter().map(|r| r.1).sum();
    let pixels: u64 = results.iter().map(|r| r.2).sum();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.4.as_ref()).collect();
    println!(
        "cropped {ok} lines ({skipped} skipped, {} pages failed) of {} pages on {} threads in {secs:.2}s ({:.0} lines/s, {:.1} Mpx out)",
        failures.len(),
        pages.len(),
        args.threads,
        ok as f64 / secs.max(1e-9),
        pixels as f64 / 1e6
    );
    println!(
        "  thread time: decoding pages {:.2}s, cropping lines {:.2}s",
        results.iter().map(|r| r.5).sum::<f64>(),
        results.iter().map(|r| r.6).sum::<f64>()
    );
    for f in failures.iter().take(5) {
        println!("  page failed: {f}");
    }
    if let Some(path) = &args.sheet {
        let sample: Vec<&image::GrayImage> =
            results.iter().flat_map(|r| r.3.iter()).take(16).collect();
        write_sheet(&sample, path)?;
        println!("sample sheet: {}", path.display());
    }
    Ok(())
}

/// Stacks crops vertically (4 px gaps) into one PNG.
fn write_sheet(crops: &[&image::GrayImage], path: &Path) -> Res {
    let w = crops.iter().map(|c| c.width()).max().unwrap_or(1);
    let h: u32 = crops.iter().map(|c| c.height() + 4).sum::<u32>().max(1);
    let mut sheet = image::GrayImage::from_pixel(w, h, image::Luma([40]));
    let mut y = 0;
    for c in crops {
        image::imageops::replace(&mut sheet, *c, 0, i64::from(y));
        y += c.height() + 4;
    }
    sheet.save(path)?;
    Ok(())
}

/// Page id → split from `<dir>/../splits/{train,val,test}.txt`, if present.
fn read_splits(xml_dir: &Path) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(root) = xml_dir.parent() else {
        return out;
    };
    for split in ["train", "val", "test"] {
        if let Ok(text) = std::fs::read_to_string(root.join("splits").join(format!("{split}.txt")))
        {
            for id in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                out.insert(id.to_string(), split.to_string());
            }
        }
    }
    out
}
