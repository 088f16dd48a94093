//! `webc-pack` output compared byte for byte with `wasmer-package` 0.704.2 (what
//! `wasmer package build` runs) on package directories built here with fixed mtimes.

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use ciborium::Value;
use common::*;
use webc_container::Container;

fn manifest_value(bytes: &[u8]) -> Value {
    let c = Container::from_bytes(bytes.to_vec()).unwrap();
    ciborium::from_reader(&c.manifest_bytes()[..]).unwrap()
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur
            .as_map()?
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)?;
    }
    Some(cur)
}

fn texts(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_text().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn keys(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, _)| k.as_text().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything at once: metadata, dependencies, several modules exercising feature
/// detection, V1 and V2 commands with inline / JSON / YAML annotations, several `[fs]`
/// entries (nested, one directory mapped twice, `..` in the path, a mapped file), symlinks, empty
/// directories and files, unicode names, hidden files and a `.git` directory.
#[test]
fn full_package_matches_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[package]
name = "acme/everything"
version = "1.2.3-beta.1+build.5"
description = "Stripped from the container"
license = "MIT OR Apache-2.0"
license-file = "docs/LICENSE.txt"
readme = "README.md"
repository = "https://example.org/acme/everything"
homepage = "https://example.org"
entrypoint = "hello"

[dependencies]
"wasmer/python" = "3.12"
"acme/lib_x" = "^0.2"
"acme/exact" = "=1.0.0"

[fs]
"/data" = "data"
"/etc/app" = "config"
"/etc/again" = "config"
"jp" = "data/日本語"
"/lib" = "./libs/../lib"
"/single" = "single.txt"

[[module]]
name = "hello"
source = "hello.wasm"
abi = "wasi"

[[module]]
name = "simd"
source = "wasm/simd.wasm"

[[module]]
name = "bulk"
source = "wasm/bulk.wasm"

[[module]]
name = "multi"
source = "wasm/multi.wasm"

[[module]]
name = "exceptions"
source = "wasm/exceptions.wasm"

[[module]]
name = "tail"
source = "wasm/tail.wasm"

[[module]]
name = "relaxed"
source = "wasm/relaxed.wasm"

[[module]]
name = "mem64"
source = "wasm/mem64.wasm"

[[module]]
name = "blob"
source = "blob.bin"
kind = "https://Example.org/kind/blob"

[[module]]
name = "Another"
source = "hello.wasm"
kind = "wasm"

[[command]]
name = "hello"
module = "hello"
runner = "wasi"
annotations = { wasi = { env = ["A=1", "B=two"], main-args = ["--flag", "x"], cwd = "/data", exec-name = "hi" }, custom = { z = 1, a = [1.5, true, "s"], when = 1979-05-27T07:32:00Z } }

[[command]]
name = "serve"
module = "hello"
runner = "wcgi"
annotations = { file = "annotations/serve.json", kind = "json" }

[[command]]
name = "yaml"
module = "simd"
runner = "my-runner"
annotations = { file = "annotations/yaml.yaml", kind = "yaml" }

[[command]]
name = "legacy"
module = "hello"
main_args = "one  two three"

[[command]]
name = "python"
module = "wasmer/python:python"
runner = "https://webc.org/runner/wasi"

[[command]]
name = "emscripten"
module = "multi"
runner = "emscripten"
"#,
    );
    p.file("hello.wasm", wasm(HELLO_WAT))
        .file("wasm/simd.wasm", wasm(SIMD_WAT))
        .file("wasm/bulk.wasm", wasm(BULK_MEMORY_WAT))
        .file("wasm/multi.wasm", wasm(MULTI_VALUE_WAT))
        .file("wasm/exceptions.wasm", wasm(EXCEPTIONS_WAT))
        .file("wasm/tail.wasm", wasm(TAIL_CALL_WAT))
        .file("wasm/relaxed.wasm", wasm(RELAXED_SIMD_WAT))
        .file("wasm/mem64.wasm", wasm(MEMORY64_WAT))
        .file("blob.bin", (0..3000u32).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>())
        .file("README.md", "# everything\n")
        .file("docs/LICENSE.txt", "MIT\n")
        .file(
            "annotations/serve.json",
            r#"{"wcgi": {"dialect": "rfc-3875"}, "wasi": {"env": ["PORT=80"], "atom": "hello"}, "n": -3, "big": 18446744073709551615, "f": 0.25, "nothing": null}"#,
        )
        .file(
            "annotations/yaml.yaml",
            "zeta: 1\nalpha:\n  - x\n  - 2.5\n  - ~\ntagged: !thing {k: v}\n7: seven\n",
        )
        // [fs] "/data"
        .file("data/hello.txt", "hello\n")
        .file("data/Zeta.txt", "capital first\n")
        .file("data/empty.txt", "")
        .file("data/.hidden", "hidden files are kept\n")
        .file("data/.git/HEAD", "ref: refs/heads/main\n")
        .file("data/sub/.git", "gitdir: elsewhere\n")
        .file("data/nested/a.txt", "a\n")
        .file("data/nested/dir/deep.txt", "deep\n")
        .dir("data/nested/empty-dir")
        .file("data/nested/ünicöde.txt", "ü\n")
        .file("data/日本語/ファイル.txt", "こんにちは\n")
        .file("data/big.bin", vec![0xabu8; 200_000])
        .symlink("data/link-to-hello", "hello.txt")
        .symlink("data/nested/dir/up-link", "../../hello.txt")
        .symlink("data/link-to-dir", "nested")
        .symlink("data/dangling", "does-not-exist")
        .symlink("data/dot-link", "./nested/./a.txt")
        // [fs] "/etc/app"
        .file("config/app.toml", "x = 1\n")
        .dir("config/empty")
        // [fs] "/lib"
        .file("lib/libc.so", "not really\n")
        .dir("libs")
        // [fs] "/single"
        .file("single.txt", "a mapped file\n");
    p.fix_times();
    let bytes = p.assert_same();

    let (_, file_name) = p.ours().unwrap();
    assert_eq!(file_name, "acme-everything-1.2.3-beta.1+build.5.webc");

    // Spot checks that the comparison above covers what we think it covers.
    let m = manifest_value(&bytes);
    assert_eq!(
        texts(get(
            &m,
            &["atoms", "simd", "annotations", "wasm", "features"]
        )),
        [
            "simd",
            "bulk-memory",
            "reference-types",
            "multi-value",
            "threads",
            "multi-memory"
        ]
    );
    assert!(
        texts(get(
            &m,
            &["atoms", "exceptions", "annotations", "wasm", "features"]
        ))
        .contains(&"exception-handling".to_owned())
    );
    assert!(get(&m, &["atoms", "blob", "annotations"]).is_none());
    assert_eq!(
        get(&m, &["atoms", "blob", "kind"]).and_then(Value::as_text),
        Some("https://example.org/kind/blob")
    );
    assert_eq!(
        keys(get(&m, &["atoms"])),
        [
            "Another",
            "blob",
            "bulk",
            "exceptions",
            "hello",
            "mem64",
            "multi",
            "relaxed",
            "simd",
            "tail"
        ]
    );
    assert_eq!(
        keys(get(&m, &["package", "wapm"])),
        [
            "license",
            "license-file",
            "readme",
            "repository",
            "homepage"
        ]
    );
    assert_eq!(
        get(&m, &["use", "acme/lib_x"]).and_then(Value::as_text),
        Some("acme/lib_x@^0.2")
    );
    assert_eq!(
        keys(get(&m, &["commands", "hello", "annotations", "wasi"])),
        ["atom", "env", "main-args", "cwd", "exec-name"]
    );
    assert_eq!(
        get(&m, &["commands", "yaml", "runner"]).and_then(Value::as_text),
        Some("https://webc.org/runner/my-runner")
    );
    assert_eq!(
        texts(get(
            &m,
            &["commands", "legacy", "annotations", "wasi", "main-args"]
        )),
        ["one", "two", "three"]
    );
    assert_eq!(
        get(
            &m,
            &["commands", "python", "annotations", "atom", "dependency"]
        )
        .and_then(Value::as_text),
        Some("wasmer/python")
    );

    let c = Container::from_bytes(bytes).unwrap();
    let names: Vec<&str> = c.volume_names().collect();
    assert_eq!(
        names,
        [
            "/config",
            "/data",
            "/data/日本語",
            "/lib",
            "/single.txt",
            "metadata"
        ]
    );
    let data = c.volume("/data").unwrap();
    assert!(data.lookup_nofollow("/.git").unwrap().is_none());
    assert!(data.lookup_nofollow("/sub/.git").unwrap().is_none());
    assert!(data.lookup_nofollow("/.hidden").unwrap().is_some());
    assert_eq!(
        data.lookup_nofollow("/link-to-hello")
            .unwrap()
            .unwrap()
            .symlink_target(),
        Some("hello.txt")
    );
    assert_eq!(
        &data.read_file("/日本語/ファイル.txt").unwrap()[..],
        "こんにちは\n".as_bytes()
    );
    assert_eq!(data.root().unwrap().modified(), Some(0));
    let metadata = c.volume("metadata").unwrap();
    assert!(metadata.lookup("/README.md").unwrap().is_some());
    assert_eq!(metadata.get("/docs").unwrap().modified(), Some(0));
}

/// `.wasmerignore` at the package root (applies to every `[fs]` walk through `parents`),
/// one in a subdirectory, negations, and `.git` then no longer skipped.
#[test]
fn wasmerignore_matches_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[package]
name = "acme/ignored"
version = "0.1.0"

[fs]
"/app" = "app"
"#,
    )
    .file(
        ".wasmerignore",
        "*.log\n!keep.log\nbuild/\n/app/secret.txt\n",
    )
    .file("app/main.txt", "main\n")
    .file("app/debug.log", "dropped\n")
    .file("app/keep.log", "kept\n")
    .file("app/secret.txt", "dropped\n")
    .file("app/build/out.o", "dropped\n")
    .file("app/src/build", "a file named build is kept\n")
    .file("app/.git/config", "kept: a .wasmerignore exists\n")
    .file("app/sub/.wasmerignore", "*.tmp\n")
    .file("app/sub/x.tmp", "dropped\n")
    .file("app/x.tmp", "kept: rule only below sub/\n")
    .dir("app/empty");
    p.fix_times();
    let bytes = p.assert_same();
    let c = Container::from_bytes(bytes).unwrap();
    let v = c.volume("/app").unwrap();
    for gone in ["/debug.log", "/secret.txt", "/build", "/sub/x.tmp"] {
        assert!(v.lookup_nofollow(gone).unwrap().is_none(), "{gone} kept");
    }
    for kept in [
        "/keep.log",
        "/src/build",
        "/.git/config",
        "/x.tmp",
        "/sub/.wasmerignore",
        "/empty",
    ] {
        assert!(v.lookup_nofollow(kept).unwrap().is_some(), "{kept} dropped");
    }
}

/// No `[package]`, no commands: the file name falls back to the package hash, the metadata
/// volume is present and empty, and a mapping of the package directory itself (`.`).
#[test]
fn bare_package_matches_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[[module]]
name = "only"
source = "only.wasm"

[fs]
"/" = "."
"#,
    )
    .file("only.wasm", wasm(MULTI_VALUE_WAT))
    .file("notes/a.txt", "a\n");
    p.fix_times();
    let bytes = p.assert_same();
    let (_, file_name) = p.ours().unwrap();
    assert_eq!(
        file_name,
        format!("{}.webc", webc_pack::package_hash(&bytes))
    );
    let c = Container::from_bytes(bytes).unwrap();
    assert_eq!(c.volume_names().collect::<Vec<_>>(), ["/", "metadata"]);
    assert!(
        c.volume("metadata")
            .unwrap()
            .read_dir("/")
            .unwrap()
            .is_empty()
    );
    assert!(
        c.volume("/")
            .unwrap()
            .lookup("/wasmer.toml")
            .unwrap()
            .is_some()
    );
    assert!(c.manifest().entrypoint.is_none());
}

/// A readme that does not exist is dropped from `wapm` and from the metadata volume; a
/// package with a name but no version gets `name-sha256:<hex>.webc`; `private`.
#[test]
fn missing_readme_and_unversioned_name_match_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[package]
name = "acme/unversioned"
readme = "README.md"
license-file = "LICENSE"
private = true

[[module]]
name = "hello"
source = "hello.wasm"

[[command]]
name = "run"
module = "hello"
runner = "wasi"
"#,
    )
    .file("hello.wasm", wasm(HELLO_WAT))
    .file("LICENSE", "MIT\n");
    p.fix_times();
    let bytes = p.assert_same();
    let (_, file_name) = p.ours().unwrap();
    assert_eq!(
        file_name,
        format!("acme-unversioned-{}.webc", webc_pack::package_hash(&bytes))
    );
    let m = manifest_value(&bytes);
    assert_eq!(
        keys(get(&m, &["package", "wapm"])),
        ["license-file", "private"]
    );
    assert_eq!(
        get(&m, &["entrypoint"]).and_then(Value::as_text),
        Some("run")
    );
}

/// WIT and WAI bindings: manifest `bindings` and their files in the metadata volume.
#[test]
fn bindings_match_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[package]
name = "acme/bindings"
version = "0.0.1"

[[module]]
name = "wit-mod"
source = "a.wasm"
bindings = { wit-bindgen = "0.4.0", wit-exports = "./wit/exports.wit" }

[[module]]
name = "wai-mod"
source = "a.wasm"
bindings = { wai-version = "0.2.0", exports = "wai/exports.wai", imports = ["wai/b.wai", "a.wai"] }
"#,
    )
    .file("a.wasm", wasm(SIMD_WAT))
    .file("wit/exports.wit", "interface x {}\n")
    .file("wai/exports.wai", "record r {}\n")
    .file("wai/b.wai", "b\n")
    .file("a.wai", "a\n");
    p.fix_times();
    let bytes = p.assert_same();
    let c = Container::from_bytes(bytes).unwrap();
    let meta = c.volume("metadata").unwrap();
    for f in [
        "/wit/exports.wit",
        "/wai/exports.wai",
        "/wai/b.wai",
        "/a.wai",
    ] {
        assert!(meta.lookup(f).unwrap().is_some(), "{f}");
    }
}

/// A mapped directory that is itself a symlink, and a readme that is a symlink.
#[test]
fn symlinked_mapping_and_readme_match_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[package]
name = "acme/links"
version = "2.0.0"
readme = "README"

[fs]
"/web" = "public"
"#,
    )
    .file("real/index.html", "<p>hi</p>\n")
    .symlink("public", "real")
    .file("docs/README.md", "read me\n")
    .symlink("README", "docs/README.md");
    p.fix_times();
    p.assert_same();
}

/// Annotation files whose top level is not a map are ignored, as in Wasmer; an inline
/// `annotations` value that is not a table too; `null` in JSON gives way to generated values.
#[test]
fn odd_annotations_match_wasmer() {
    let p = Project::new();
    p.manifest(
        r#"
[[module]]
name = "m"
source = "m.wasm"

[[command]]
name = "list"
module = "m"
runner = "wasi"
annotations = { file = "list.json", kind = "json" }

[[command]]
name = "scalar"
module = "m"
runner = "wasi"
annotations = "just a string"

[[command]]
name = "nulls"
module = "m"
runner = "wasi"
annotations = { file = "nulls.json", kind = "json" }

[[command]]
name = "notfile"
module = "m"
runner = "wasm4"
annotations = { file = "x", kind = "xml", other = 1 }
"#,
    )
    .file("m.wasm", wasm(BULK_MEMORY_WAT))
    .file("list.json", "[1, 2, 3]")
    .file(
        "nulls.json",
        r#"{"wasi": null, "atom": {"name": "m", "extra": null}}"#,
    );
    p.fix_times();
    p.assert_same();
}

/// A FIFO inside a mapped directory: Wasmer's walker stores anything that is neither a
/// file nor a symlink as an (empty) directory.
#[test]
fn special_files_match_wasmer() {
    let p = Project::new();
    p.manifest("[fs]\n\"/d\" = \"d\"\n").file("d/a.txt", "a\n");
    let status = std::process::Command::new("mkfifo")
        .arg(p.tmp.path().join("d/pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    p.fix_times();
    let bytes = p.assert_same();
    let c = Container::from_bytes(bytes).unwrap();
    assert!(c.volume("/d").unwrap().get("/pipe").unwrap().is_dir());
}

/// Feature detection on awkward inputs: invalid but parseable code, a custom section whose
/// name mentions exceptions, truncated and empty files, shared memory, GC types.
#[test]
fn feature_detection_edge_cases_match_wasmer() {
    let modules: [(&str, Vec<u8>); 8] = [
        (
            "invalid",
            wasm("(module (func (result i32) (i64.const 1)))"),
        ),
        (
            "custom",
            wasm(r#"(module (@custom "my-exception-table" "x") (func))"#),
        ),
        ("truncated", wasm(HELLO_WAT)[..20].to_vec()),
        ("empty", Vec::new()),
        ("header", b"\0asm\x01\0\0\0".to_vec()),
        ("shared", wasm("(module (memory 1 1 shared))")),
        (
            "gc",
            wasm(
                "(module (type $s (struct (field i32))) (func (result (ref null $s)) (ref.null $s)))",
            ),
        ),
        (
            "legacy-eh",
            wasm("(module (tag $e) (func try throw $e catch $e end))"),
        ),
    ];
    let p = Project::new();
    let mut toml = String::new();
    for (name, bytes) in &modules {
        p.file(&format!("{name}.wasm"), bytes);
        toml += &format!("[[module]]\nname = \"{name}\"\nsource = \"{name}.wasm\"\n\n");
    }
    p.manifest(&toml);
    p.fix_times();
    let bytes = p.assert_same();
    let m = manifest_value(&bytes);
    assert!(get(&m, &["atoms", "truncated", "annotations"]).is_none());
    assert!(get(&m, &["atoms", "empty", "annotations"]).is_none());
    assert!(
        texts(get(
            &m,
            &["atoms", "custom", "annotations", "wasm", "features"]
        ))
        .contains(&"exception-handling".to_owned())
    );
}

/// `runner = "emscripten"` (by name, by URI, old wapm-cli's `…/command@unstable_`), on a real
/// emcc-built module: the runner URI `https://webc.org/runner/emscripten` and, as Wasmer does
/// for every runner but WASI/WCGI, only the generated `atom` annotation; a user `emscripten`
/// annotation (inline or from a JSON file, nulls as the `webc` struct writes them) is kept
/// as written, and a dependency's module gets `atom.dependency`.
#[test]
fn emscripten_commands_match_wasmer() {
    let hello = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../runners/emscripten/tests/programs/hello.wasm"),
    )
    .unwrap();
    let p = Project::new();
    p.manifest(
        r#"
[package]
name = "acme/em"
version = "0.1.0"
entrypoint = "hello"

[dependencies]
"acme/lib" = "1"

[[module]]
name = "hello"
source = "hello.wasm"

[[command]]
name = "hello"
module = "hello"
runner = "emscripten"

[[command]]
name = "uri"
module = "hello"
runner = "https://webc.org/runner/emscripten"

[[command]]
name = "legacy"
module = "hello"
runner = "https://webc.org/runner/emscripten/command@unstable_"

[[command]]
name = "args"
module = "hello"
runner = "emscripten"
annotations = { emscripten = { main-args = ["a", "b c"], env = ["K=V"], atom = "hello" } }

[[command]]
name = "nulls"
module = "hello"
runner = "emscripten"
annotations = { file = "em.json", kind = "json" }

[[command]]
name = "dep"
module = "acme/lib:tool"
runner = "emscripten"
"#,
    )
    .file("hello.wasm", &hello)
    .file(
        "em.json",
        r#"{"emscripten": {"atom": "hello", "package": null, "env": null, "main-args": null}}"#,
    );
    p.fix_times();
    let bytes = p.assert_same();
    let m = manifest_value(&bytes);
    let runner = |cmd: &str| {
        get(&m, &["commands", cmd, "runner"])
            .and_then(Value::as_text)
            .unwrap()
            .to_owned()
    };
    for cmd in ["hello", "uri", "args", "nulls", "dep"] {
        assert_eq!(runner(cmd), "https://webc.org/runner/emscripten", "{cmd}");
    }
    assert_eq!(
        runner("legacy"),
        "https://webc.org/runner/emscripten/command@unstable_"
    );
    assert_eq!(
        keys(get(&m, &["commands", "hello", "annotations"])),
        ["atom"]
    );
    assert_eq!(
        get(&m, &["commands", "hello", "annotations", "atom", "name"]).and_then(Value::as_text),
        Some("hello")
    );
    assert_eq!(
        keys(get(&m, &["commands", "args", "annotations"])),
        ["atom", "emscripten"]
    );
    assert_eq!(
        keys(get(&m, &["commands", "args", "annotations", "emscripten"])),
        ["main-args", "env", "atom"]
    );
    assert_eq!(
        texts(get(
            &m,
            &["commands", "args", "annotations", "emscripten", "main-args"]
        )),
        ["a", "b c"]
    );
    assert_eq!(
        get(
            &m,
            &["commands", "nulls", "annotations", "emscripten", "env"]
        ),
        Some(&Value::Null)
    );
    assert_eq!(
        keys(get(&m, &["commands", "dep", "annotations", "atom"])),
        ["name", "dependency"]
    );
    assert_eq!(
        get(
            &m,
            &["commands", "dep", "annotations", "atom", "dependency"]
        )
        .and_then(Value::as_text),
        Some("acme/lib")
    );
}
