//! `cargo xtask bench serve`: load benchmark of `tr-serve` on loopback.
//!
//! The server (the bundled model, or `--serve-model DIR`) runs in a child
//! process of its own (`--serve-child`), so the RSS measured — `VmRSS` of
//! that process after the warm-up and at the end — is the server's alone.
//! This process first sends single requests one at a time (the
//! single-request latency), then `--clients` threads (default 64) each send
//! requests back to back for `--duration-s` seconds (default 30): the real
//! example lines of `examples/`, as `image/png` bodies to `POST
//! /v1/predict`. Reported: requests, errors (any answer but 200, or a
//! transport failure), throughput, p50/p99 latency under load, the mean
//! model batch size (from `/metrics`), the RSS at start and end, and the
//! server's memory every tenth of the load — RSS, and from `/metrics` the
//! heap in live allocations and the freed memory malloc still holds — plus
//! once more a second after the load, when the idle model worker has given
//! freed memory back.
//! Loopback only, bounded in time; debug builds are far slower than the
//! release figures.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::BenchArgs;

/// The example lines sent (from the repository's `examples/`).
fn example_images() -> Result<Vec<Vec<u8>>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    ["hooker-1.png", "hooker-2.png", "hooker-3.png"]
        .iter()
        .map(|n| {
            let p = dir.join(n);
            std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
        })
        .collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// One request; `Ok(true)` for a 200.
fn predict(agent: &ureq::Agent, url: &str, png: &[u8]) -> Result<bool> {
    let r = agent
        .post(url)
        .header("Content-Type", "image/png")
        .send(png)?;
    let ok = r.status().as_u16() == 200;
    // Read the answer so the connection is reused.
    let mut body = r.into_body();
    let mut sink = Vec::new();
    body.as_reader().read_to_end(&mut sink)?;
    Ok(ok)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// `VmRSS` of process `pid` in MB.
fn rss_mb(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .context("no VmRSS line")?
        .parse()
        .context("VmRSS is not a number")?;
    Ok(kb / 1024.0)
}

/// What the benchmark reads from the server's `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
struct Scrape {
    batch_sum: f64,
    batch_count: f64,
    /// `htr_heap_bytes` in MB (0 where the server cannot tell).
    heap_in_use_mb: f64,
    heap_free_mb: f64,
}

fn scrape(agent: &ureq::Agent, addr: &str) -> Result<Scrape> {
    let metrics = agent
        .get(format!("http://{addr}/metrics"))
        .call()?
        .into_body()
        .read_to_string()?;
    let metric = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0.0)
    };
    Ok(Scrape {
        batch_sum: metric("htr_batch_size_sum "),
        batch_count: metric("htr_batch_size_count "),
        heap_in_use_mb: metric("htr_heap_bytes{state=\"in_use\"} ") / 1e6,
        heap_free_mb: metric("htr_heap_bytes{state=\"free\"} ") / 1e6,
    })
}

/// One memory sample: seconds into the load, RSS, heap in use, heap free (MB).
fn memory_sample(t: f64, pid: u32, agent: &ureq::Agent, addr: &str) -> Result<String> {
    let s = scrape(agent, addr)?;
    Ok(format!(
        "{t:.0}s {:.0}/{:.0}/{:.0}",
        rss_mb(pid)?,
        s.heap_in_use_mb,
        s.heap_free_mb
    ))
}

/// The server settings of the benchmark.
fn server_config(args: &BenchArgs) -> tr_serve::ServeConfig {
    tr_serve::ServeConfig {
        addr: "127.0.0.1:0".parse().expect("a literal address"),
        max_batch: args.max_batch,
        batch_wait: Duration::from_millis(args.batch_wait_ms),
        queue: args.clients.max(1),
        ..tr_serve::ServeConfig::default()
    }
}

/// The child: serve until standard input closes, printing the address first.
pub fn serve_child(args: &BenchArgs) -> Result<String> {
    let model = match &args.serve_model {
        Some(dir) => tr_infer::LineTextRecognizer::from_dir(dir)
            .with_context(|| format!("loading {}", dir.display()))?,
        None => tr_infer::LineTextRecognizer::bundled().context("loading the bundled model")?,
    }
    .with_batch_size(args.max_batch)?;
    let server = tr_serve::Server::start(&server_config(args), model)?;
    println!("listening {}", server.addr());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    server.shutdown()?;
    Ok("server stopped".into())
}

/// The parent: start the child, measure, stop it.
pub fn run(args: &BenchArgs) -> Result<String> {
    if args.clients == 0 || args.duration_s == 0 || args.max_batch == 0 {
        bail!("--clients, --duration-s and --max-batch must be positive");
    }
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let mut cmd = Command::new(exe);
    // One log line per request would drown the report: warnings only.
    cmd.args(["--log", "warn", "bench", "serve", "--serve-child"])
        .args(["--max-batch", &args.max_batch.to_string()])
        .args(["--batch-wait-ms", &args.batch_wait_ms.to_string()])
        .args(["--clients", &args.clients.to_string()]);
    if let Some(m) = &args.serve_model {
        cmd.arg("--serve-model").arg(m);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the server child")?;
    let result = measure(args, &mut child);
    // Closing standard input stops the server (gracefully).
    drop(child.stdin.take());
    let status = child.wait().context("waiting for the server child")?;
    let report = result?;
    if !status.success() {
        bail!("the server child failed ({status})");
    }
    Ok(report)
}

fn measure(args: &BenchArgs, child: &mut std::process::Child) -> Result<String> {
    let stdout = child
        .stdout
        .take()
        .context("no stdout of the server child")?;
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    reader
        .read_line(&mut line)
        .context("reading the server child's address")?;
    // Keep reading what the child prints (its last line when it stops).
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .with_context(|| format!("the server child said {line:?}, not its address"))?
        .to_string();
    let url = format!("http://{addr}/v1/predict");
    let images = Arc::new(example_images()?);
    let pid = child.id();

    // Warm-up, then single requests one at a time.
    let one = agent();
    for png in images.iter() {
        predict(&one, &url, png)?;
    }
    let mut single = Vec::new();
    for i in 0..args.single_requests.max(1) {
        let t = Instant::now();
        if !predict(&one, &url, &images[i % images.len()])? {
            bail!("a single request failed");
        }
        single.push(t.elapsed().as_secs_f64() * 1e3);
    }
    single.sort_by(f64::total_cmp);
    let rss_start = rss_mb(pid)?;
    let batches_before = scrape(&one, &addr)?;

    // The load: `clients` threads, back to back, until the deadline.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..args.clients)
        .map(|c| {
            let (url, images, stop) = (url.clone(), images.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match predict(&agent, &url, &images[i % images.len()]) {
                        Ok(true) => lat.push(t.elapsed().as_secs_f64() * 1e3),
                        _ => errors += 1,
                    }
                    i += 1;
                }
                (lat, errors)
            })
        })
        .collect();
    // Memory every tenth of the load (at most every 30 s), from a client of its own.
    let every = Duration::from_secs((args.duration_s / 10).clamp(1, 30));
    let deadline = started + Duration::from_secs(args.duration_s);
    let mut memory = vec![memory_sample(0.0, pid, &one, &addr)?];
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep(every.min(deadline - now));
        if Instant::now() < deadline {
            memory.push(memory_sample(
                started.elapsed().as_secs_f64(),
                pid,
                &one,
                &addr,
            )?);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        latencies.extend(l);
        errors += e;
    }
    let wall = started.elapsed().as_secs_f64();
    let rss_end = rss_mb(pid)?;
    memory.push(memory_sample(wall, pid, &one, &addr)?);
    // The model worker gives freed memory back once it is idle.
    std::thread::sleep(Duration::from_secs(1));
    let idle = memory_sample(started.elapsed().as_secs_f64(), pid, &one, &addr)?;
    latencies.sort_by(f64::total_cmp);
    // Mean batch of the load alone (the warm-up and single requests excluded).
    let totals = scrape(&one, &addr)?;
    let batches = totals.batch_count - batches_before.batch_count;
    let mean_batch = if batches > 0.0 {
        (totals.batch_sum - batches_before.batch_sum) / batches
    } else {
        0.0
    };
    let n = latencies.len();
    Ok([
        format!(
            "# serve: {} model, max batch {}, batch wait {} ms, {} clients for {:.1} s on {addr} ({} build)",
            args.serve_model
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "bundled".into()),
            args.max_batch,
            args.batch_wait_ms,
            args.clients,
            wall,
            if cfg!(debug_assertions) { "debug" } else { "release" },
        ),
        format!(
            "single request: p50 {:.1} ms, p99 {:.1} ms over {} sequential requests",
            percentile(&single, 0.5),
            percentile(&single, 0.99),
            single.len()
        ),
        format!(
            "under load: {n} requests, {errors} errors, {:.1} requests/s, p50 {:.1} ms, p99 {:.1} ms, mean model batch {mean_batch:.2}",
            n as f64 / wall,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
        ),
        format!(
            "server RSS: {rss_start:.0} MB after warm-up, {rss_end:.0} MB at the end ({:+.0} MB)",
            rss_end - rss_start
        ),
        format!(
            "memory during the load (RSS/heap in use/heap free, MB): {}; idle 1 s later: {idle}",
            memory.join(", ")
        ),
    ]
    .join("\n"))
}
