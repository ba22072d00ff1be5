//! Times the `page-lines` crop cache of one collection: the cold build
//! (read every XML, decode every page, crop and resize every line, write the
//! cache) and loading it back, in a fresh temporary cache directory.
//!
//! ```text
//! cargo run --release -p tr-data --example page_cache_bench -- ../shared/data/htr/hooker [HEIGHT] [THREADS]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use tr_data::datasets::PageLinesConfig;
use tr_data::DataDir;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(
        args.next()
            .ok_or("usage: page_cache_bench ROOT [HEIGHT] [THREADS]")?,
    );
    let height: u32 = args.next().map(|h| h.parse()).transpose()?.unwrap_or(48);
    let threads: usize = args.next().map(|t| t.parse()).transpose()?.unwrap_or(2);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()?;
    let tmp = std::env::temp_dir().join(format!("tr-page-cache-bench-{}", std::process::id()));
    let dir = DataDir::new(&tmp);
    let cfg = PageLinesConfig {
        roots: vec![root.clone()],
        height,
        ..PageLinesConfig::default()
    };
    let t = Instant::now();
    let built = cfg.build(&dir)?;
    let build_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let loaded = cfg.build(&dir)?;
    let load_s = t.elapsed().as_secs_f64();
    let lines = built.train.len() + built.val.len() + built.test.len();
    assert_eq!(
        lines,
        loaded.train.len() + loaded.val.len() + loaded.test.len()
    );
    let size = std::fs::read_dir(dir.processed().join("page_lines"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>();
    println!(
        "# cargo run --release -p tr-data --example page_cache_bench -- {} {height} {threads}",
        root.display()
    );
    println!("collection  lines  height  threads  build_s  load_s  cache_MB");
    println!(
        "{:<10} {:>6} {:>7} {:>8} {:>8.2} {:>7.2} {:>9.1}",
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        lines,
        height,
        threads,
        build_s,
        load_s,
        size as f64 / 1e6
    );
    std::fs::remove_dir_all(&tmp)?;
    Ok(())
}
