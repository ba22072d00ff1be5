//! Transfer progress: an `indicatif` bar when stderr is a terminal, else a
//! log line every [`LOG_EVERY`] (CI logs and redirected output stay readable).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Interval between progress log lines when stderr is not a terminal.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Progress of one transfer (bytes).
pub struct Progress {
    label: String,
    total: Option<u64>,
    position: u64,
    started: Instant,
    started_at: u64,
    sink: Sink,
}

enum Sink {
    Bar(ProgressBar),
    Log { last: Instant },
}

impl Progress {
    /// Starts reporting `label`, already at `position` of `total` bytes.
    pub fn start(label: &str, total: Option<u64>, position: u64) -> Self {
        let sink = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            } else {
                "{prefix} {spinner} {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            bar.set_position(position);
            Sink::Bar(bar)
        } else {
            tracing::info!(
                "{label}: starting at {} of {}",
                mib(position),
                total.map_or("?".into(), mib)
            );
            Sink::Log {
                last: Instant::now(),
            }
        };
        Self {
            label: label.to_string(),
            total,
            position,
            started: Instant::now(),
            started_at: position,
            sink,
        }
    }

    /// Adds `n` transferred bytes.
    pub fn advance(&mut self, n: u64) {
        self.position += n;
        match &mut self.sink {
            Sink::Bar(bar) => bar.set_position(self.position),
            Sink::Log { last } => {
                if last.elapsed() >= LOG_EVERY {
                    *last = Instant::now();
                    tracing::info!("{}: {}", self.label, self.status());
                }
            }
        }
    }

    /// Ends the report (successfully or not) with a final line.
    pub fn finish(self) {
        match &self.sink {
            Sink::Bar(bar) => bar.finish_and_clear(),
            Sink::Log { .. } => {}
        }
        tracing::info!("{}: {}", self.label, self.status());
    }

    fn status(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = (self.position - self.started_at) as f64 / secs;
        let pct = self.total.filter(|&t| t > 0).map_or(String::new(), |t| {
            format!(" ({:.0}%)", 100.0 * self.position as f64 / t as f64)
        });
        format!(
            "{} of {}{pct}, {}/s, {secs:.1}s",
            mib(self.position),
            self.total.map_or("?".into(), mib),
            mib(rate as u64)
        )
    }
}

/// Bytes as a human-readable MiB figure.
pub fn mib(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{bytes} B")
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(mib(512), "512 B");
        assert_eq!(mib(3 << 20), "3.0 MiB");
        assert_eq!(mib(28_908_322), "27.6 MiB");
    }
}
