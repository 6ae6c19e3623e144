//! Arbitrary bytes as a groups file (deltalog.xml, …) (see ../readers.rs): no panic, one-line errors.
#![no_main]

#[path = "../readers.rs"]
mod readers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    readers::deltalog(data);
});
