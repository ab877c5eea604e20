//! `refinery::embed_migrations!` reads the migration directories while this crate compiles, but
//! cargo does not know it: without this, a new migration file would not be embedded until some
//! source file of the crate changed (and a cached build in CI would ship without it).

fn main() {
    for dir in ["../../migrations/control", "../../migrations/tenant"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
