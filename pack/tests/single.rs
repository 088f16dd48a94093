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
