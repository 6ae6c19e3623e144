//! Steps: the units of work config.xml names by DMT class (`Migration\Step\Map\Delta`).

pub mod map;
mod registry;

pub use registry::{Availability, StepClass, StepRegistry, UnknownStepClass};
