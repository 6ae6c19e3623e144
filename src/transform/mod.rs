//! Map rules and handlers applied to rows on their way from M1 to M2.

pub mod handler;
pub mod handlers;
pub mod pcre;
pub mod php;
mod record;

pub use handlers::{build_handler, required_lookup, BuildError, Lookup};
pub use record::Record;

/// A value a handler cannot transform: a definite data error. The caller adds table, key and
/// column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

/// One DMT handler (`Migration\Handler\*`) of map.xml, built from its `<param>`s.
///
/// Contract: pure and deterministic — no I/O, no clock, the same input gives the same output,
/// so replaying a change writes the same M2 row. Source-side handlers run on the M1 record before
/// the copy (`opposite` is the destination record, still empty); destination-side handlers run
/// on the M2 record after it (`opposite` is the M1 record), as the DMT's RecordTransformer does.
pub trait Handler: Send + Sync + std::fmt::Debug {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError>;
}
