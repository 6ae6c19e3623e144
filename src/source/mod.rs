//! Where changes come from: the deltalog (the triggers' `m2_cl_*` tables); the binlog later.

pub mod binlog;
pub mod deltalog;
