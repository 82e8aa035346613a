// SPDX-License-Identifier: MIT
// The declarations in src/lib.rs must be what generate.py makes of the
// header in this tree: a changed header without a regenerated file fails
// here (and so in CI), rather than calling the library with stale numbers.
use std::path::Path;
use std::process::Command;

#[test]
fn generated_file_matches_header() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("/usr/bin/python3")
        .arg(dir.join("generate.py"))
        .arg("--check")
        .status()
        .expect("run /usr/bin/python3 generate.py --check");
    assert!(status.success(), "src/lib.rs is out of date: run generate.py");
}

#[test]
fn linked_library_matches_header() {
    // The loaded library must be the version these declarations describe.
    let linked = unsafe { subsel_sys::subsel_version_number() };
    assert_eq!(linked, subsel_sys::SUBSEL_VERSION_NUMBER);
}
