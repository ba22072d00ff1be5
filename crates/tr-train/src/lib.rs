//! tr-train (placeholder)
