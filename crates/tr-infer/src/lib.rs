//! tr-infer (placeholder)
