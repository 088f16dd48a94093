//! The format's well-known names, defined once: runner URIs (what a command's `runner`
//! says) and atom kinds (what an atom's `kind` says). The host, the runners and the package
//! tools all use these, so a spelling cannot drift between them.
//!
//! A manifest may spell a runner with a version or a `/command` suffix:
//! `https://webc.org/runner/wasi@unstable_` and `https://webc.org/runner/wasi/command@unstable_`
//! are both the WASI runner (`webc_runner_api::uri::RunnerUri` normalises them; unlike
//! Wasmer's prefix match, `…/wasi-nn` is not WASI).

/// URI of the WASI runner.
pub const RUNNER_WASI: &str = "https://webc.org/runner/wasi";
/// URI of the WCGI runner.
pub const RUNNER_WCGI: &str = "https://webc.org/runner/wcgi";
/// URI of the Emscripten runner.
pub const RUNNER_EMSCRIPTEN: &str = "https://webc.org/runner/emscripten";
/// URI of the WASM-4 runner.
pub const RUNNER_WASM4: &str = "https://webc.org/runner/wasm4";
/// URI of the ONNX runner (`infer` over an ONNX model atom).
pub const RUNNER_ONNX: &str = "https://webc.org/runner/onnx";
/// URI of the TensorFlow runner (a SavedModel atom).
pub const RUNNER_TENSORFLOW: &str = "https://webc.org/runner/tensorflow";
/// URI of the sandboxed POSIX runner (a native ELF atom).
pub const RUNNER_POSIX: &str = "https://webc.org/runner/posix";

/// Atom kind of WebAssembly modules (also what an absent or `"wasm"` kind means).
pub const KIND_WASM: &str = "https://webc.org/kind/wasm";
/// Atom kind of ONNX models.
pub const KIND_ONNX: &str = "https://webc.org/kind/onnx";
/// Atom kind of TensorFlow SavedModels.
pub const KIND_TENSORFLOW_SAVED_MODEL: &str = "https://webc.org/kind/tensorflow-SavedModel";
/// Atom kind of native ELF executables.
pub const KIND_ELF: &str = "https://webc.org/kind/elf";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_formats_spellings() {
        let runners = [
            (RUNNER_WASI, "wasi"),
            (RUNNER_WCGI, "wcgi"),
            (RUNNER_EMSCRIPTEN, "emscripten"),
            (RUNNER_WASM4, "wasm4"),
            (RUNNER_ONNX, "onnx"),
            (RUNNER_TENSORFLOW, "tensorflow"),
            (RUNNER_POSIX, "posix"),
        ];
        for (uri, name) in runners {
            assert_eq!(uri.strip_prefix("https://webc.org/runner/"), Some(name));
        }
        let kinds = [
            (KIND_WASM, "wasm"),
            (KIND_ONNX, "onnx"),
            (KIND_TENSORFLOW_SAVED_MODEL, "tensorflow-SavedModel"),
            (KIND_ELF, "elf"),
        ];
        for (uri, name) in kinds {
            assert_eq!(uri.strip_prefix("https://webc.org/kind/"), Some(name));
        }
    }

    /// The manifest module's names are the same constants (kept for existing callers).
    #[test]
    fn manifest_reexports_are_these() {
        assert_eq!(crate::manifest::RUNNER_WASI, RUNNER_WASI);
        assert_eq!(crate::manifest::RUNNER_WCGI, RUNNER_WCGI);
        assert_eq!(crate::manifest::RUNNER_EMSCRIPTEN, RUNNER_EMSCRIPTEN);
        assert_eq!(crate::manifest::RUNNER_WASM4, RUNNER_WASM4);
        assert_eq!(crate::manifest::KIND_WASM, KIND_WASM);
    }
}
