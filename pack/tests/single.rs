//! Packages built without Wasmer's help: single-atom packages and ONNX modules in a
//! wasmer.toml (our extension: module kind `onnx`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use bytes::Bytes;
use webc_container::Container;
use webc_pack::{KIND_ONNX, Package, RUNNER_ONNX};

fn open(pkg: &Package) -> Container {
    Container::from_bytes(pkg.to_bytes().unwrap()).unwrap()
}

#[test]
fn wasmer_toml_module_kind_onnx_and_runner_onnx() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.onnx"), b"\x08\x07model").unwrap();
    std::fs::write(
        dir.path().join("wasmer.toml"),
        "[package]\nname = \"ex/model\"\nversion = \"0.1.0\"\n\n\
         [[module]]\nname = \"mlp\"\nsource = \"model.onnx\"\nkind = \"onnx\"\n\n\
         [[command]]\nname = \"infer\"\nmodule = \"mlp\"\nrunner = \"onnx\"\n",
    )
    .unwrap();
    let c = open(&Package::from_dir(dir.path()).unwrap());
    let m = c.manifest();
    let (_, atom) = m.atoms().find(|(n, _)| *n == "mlp").unwrap();
    assert_eq!(atom.kind, KIND_ONNX);
    assert_eq!(m.command("infer").unwrap().runner, RUNNER_ONNX);
    assert_eq!(m.command_atom("infer").as_deref(), Some("mlp"));
}

#[test]
fn from_wasm_and_from_onnx_make_one_command_packages() {
    let c = open(&Package::from_wasm(
        "a/b:c",
        Bytes::from_static(b"\0asm\x01\0\0\0"),
    ));
    let m = c.manifest();
    assert_eq!(m.default_command(), Some("a_b_c"));
    assert_eq!(m.command_atom("a_b_c").as_deref(), Some("a_b_c"));
    assert!(c.verified_atom("a_b_c").is_ok());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.onnx");
    std::fs::write(&path, b"\x08\x07rest").unwrap();
    let pkg = Package::from_onnx(&path).unwrap();
    assert_eq!(pkg.file_name, "net.webc");
    let c = open(&pkg);
    assert_eq!(c.manifest().default_command(), Some("infer"));
    assert_eq!(c.manifest().command_atom("infer").as_deref(), Some("net"));
    assert_eq!(&c.verified_atom("net").unwrap()[..], b"\x08\x07rest");

    std::fs::write(&path, b"").unwrap();
    let e = Package::from_onnx(&path).unwrap_err().to_string();
    assert!(
        e.contains("not an ONNX model") && e.contains("empty"),
        "{e}"
    );
}

/// `models/*.webc` are what `webc-host pack --onnx models/<name>.onnx` writes today
/// (regenerate: `for m in models/*.onnx; do webc-host pack --force --onnx "$m" -o "${m%.onnx}.webc"; done`).
#[test]
fn committed_model_packages_are_up_to_date() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut seen = 0;
    for entry in std::fs::read_dir(&models).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("onnx") {
            continue;
        }
        let webc = path.with_extension("webc");
        let expected = Package::from_onnx(&path).unwrap().to_bytes().unwrap();
        let committed = std::fs::read(&webc).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (pack it with webc-host pack --onnx)",
                webc.display()
            )
        });
        assert!(
            committed == expected,
            "{} is stale: repack it with `webc-host pack --force --onnx {} -o {}`",
            webc.display(),
            path.display(),
            webc.display()
        );
        seen += 1;
    }
    assert!(seen >= 4, "expected the models/ packages, found {seen}");
}
