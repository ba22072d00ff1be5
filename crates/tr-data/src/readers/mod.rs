//! Readers of the raw file formats the datasets come in, one module per format.
//!
//! Every reader returns [`crate::Error`]s whose one-line message names the
//! file and what is wrong with it (expected vs found where it applies); none
//! of them panics on bad input.
//!
//! | module | format |
//! |---|---|
//! | [`idx`] | MNIST/EMNIST idx and idx.gz (gzip detected by magic bytes) |
//! | [`emnist_mapping`] | `emnist-byclass-mapping.txt` (`<index> <ascii code>`) |
//! | [`mat`] | MATLAB MAT v5 (the course's `emnist-byclass.mat`) |
//! | [`brown`] | NLTK's `brown.zip` → sentences, cleaned as the course |
//! | [`iam_lines`] | IAM `ascii/lines.txt` |

pub mod brown;
pub mod emnist_mapping;
pub mod iam_lines;
pub mod idx;
pub mod mat;

pub use brown::{read_brown_zip, BrownCorpus};
pub use emnist_mapping::{read_emnist_mapping, MappingEntry};
pub use iam_lines::{read_iam_lines, IamLine, SegmentationStatus};
pub use idx::{read_idx, transpose_images, IdxArray};
pub use mat::{read_mat, read_mat_from, MatArray, MatClass, MatData};
