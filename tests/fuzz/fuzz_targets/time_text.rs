#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| stills::fuzzing::time_text(data));
