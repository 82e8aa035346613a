// SPDX-License-Identifier: MIT
// Finds libsubsel with the pkg-config program (the pkg-config crate cannot
// be downloaded here, and the program is what every packager has anyway).
// SUBSEL_NO_PKG_CONFIG=1 skips it for builds that pass -L/-l themselves.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=SUBSEL_NO_PKG_CONFIG");
    if env::var_os("SUBSEL_NO_PKG_CONFIG").is_some() {
        println!("cargo:rustc-link-lib=subsel");
        return;
    }
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let output = Command::new(&program)
        .args(["--libs", "subsel"])
        .output()
        .unwrap_or_else(|e| panic!("subsel-sys: cannot run {program}: {e}"));
    if !output.status.success() {
        panic!(
            "subsel-sys: `{program} --libs subsel` failed (is libsubsel installed, \
             and PKG_CONFIG_PATH set to its pkgconfig folder?):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let flags = String::from_utf8(output.stdout).expect("pkg-config output is UTF-8");
    for flag in flags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            // For dependents (DEP_SUBSEL_LIBDIR), e.g. to set an rpath.
            println!("cargo:libdir={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={lib}");
        }
    }
}
