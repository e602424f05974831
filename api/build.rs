//! Lists the web app's files (`web/`) for a release build to embed, so a file added there
//! is served without a list kept by hand; cargo reruns this when anything under `web/`
//! changes. A debug build embeds nothing: it reads `web/` at each request, so an edit
//! shows on reload without a rebuild.

// A build script reports a failure by panicking.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("web");
    let mut files = Vec::new();
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rerun-if-changed={}", root.display());
        collect(&root, &root, &mut files);
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (served_at, path) in &files {
        out.push_str(&format!(
            "    ({served_at:?}, include_bytes!({:?}) as &[u8]),\n",
            path.display().to_string()
        ));
    }
    out.push_str("]\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("web_files.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}

/// Every file under `dir`, with the path it is served at (`/app/…`); hidden files and
/// source maps stay out.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).expect("web/ is readable") {
        let path = entry.expect("web/ is readable").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with(".map") {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under web/");
            let served_at = format!("/app/{}", relative.to_string_lossy().replace('\\', "/"));
            files.push((served_at, path));
        }
    }
}
