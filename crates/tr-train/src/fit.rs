//! `fit`: the training loop — epochs of optimizer steps, validation,
//! checkpoints, early stopping and reports — resumable exactly from any
//! checkpoint it wrote.
//!
//! Determinism: weights come from the run seed, the data order from
//! `(seed, epoch)`, every micro-batch's dropout masks from `(seed, epoch,
//! batch)`, and the learning rate from the scheduler step, all of which a
//! checkpoint restores; the same config therefore gives the same weights bit
//! for bit, interrupted or not (on CPU).

use std::path::Path;
use std::time::Instant;

use tr_data::derive_seed;
use tr_models::reseed_dropout;

use crate::checkpoint::{Checkpoint, CheckpointHeader, DataInfo};
use crate::config::RunConfig;
use crate::early_stopping::EarlyStopping;
use crate::error::{Error, Result};
use crate::evaluate::{evaluate, save_sample_sheet};
use crate::metrics::PhaseMetrics;
use crate::optim::{check_finite, clip_global_norm, Grads, Optimizer};
use crate::progress::{Mode, PhaseProgress};
use crate::report::{write_plots, Summary};
use crate::run::{MetricsLog, Monitor, Record, RunDir};
use crate::schedule::Interval;
use crate::session::{Session, Split};
use crate::state::TrainerState;
use crate::topk::TopK;

/// How a call of `Fit::train_epoch` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EpochEnd {
    Completed,
    /// `max_steps` was reached on the epoch's last batch.
    CompletedAtMaxSteps,
    /// `max_steps` was reached before the epoch's last batch.
    StoppedInside,
}

/// A training run in progress.
struct Fit {
    session: Session,
    optimizer: Optimizer,
    state: TrainerState,
    run: Option<RunDir>,
    log: Option<MetricsLog>,
    topk: TopK,
    early_stopping: EarlyStopping,
    mode: Mode,
    base_lr: f64,
    started: Instant,
}

/// Trains `config` (resuming from `resume` when given) and returns the run's summary.
pub fn fit(config: RunConfig, resume: Option<&Path>) -> Result<Summary> {
    let session = Session::build(config)?;
    let t = session.config.trainer.clone();
    let mut optimizer = Optimizer::new(t.optimizer.clone(), session.trainable())?;
    let mut state = TrainerState::default();
    let mode = Mode::detect(t.progress_bar);
    if let Some(path) = resume {
        let ckpt = session.restore(path)?;
        state = ckpt.header.state;
        optimizer.load_state_tensors(&ckpt.optimizer, state.global_step)?;
        // A finished run resumed with a larger max_epochs/max_steps continues.
        state.finished = false;
        tracing::info!(
            "resuming {} at epoch {} batch {} (step {})",
            path.display(),
            state.epoch,
            state.batch_in_epoch,
            state.global_step
        );
    } else if let Some(path) = &t.init_from {
        session.init_from(path)?;
    }
    let fast = t.fast_dev_run > 0;
    let run = if fast {
        None
    } else {
        Some(match resume.and_then(RunDir::of_checkpoint) {
            Some(root) => RunDir::open(&root)?,
            None => RunDir::create(&t.runs_dir, &session.config.name)?,
        })
    };
    let log = match &run {
        Some(r) => {
            r.write_text(&r.config(), &session.config.to_yaml()?)?;
            Some(MetricsLog::open(r, resume.map(|_| state.global_step))?)
        }
        None => None,
    };
    if let Some(r) = &run {
        tracing::info!("run directory {}", r.root().display());
    }
    let monitor = Monitor::for_checkpoints(&session.config);
    let early_stopping = EarlyStopping::new(&session.config);
    early_stopping.adopt_legacy_state(&mut state, &monitor);
    let topk = TopK::new(monitor, t.checkpoint.save_top_k, state.top_k.clone());
    let base_lr = t.optimizer.lr();
    let fit = Fit {
        session,
        optimizer,
        state,
        run,
        log,
        topk,
        early_stopping,
        mode,
        base_lr,
        started: Instant::now(),
    };
    fit.run()
}

impl Fit {
    fn cfg(&self) -> &crate::trainer_config::TrainerConfig {
        &self.session.config.trainer
    }

    fn elapsed(&self) -> f64 {
        self.state.train_seconds + self.started.elapsed().as_secs_f64()
    }

    fn max_epochs(&self) -> u64 {
        if self.cfg().fast_dev_run > 0 {
            1
        } else {
            self.cfg().max_epochs
        }
    }

    fn lr_now(&self) -> f64 {
        self.cfg()
            .scheduler
            .lr_at(self.state.scheduler_step, self.base_lr)
    }

    /// Logs `metrics` of `phase` for `epoch` at the current step.
    fn record(
        &mut self,
        phase: &str,
        epoch: u64,
        metrics: std::collections::BTreeMap<String, f64>,
    ) -> Result<()> {
        let rec = Record {
            phase: phase.to_string(),
            epoch,
            step: self.state.global_step,
            time: self.elapsed(),
            metrics,
        };
        if let Some(log) = &mut self.log {
            log.push(rec)?;
        }
        Ok(())
    }

    fn run(mut self) -> Result<Summary> {
        let train_loader = self.session.loader(Split::Train)?;
        let val_loader = self.session.loader(Split::Val)?;
        let mut last_val = std::collections::BTreeMap::new();
        let mut stopped_early = false;
        let max_steps = self.cfg().max_steps;
        while self.state.epoch < self.max_epochs()
            && !self.state.finished
            && (max_steps == 0 || self.state.global_step < max_steps)
        {
            let end = self.train_epoch(&train_loader)?;
            let reached_max_steps = end != EpochEnd::Completed;
            // Number of the epoch just trained, plus one (epochs count from 0).
            let epoch = match end {
                EpochEnd::StoppedInside => self.state.epoch + 1,
                _ => self.state.epoch,
            };
            let validate = epoch % self.cfg().check_val_every_n_epoch == 0 || reached_max_steps;
            if validate && val_loader.num_batches() > 0 {
                let keep = if self.run.is_some() {
                    self.cfg().num_sample_images
                } else {
                    0
                };
                let eval = evaluate(&self.session, &val_loader, Split::Val, self.mode, keep)?;
                tracing::info!("epoch {} {}", epoch - 1, format_metrics(&eval.metrics));
                self.record("val", epoch - 1, eval.metrics.clone())?;
                if let Some(run) = &self.run {
                    save_sample_sheet(
                        &eval.rows,
                        &run.samples().join(format!("epoch-{:03}.png", epoch - 1)),
                    )?;
                }
                stopped_early = self.after_validation(epoch - 1, &eval.metrics)?;
                last_val = eval.metrics;
            }
            if reached_max_steps || stopped_early || self.state.epoch >= self.max_epochs() {
                self.state.finished = true;
            }
            self.save_last()?;
            self.write_reports()?;
        }
        let test = if self.cfg().test_after_fit || self.cfg().fast_dev_run > 0 {
            Some(self.test_best()?)
        } else {
            None
        };
        let summary = Summary::collect(
            &self.session,
            &self.state,
            self.run.as_ref(),
            &self.topk,
            last_val,
            test,
            stopped_early,
            self.elapsed(),
        );
        if let Some(run) = &self.run {
            summary.write(run)?;
        }
        Ok(summary)
    }

    /// One training epoch (or its remainder after a mid-epoch resume).
    fn train_epoch(&mut self, loader: &tr_data::DataLoader) -> Result<EpochEnd> {
        let epoch = self.state.epoch;
        let n_batches = loader.num_batches();
        let accumulate = self.cfg().accumulate_grad_batches as usize;
        let seed = self.session.config.seed;
        let trainable = self.session.trainable();
        let mut progress = PhaseProgress::start(
            self.mode,
            format!("epoch {epoch}"),
            (n_batches as u64).saturating_sub(self.state.batch_in_epoch),
        );
        let mut metrics = PhaseMetrics::new(self.session.is_sequence(), &self.session.data.vocab);
        let mut grads = Grads::default();
        let mut pending = 0usize;
        let mut reached_max_steps = false;
        let mut window_loss = (0.0f64, 0u64);
        let epoch_started = Instant::now();
        let epoch_samples_before = self.state.train_samples;
        for batch in loader.epoch_from(epoch, self.state.batch_in_epoch as usize)? {
            let batch = batch?;
            reseed_dropout(derive_seed(
                seed,
                format!("dropout/{epoch}/{}", batch.batch_index),
            ));
            let out =
                self.session
                    .lit
                    .step(&*self.session.model, &batch.images, &batch.targets, true)?;
            let loss = out
                .loss
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?;
            if !loss.is_finite() {
                if self.cfg().terminate_on_nan {
                    return Err(Error::NonFinite {
                        step: self.state.global_step,
                        what: format!(
                            "training loss {loss} (epoch {epoch}, batch {})",
                            batch.batch_index
                        ),
                    });
                }
                tracing::warn!(
                    "skipping batch {} of epoch {epoch}: loss is {loss}",
                    batch.batch_index
                );
                continue;
            }
            let scaled = if accumulate > 1 {
                (&out.loss / accumulate as f64)?
            } else {
                out.loss.clone()
            };
            let store = scaled.backward()?;
            grads.accumulate(Grads::from_store(&store, trainable.iter().map(|(_, v)| v)))?;
            drop(store);
            pending += 1;
            metrics.update(loss, &out);
            progress.advance(batch.len(), Some(loss));
            self.state.batch_in_epoch = batch.batch_index as u64 + 1;
            self.state.train_samples += batch.len() as u64;
            self.state.train_loss_sum += loss;
            self.state.train_loss_count += 1;
            window_loss.0 += loss;
            window_loss.1 += 1;
            let last_in_epoch = batch.batch_index + 1 == n_batches;
            if pending == accumulate || last_in_epoch {
                self.apply(&mut grads, &trainable)?;
                pending = 0;
                if self
                    .state
                    .global_step
                    .is_multiple_of(self.cfg().log_every_n_steps)
                {
                    let mut m = std::collections::BTreeMap::new();
                    m.insert(
                        "train_loss".to_string(),
                        window_loss.0 / window_loss.1.max(1) as f64,
                    );
                    m.insert("lr".to_string(), self.optimizer.learning_rate());
                    window_loss = (0.0, 0);
                    self.record("train", epoch, m)?;
                }
                let every = self.cfg().checkpoint.every_n_train_steps;
                if every > 0 && self.state.global_step.is_multiple_of(every) && !last_in_epoch {
                    self.save_last()?;
                }
                let max_steps = self.cfg().max_steps;
                if max_steps > 0 && self.state.global_step >= max_steps {
                    reached_max_steps = true;
                    break;
                }
            }
        }
        progress.finish();
        if reached_max_steps && (self.state.batch_in_epoch as usize) < n_batches {
            // Stopped inside the epoch: keep its position so a resume with a
            // larger `max_steps`/`max_epochs` trains exactly the batches left.
            self.state.train_phase_seconds += epoch_started.elapsed().as_secs_f64();
            return Ok(EpochEnd::StoppedInside);
        }
        let mut m = metrics.compute("train");
        if self.state.train_loss_count > 0 {
            // The epoch's mean loss includes batches trained before a mid-epoch resume.
            m.insert(
                "train_loss".into(),
                self.state.train_loss_sum / self.state.train_loss_count as f64,
            );
        }
        let secs = epoch_started.elapsed().as_secs_f64().max(1e-9);
        self.state.train_phase_seconds += secs;
        m.insert(
            "train_samples_per_sec".into(),
            (self.state.train_samples - epoch_samples_before) as f64 / secs,
        );
        m.insert("lr".into(), self.optimizer.learning_rate());
        tracing::info!("epoch {epoch} {}", format_metrics(&m));
        self.state.epoch += 1;
        self.state.batch_in_epoch = 0;
        self.state.train_loss_sum = 0.0;
        self.state.train_loss_count = 0;
        if self.cfg().scheduler.interval() == Interval::Epoch {
            self.state.scheduler_step += 1;
        }
        self.record("train_epoch", epoch, m)?;
        Ok(if reached_max_steps {
            EpochEnd::CompletedAtMaxSteps
        } else {
            EpochEnd::Completed
        })
    }

    /// Clips, checks and applies accumulated gradients; advances step and scheduler.
    fn apply(&mut self, grads: &mut Grads, trainable: &[(String, candle_core::Var)]) -> Result<()> {
        let params = trainable.iter().map(|(n, v)| (n.as_str(), v));
        if self.cfg().terminate_on_nan {
            check_finite(grads, params.clone(), self.state.global_step)?;
        }
        if self.cfg().gradient_clip_val > 0.0 {
            clip_global_norm(grads, params, self.cfg().gradient_clip_val)?;
        }
        let lr = self.lr_now();
        self.optimizer.set_learning_rate(lr);
        self.optimizer.step(grads)?;
        *grads = Grads::default();
        self.state.global_step += 1;
        if self.cfg().scheduler.interval() == Interval::Step {
            self.state.scheduler_step += 1;
        }
        Ok(())
    }

    /// Best score, top-k checkpoints and early stopping after validating
    /// epoch `epoch` (0-based); returns true to stop.
    fn after_validation(
        &mut self,
        epoch: u64,
        metrics: &std::collections::BTreeMap<String, f64>,
    ) -> Result<bool> {
        let stop = self.early_stopping.update(&mut self.state, metrics);
        let monitor = self.topk.monitor().clone();
        let Some(&score) = metrics.get(&monitor.metric) else {
            tracing::warn!(
                "monitored metric {} was not computed (have: {}); no best checkpoint this epoch",
                monitor.metric,
                metrics.keys().cloned().collect::<Vec<_>>().join(", ")
            );
            return Ok(stop);
        };
        if monitor.improves(score, self.state.best_score, 0.0) {
            self.state.best_score = Some(score);
            self.state.best_epoch = Some(epoch);
        }
        if let Some(run) = &self.run {
            if let Some(file) = self.topk.admit(score, epoch, &run.checkpoints())? {
                let ckpt = self.checkpoint()?;
                ckpt.save(&run.checkpoints().join(&file))?;
            }
            self.state.top_k = self.topk.entries().to_vec();
        }
        Ok(stop)
    }

    fn checkpoint(&self) -> Result<Checkpoint> {
        Ok(Checkpoint {
            header: CheckpointHeader {
                model_name: self.session.config.model.name().to_string(),
                vocab: self.session.data.vocab.clone(),
                config: serde_json::to_value(&self.session.config)
                    .map_err(|e| Error::config("config", e.to_string()))?,
                state: TrainerState {
                    train_seconds: self.elapsed(),
                    ..self.state.clone()
                },
                data: Some(DataInfo::of(&self.session.data)),
            },
            weights: self.session.weights(),
            optimizer: self.optimizer.state_tensors()?,
        })
    }

    fn save_last(&self) -> Result<()> {
        if let Some(run) = &self.run {
            if self.cfg().checkpoint.save_last {
                self.checkpoint()?
                    .save(&run.checkpoints().join("last.safetensors"))?;
            }
        }
        Ok(())
    }

    fn write_reports(&mut self) -> Result<()> {
        if let (Some(run), Some(log)) = (&self.run, &self.log) {
            log.flush_csv()?;
            write_plots(run, log, self.session.is_sequence())?;
        }
        Ok(())
    }

    /// Tests the best checkpoint (or the current weights when there is none).
    fn test_best(&mut self) -> Result<std::collections::BTreeMap<String, f64>> {
        let best = match &self.run {
            Some(run) if !self.topk.entries().is_empty() => {
                Some(run.best_checkpoint(self.topk.monitor())?.path)
            }
            _ => None,
        };
        if let Some(path) = best {
            let ckpt = Checkpoint::load(&path, &self.session.device)?;
            self.session.load_weights(&ckpt, &path)?;
            tracing::info!("testing {}", path.display());
        }
        let loader = self.session.loader(Split::Test)?;
        let eval = evaluate(&self.session, &loader, Split::Test, self.mode, 0)?;
        tracing::info!("test {}", format_metrics(&eval.metrics));
        let epoch = self.state.epoch.saturating_sub(1);
        self.record("test", epoch, eval.metrics.clone())?;
        if let Some(log) = &self.log {
            log.flush_csv()?;
        }
        Ok(eval.metrics)
    }
}

/// `k=v` pairs for log lines.
pub fn format_metrics(m: &std::collections::BTreeMap<String, f64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v:.4}"))
        .collect::<Vec<_>>()
        .join(" ")
}
