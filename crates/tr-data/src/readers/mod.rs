//! Readers of the raw file formats the datasets come in, one module per format.
//!
//! Every reader returns [`crate::Error`]s whose one-line message names the
//! file and what is wrong with it (expected vs found where it applies); none
//! of them panics on bad input.
//!
//! | reader | format |
//! |---|---|
//! | [`read_idx`] → [`IdxArray`] | MNIST/EMNIST idx and idx.gz (gzip detected by magic bytes) |
//! | [`read_emnist_mapping`] → [`MappingEntry`]s | `emnist-byclass-mapping.txt` (`<index> <ascii code>`) |
//! | [`read_mat`], [`read_mat_from`], [`take_variable`] → [`MatArray`] | MATLAB MAT v5 (the course's `emnist-byclass.mat`) |
//! | [`read_brown_zip`] → [`BrownCorpus`]; [`clean_text`] | NLTK's `brown.zip` → sentences, cleaned as the course |
//! | [`read_iam_lines`] → [`IamLine`]s | IAM `ascii/lines.txt` |

pub(crate) mod brown;
pub(crate) mod emnist_mapping;
pub(crate) mod iam_lines;
pub(crate) mod idx;
pub(crate) mod mat;

pub use brown::{clean_text, read_brown_zip, BrownCorpus};
pub use emnist_mapping::{read_emnist_mapping, MappingEntry};
pub use iam_lines::{read_iam_lines, IamLine, SegmentationStatus};
pub use idx::{read_idx, transpose_images, IdxArray};
pub use mat::{read_mat, read_mat_from, take_variable, MatArray, MatClass, MatData};
