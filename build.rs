//! Rebuilds when anything under `frontend/` changes: the web app is
//! embedded into the binary (rust-embed), and the embedding macro alone
//! would not notice a file being added or removed.

fn main() {
    println!("cargo:rerun-if-changed=frontend");
}
