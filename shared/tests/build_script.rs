//! The build script must watch only files that exist: cargo treats a missing watched file as
//! changed, reruns the script on every build and rebuilds the harness and every case with it
//! (a `just run` then paid two rebuilds before measuring anything).

use std::path::Path;

const BUILD_SCRIPT: &str = include_str!("../build.rs");

/// The literal paths in `what!("...")` or `what=...")` calls of the build script.
fn literals<'a>(marker: &str, text: &'a str) -> Vec<&'a str> {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .filter(|path| !path.contains('{'))
        .collect()
}

#[test]
fn every_watched_file_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let watched = literals("cargo:rerun-if-changed=", BUILD_SCRIPT);
    assert!(!watched.is_empty(), "the build script watches no literal path");
    for path in watched {
        assert!(root.join(path).is_file(), "build.rs watches {path}, which does not exist: every build would rebuild");
    }
}

#[test]
fn every_included_file_is_watched() {
    let watched = literals("cargo:rerun-if-changed=", BUILD_SCRIPT);
    for included in literals("include!(\"", BUILD_SCRIPT) {
        assert!(watched.contains(&included), "build.rs includes {included} but does not watch it");
    }
}
