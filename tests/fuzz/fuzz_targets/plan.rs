#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stills::fuzzing::plan(data));
