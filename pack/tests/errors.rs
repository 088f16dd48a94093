//! Inputs `webc-pack` refuses, each with a message naming the file, key or line at fault;
//! where `wasmer-package` 0.704.2 also refuses, that is checked too.

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use common::*;
use webc_pack::Error;

fn err(p: &Project) -> (Error, String) {
    let e = p.ours().expect_err("webc-pack accepted it");
    let msg = e.to_string();
    (e, msg)
}

#[test]
fn missing_manifest() {
    let p = Project::new();
    p.file("hello.wasm", wasm(HELLO_WAT));
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::MissingManifest { .. }), "{e:?}");
    assert!(msg.contains("wasmer.toml"), "{msg}");
    assert!(msg.contains(&p.tmp.path().display().to_string()), "{msg}");

    let missing = p.tmp.path().join("nope");
    let e = webc_pack::Package::from_dir(&missing).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn bad_toml_names_the_line() {
    let p = Project::new();
    p.manifest("[package]\nname = \"a/b\"\nversion = \"1.0.0\n\n[[module]]\n");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::Toml { line: 3, .. }), "{e:?}");
    assert!(msg.contains("wasmer.toml:3:"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn wrong_shape_names_the_line() {
    let p = Project::new();
    p.manifest("[package]\nname = \"a/b\"\nversion = \"not-semver\"\n");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::Toml { line: 3, .. }), "{e:?}");
    assert!(msg.contains("wasmer.toml:3:"), "{msg}");
    assert!(p.wasmer().is_err());

    let p = Project::new();
    p.manifest("[[module]]\nname = \"m\"\nsource = \"m.wasm\"\nabi = \"WASI\"\n");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::Toml { line: 4, .. }), "{e:?}");
    assert!(msg.contains("WASI"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn missing_module_source() {
    let p = Project::new();
    p.manifest("[[module]]\nname = \"ghost\"\nsource = \"bin/ghost.wasm\"\n");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::ModuleSource { .. }), "{e:?}");
    assert!(msg.contains("\"ghost\""), "{msg}");
    assert!(msg.contains("bin/ghost.wasm"), "{msg}");
    let theirs = p.wasmer().unwrap_err();
    assert!(theirs.contains("ghost"), "{theirs}");
}

/// Wasmer rejects this for a V1 command only; for a V2 command it writes a package whose
/// command names an atom that does not exist. We reject both.
#[test]
fn unknown_module_in_command() {
    let p = Project::new();
    p.manifest(
        "[[module]]\nname = \"real\"\nsource = \"a.wasm\"\n\n\
         [[command]]\nname = \"go\"\nmodule = \"imaginary\"\nrunner = \"wasi\"\n",
    )
    .file("a.wasm", wasm(HELLO_WAT));
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::UnknownModule { .. }), "{e:?}");
    assert!(
        msg.contains("\"go\"") && msg.contains("\"imaginary\""),
        "{msg}"
    );
    assert!(
        p.wasmer().is_ok(),
        "wasmer-package 0.704.2 accepts a V2 command like this"
    );

    let p = Project::new();
    p.manifest(
        "[[module]]\nname = \"real\"\nsource = \"a.wasm\"\n\n\
         [[command]]\nname = \"old\"\nmodule = \"imaginary\"\n",
    )
    .file("a.wasm", wasm(HELLO_WAT));
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::UnknownModule { .. }), "{e:?}");
    assert!(
        msg.contains("\"old\"") && msg.contains("\"imaginary\""),
        "{msg}"
    );
    let theirs = p.wasmer().unwrap_err();
    assert!(theirs.contains("imaginary"), "{theirs}");
}

#[test]
fn undeclared_dependency() {
    let p = Project::new();
    p.manifest(
        "[[command]]\nname = \"py\"\nmodule = \"wasmer/python:python\"\nrunner = \"wasi\"\n",
    );
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::UndeclaredDependency { .. }), "{e:?}");
    assert!(msg.contains("wasmer/python"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn conflicting_annotation() {
    let p = Project::new();
    p.manifest(
        "[[module]]\nname = \"m\"\nsource = \"m.wasm\"\n\n\
         [[command]]\nname = \"c\"\nmodule = \"m\"\nrunner = \"wasi\"\nannotations = { wasi = { atom = \"other\" } }\n",
    )
    .file("m.wasm", wasm(HELLO_WAT));
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::MergeAnnotations { .. }), "{e:?}");
    assert!(msg.contains("\"c\"") && msg.contains("\"wasi\""), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn bad_annotations_file() {
    let p = Project::new();
    p.manifest(
        "[[module]]\nname = \"m\"\nsource = \"m.wasm\"\n\n\
         [[command]]\nname = \"c\"\nmodule = \"m\"\nrunner = \"wasi\"\nannotations = { file = \"a.json\", kind = \"json\" }\n",
    )
    .file("m.wasm", wasm(HELLO_WAT))
    .file("a.json", "{ not json");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::AnnotationsFile { .. }), "{e:?}");
    assert!(msg.contains("a.json") && msg.contains("line 1"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn fs_directory_missing() {
    let p = Project::new();
    p.manifest("[fs]\n\"/assets\" = \"assets\"\n");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::FsPathMissing { .. }), "{e:?}");
    assert!(
        msg.contains("\"/assets\"") && msg.contains("assets"),
        "{msg}"
    );
    assert!(p.wasmer().is_err());
}

/// Symlinks whose targets leave their volume: Wasmer's writer refuses them when it
/// serializes; we refuse them naming the link.
#[test]
fn escaping_symlinks() {
    for target in [
        "../outside.txt",
        "/etc/passwd",
        "a/../../x",
        "sub/../../outside.txt",
    ] {
        let p = Project::new();
        p.manifest("[fs]\n\"/data\" = \"data\"\n")
            .file("outside.txt", "secret\n")
            .file("data/ok.txt", "ok\n")
            .symlink("data/escape", target);
        p.fix_times();
        let (e, msg) = err(&p);
        assert!(matches!(e, Error::SymlinkEscapes { .. }), "{target}: {e:?}");
        assert!(msg.contains("escape") && msg.contains(target), "{msg}");
        assert!(p.wasmer().is_err(), "wasmer-package accepted {target}");
    }
    // A link that is fine in "/data" escapes the volume of a mapping nested inside it.
    let p = Project::new();
    p.manifest("[fs]\n\"/data\" = \"data\"\n\"/inner\" = \"data/inner\"\n")
        .file("data/ok.txt", "ok\n")
        .symlink("data/inner/up", "../ok.txt");
    p.fix_times();
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::SymlinkEscapes { .. }), "{e:?}");
    assert!(msg.contains("\"/data/inner\""), "{msg}");
    assert!(p.wasmer().is_err());
    // Deeper links may climb as long as they stay inside.
    let p = Project::new();
    p.manifest("[fs]\n\"/data\" = \"data\"\n")
        .file("data/ok.txt", "ok\n")
        .symlink("data/a/b/up", "../../ok.txt");
    p.fix_times();
    p.assert_same();
}

#[test]
fn unknown_atom_kind() {
    let p = Project::new();
    p.manifest("[[module]]\nname = \"m\"\nsource = \"m.bin\"\nkind = \"not a url\"\n")
        .file("m.bin", "x");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::UnknownAtomKind { .. }), "{e:?}");
    assert!(msg.contains("\"m\"") && msg.contains("not a url"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn invalid_dependency_name() {
    let p = Project::new();
    p.manifest("[dependencies]\n\"no-namespace\" = \"1\"\n");
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::InvalidDependency { .. }), "{e:?}");
    assert!(msg.contains("no-namespace"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn missing_binding_file() {
    let p = Project::new();
    p.manifest(
        "[[module]]\nname = \"m\"\nsource = \"m.wasm\"\n\
         bindings = { wit-bindgen = \"0.1.0\", wit-exports = \"gone.wit\" }\n",
    )
    .file("m.wasm", wasm(HELLO_WAT));
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::BindingFile { .. }), "{e:?}");
    assert!(msg.contains("gone.wit"), "{msg}");
    assert!(p.wasmer().is_err());
}

/// Names Wasmer's writer stores but its reader cannot look up (`:` and `\` are rejected in
/// lookup paths), which our writer refuses: a clear error naming the file.
#[test]
fn names_with_colons_are_refused() {
    let p = Project::new();
    p.manifest("[fs]\n\"/d\" = \"d\"\n")
        .file("d/a:b.txt", "x\n");
    p.fix_times();
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::UnsupportedPath { .. }), "{e:?}");
    assert!(msg.contains("a:b.txt"), "{msg}");
    assert!(
        p.wasmer().is_ok(),
        "wasmer-package 0.704.2 stores such names"
    );
}

#[test]
fn non_utf8_names_are_refused() {
    use std::os::unix::ffi::OsStrExt as _;
    let p = Project::new();
    p.manifest("[fs]\n\"/d\" = \"d\"\n").dir("d");
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff.txt");
    std::fs::write(p.tmp.path().join("d").join(name), "x").unwrap();
    p.fix_times();
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::NonUtf8Path { .. }), "{e:?}");
    assert!(msg.contains("bad-"), "{msg}");
    assert!(p.wasmer().is_err());
}

#[test]
fn timestamps_before_1970_are_refused() {
    let p = Project::new();
    p.manifest("[fs]\n\"/d\" = \"d\"\n").file("d/old.txt", "x");
    p.fix_times();
    let t = filetime::FileTime::from_unix_time(-86_400, 0);
    filetime::set_file_times(p.tmp.path().join("d/old.txt"), t, t).unwrap();
    let (e, msg) = err(&p);
    assert!(matches!(e, Error::Timestamp { .. }), "{e:?}");
    assert!(msg.contains("old.txt"), "{msg}");
    assert!(p.wasmer().is_err());
}
