//! Project automation behind `cargo xtask` (alias in `.cargo/config.toml`).
//!
//! One module per subcommand; `main.rs` only parses the command line and
//! dispatches. The library form exists so the subcommands can be tested from
//! `xtask/tests/` without going through a process.
//!
//! * [`download`]: `cargo xtask download emnist|mnist|brown|iam [--from PATH]`.
//! * [`lab`]: `cargo xtask lab N [--quick]`.

pub mod download;
pub mod lab;
