//! Map rules and handlers applied to rows on their way from M1 to M2.

pub mod handler;
