//! Release builds embed the web apps from `frontend/dist` (see `src/web.rs`): rebuild the
//! binary when they are rebuilt. Debug builds read that directory at run time and need nothing.
fn main() {
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        // Cargo reruns a build script whose watched path is missing on every build; an empty
        // directory (git ignores it) keeps a binary built without its apps from rebuilding
        // each time, and is noticed once the apps land in it.
        let _ = std::fs::create_dir_all("frontend/dist");
        println!("cargo:rerun-if-changed=frontend/dist");
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
