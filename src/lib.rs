//! SONA for WebAssembly (skeleton; replaced by the SONA implementation).
#![no_std]
extern crate alloc;
