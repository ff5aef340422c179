//! micro-HNSW (skeleton; replaced by the micro-HNSW implementation).
#![no_std]

pub mod snn;

#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Number of vectors per core.
#[no_mangle]
pub extern "C" fn get_capacity() -> u8 {
    32
}
