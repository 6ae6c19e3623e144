//! Steps: the units of work config.xml names by DMT class (`Migration\Step\Map\Delta`).

pub mod configurable_prices;
pub mod customer;
pub mod inventory;
pub mod map;
pub mod order_grids;
mod registry;
pub mod sales_increment;
pub mod step;
pub mod tier_price;
pub mod url_rewrite;

pub use registry::{Availability, StepClass, StepLogic, StepRegistry, UnknownStepClass};
pub use step::Step;
