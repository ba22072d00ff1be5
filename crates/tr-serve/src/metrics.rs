//! [`Metrics`]: the counters, gauges and histograms of `GET /metrics`, in
//! the Prometheus text exposition format (version 0.0.4).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `htr_requests_total` | counter | `route`, `status` |
//! | `htr_errors_total` | counter | `route`, `reason` (`bad_request`, `body_too_large`, `image_too_large`, `queue_full`, `timeout`, `not_found`, `internal`) |
//! | `htr_request_duration_seconds` | histogram | `route` |
//! | `htr_queue_depth` | gauge | requests waiting for the model |
//! | `htr_in_flight` | gauge | requests admitted (reading, decoding, waiting or in a batch) |
//! | `htr_batch_size` | histogram | images per model batch |
//! | `htr_batch_seconds` | histogram | time of one model batch (preprocessing, forward passes, decoding) |
//! | `htr_flags_total` | counter | images flagged |
//! | `process_resident_memory_bytes` | gauge | the server's RSS (Linux) |
//! | `htr_heap_bytes` | gauge | `state`: `in_use` (live allocations) or `free` (freed memory malloc still holds; glibc only) |
//!
//! Label sets are bounded: routes are the router's matched paths (or
//! `other`), statuses and reasons come from the server itself.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Bucket bounds of the request latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Bucket bounds of the batch size histogram.
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// A cumulative histogram with fixed bounds.
#[derive(Debug)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, v: f64) {
        for (b, c) in self.bounds.iter().zip(&mut self.counts) {
            if v <= *b {
                *c += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug)]
struct Tables {
    requests: BTreeMap<(String, u16), u64>,
    errors: BTreeMap<(String, &'static str), u64>,
    latency: BTreeMap<String, Histogram>,
    batch_size: Histogram,
    batch_seconds: Histogram,
}

/// Everything `/metrics` reports; shared by the handlers and the model worker.
#[derive(Debug)]
pub struct Metrics {
    tables: Mutex<Tables>,
    queue_depth: AtomicI64,
    in_flight: AtomicI64,
    flags: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            tables: Mutex::new(Tables {
                requests: BTreeMap::new(),
                errors: BTreeMap::new(),
                latency: BTreeMap::new(),
                batch_size: Histogram::new(&BATCH_BUCKETS),
                batch_seconds: Histogram::new(&LATENCY_BUCKETS),
            }),
            queue_depth: AtomicI64::new(0),
            in_flight: AtomicI64::new(0),
            flags: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain numbers behind: keep counting.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One answered request.
    pub fn record_request(
        &self,
        route: &str,
        status: u16,
        elapsed: Duration,
        error: Option<&'static str>,
    ) {
        let mut t = self.tables();
        *t.requests.entry((route.to_string(), status)).or_insert(0) += 1;
        if let Some(reason) = error {
            *t.errors.entry((route.to_string(), reason)).or_insert(0) += 1;
        }
        t.latency
            .entry(route.to_string())
            .or_insert_with(|| Histogram::new(&LATENCY_BUCKETS))
            .observe(elapsed.as_secs_f64());
    }

    /// One model batch of `size` images that took `elapsed`.
    pub fn record_batch(&self, size: usize, elapsed: Duration) {
        let mut t = self.tables();
        t.batch_size.observe(size as f64);
        t.batch_seconds.observe(elapsed.as_secs_f64());
    }

    /// Requests waiting for the model: `+1` when queued, `-n` when taken.
    pub fn add_queue_depth(&self, delta: i64) {
        self.queue_depth.fetch_add(delta, Ordering::Relaxed);
    }

    /// Requests waiting for the model now.
    pub fn queue_depth(&self) -> i64 {
        self.queue_depth.load(Ordering::Relaxed)
    }

    /// Admitted requests: `+1` when admitted, `-1` when their slot is freed.
    pub fn add_in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// Admitted requests now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// One flagged image stored.
    pub fn record_flag(&self) {
        self.flags.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text of every metric.
    pub fn render(&self) -> String {
        let t = self.tables();
        let mut out = String::new();
        out.push_str("# HELP htr_requests_total HTTP requests answered, by route and status.\n");
        out.push_str("# TYPE htr_requests_total counter\n");
        for ((route, status), n) in &t.requests {
            let _ = writeln!(
                out,
                "htr_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP htr_errors_total Requests refused or failed, by route and reason.\n");
        out.push_str("# TYPE htr_errors_total counter\n");
        for ((route, reason), n) in &t.errors {
            let _ = writeln!(
                out,
                "htr_errors_total{{route=\"{}\",reason=\"{reason}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP htr_request_duration_seconds Time from arrival to answer.\n");
        out.push_str("# TYPE htr_request_duration_seconds histogram\n");
        for (route, h) in &t.latency {
            h.write(
                &mut out,
                "htr_request_duration_seconds",
                &format!("route=\"{}\"", escape(route)),
            );
        }
        out.push_str("# HELP htr_queue_depth Requests waiting for the model.\n");
        out.push_str("# TYPE htr_queue_depth gauge\n");
        let _ = writeln!(out, "htr_queue_depth {}", self.queue_depth());
        out.push_str("# HELP htr_in_flight Requests admitted and not yet answered.\n");
        out.push_str("# TYPE htr_in_flight gauge\n");
        let _ = writeln!(out, "htr_in_flight {}", self.in_flight());
        out.push_str("# HELP htr_batch_size Images per model batch.\n");
        out.push_str("# TYPE htr_batch_size histogram\n");
        t.batch_size.write(&mut out, "htr_batch_size", "");
        out.push_str("# HELP htr_batch_seconds Time of one model batch.\n");
        out.push_str("# TYPE htr_batch_seconds histogram\n");
        t.batch_seconds.write(&mut out, "htr_batch_seconds", "");
        out.push_str("# HELP htr_flags_total Images flagged for labelling.\n");
        out.push_str("# TYPE htr_flags_total counter\n");
        let _ = writeln!(
            out,
            "htr_flags_total {}",
            self.flags.load(Ordering::Relaxed)
        );
        if let Some(rss) = resident_bytes() {
            out.push_str("# HELP process_resident_memory_bytes Resident memory of the server.\n");
            out.push_str("# TYPE process_resident_memory_bytes gauge\n");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        if let Some(heap) = tr_kernels::heap_stats() {
            out.push_str(
                "# HELP htr_heap_bytes Heap bytes in live allocations and freed but kept by malloc.\n",
            );
            out.push_str("# TYPE htr_heap_bytes gauge\n");
            let _ = writeln!(out, "htr_heap_bytes{{state=\"in_use\"}} {}", heap.in_use);
            let _ = writeln!(out, "htr_heap_bytes{{state=\"free\"}} {}", heap.free);
        }
        out
    }
}

/// Resident set size of this process in bytes (`VmRSS`; Linux only).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counted() {
        let m = Metrics::default();
        m.record_request("/v1/predict", 200, Duration::from_millis(3), None);
        m.record_request(
            "/v1/predict",
            400,
            Duration::from_millis(40),
            Some("bad_request"),
        );
        m.record_batch(3, Duration::from_millis(20));
        let text = m.render();
        assert!(text.contains("htr_requests_total{route=\"/v1/predict\",status=\"200\"} 1"));
        assert!(text.contains("htr_errors_total{route=\"/v1/predict\",reason=\"bad_request\"} 1"));
        assert!(text
            .contains("htr_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"0.005\"} 1"));
        assert!(text
            .contains("htr_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"0.05\"} 2"));
        assert!(text.contains("htr_request_duration_seconds_count{route=\"/v1/predict\"} 2"));
        assert!(text.contains("htr_batch_size_bucket{le=\"2\"} 0"));
        assert!(text.contains("htr_batch_size_bucket{le=\"4\"} 1"));
        assert!(text.contains("htr_batch_size_sum 3"));
    }
}
