//! Progress reporting per phase: an indicatif bar on a terminal, periodic
//! `tracing` lines otherwise (CI logs, `nohup`, pipes).
//!
//! Both show steps/s, samples/s, the running loss and the ETA of the phase.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A live bar on stderr.
    Bar,
    /// A log line every `every` of wall time.
    Lines { every: Duration },
    /// Nothing.
    Off,
}

impl Mode {
    /// A bar when both stdout and stderr are terminals, log lines every 30 s otherwise.
    pub fn detect(enabled: bool) -> Self {
        if !enabled {
            Mode::Off
        } else if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines {
                every: Duration::from_secs(30),
            }
        }
    }
}

/// Progress of one phase (`train` epoch 3, `val`, …).
pub struct PhaseProgress {
    label: String,
    total: u64,
    done: u64,
    samples: u64,
    loss_sum: f64,
    loss_count: u64,
    started: Instant,
    last_line: Instant,
    mode: Mode,
    bar: Option<ProgressBar>,
}

impl PhaseProgress {
    /// Starts a phase of `total` batches.
    pub fn start(mode: Mode, label: impl Into<String>, total: u64) -> Self {
        let label = label.into();
        let bar = (mode == Mode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{prefix:>14} [{bar:30}] {pos}/{len} {msg} [{elapsed_precise}<{eta_precise}]",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(label.clone());
            bar
        });
        let now = Instant::now();
        Self {
            label,
            total,
            done: 0,
            samples: 0,
            loss_sum: 0.0,
            loss_count: 0,
            started: now,
            last_line: now,
            mode,
            bar,
        }
    }

    /// Records one finished batch of `batch_size` samples and its loss.
    pub fn advance(&mut self, batch_size: usize, loss: Option<f64>) {
        self.done += 1;
        self.samples += batch_size as u64;
        if let Some(l) = loss.filter(|l| l.is_finite()) {
            self.loss_sum += l;
            self.loss_count += 1;
        }
        let msg = self.message();
        match self.mode {
            Mode::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_position(self.done);
                    bar.set_message(msg);
                }
            }
            Mode::Lines { every } => {
                if self.last_line.elapsed() >= every || self.done == self.total {
                    self.last_line = Instant::now();
                    tracing::info!(
                        "{} {}/{} {msg} eta {}",
                        self.label,
                        self.done,
                        self.total,
                        self.eta_text()
                    );
                }
            }
            Mode::Off => {}
        }
    }

    /// Running mean loss of this phase.
    pub fn mean_loss(&self) -> Option<f64> {
        (self.loss_count > 0).then(|| self.loss_sum / self.loss_count as f64)
    }

    /// Samples per second so far.
    pub fn samples_per_sec(&self) -> f64 {
        self.samples as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    fn message(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let mut m = format!(
            "{:.2} it/s {:.1} samples/s",
            self.done as f64 / secs,
            self.samples_per_sec()
        );
        if let Some(l) = self.mean_loss() {
            m.push_str(&format!(" loss {l:.4}"));
        }
        m
    }

    fn eta_text(&self) -> String {
        if self.done == 0 {
            return "?".into();
        }
        let per = self.started.elapsed().as_secs_f64() / self.done as f64;
        let left = per * self.total.saturating_sub(self.done) as f64;
        format!("{}s", left.round() as u64)
    }

    /// Ends the phase (clears the bar).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_running_loss_and_throughput() {
        let mut p = PhaseProgress::start(Mode::Off, "train", 3);
        p.advance(4, Some(2.0));
        p.advance(4, Some(f64::NAN));
        p.advance(4, Some(1.0));
        assert_eq!(p.mean_loss(), Some(1.5));
        assert!(p.samples_per_sec() > 0.0);
        assert_eq!(p.eta_text(), "0s");
        p.finish();
    }
}
