// Sizes the wasm stack to what the exports need (a few KiB) instead of rustc's default 1 MiB, so an
// instance's linear memory is a single 64 KiB page.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=16384");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
