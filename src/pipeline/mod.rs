//! The path every change takes to M2: routing to workers by target key, batching, applying
//! state-based, writing.

pub mod apply;
pub mod sweep;
pub mod workers;
pub mod write;
