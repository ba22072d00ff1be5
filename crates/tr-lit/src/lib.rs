//! tr-lit (placeholder)
