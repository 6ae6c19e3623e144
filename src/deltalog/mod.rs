//! The `m2_cl_*` deltalog in Magento 1: tables and AFTER triggers compatible with the DMT's,
//! without its lost-update race; install, status and remove.

pub mod ddl;
pub mod install;
pub mod naming;
mod remove;
mod state;
mod status;

pub use install::{install, InstallOptions, InstallReport};
pub use naming::Event;
pub use remove::{remove, RemoveReport};
pub use state::{ServerInfo, TableState, TrackedTable, TriggerInfo};
pub use status::{status, TableStatus, TriggerStatus};
