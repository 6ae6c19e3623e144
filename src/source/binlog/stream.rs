//! The replica connection (filled in below).
