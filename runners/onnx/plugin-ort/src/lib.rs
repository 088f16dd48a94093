//! Exports [`webc_runner_onnx::OnnxOrtRunner`] (runner `onnx-ort`) as the plugin
//! `libwebc_runner_onnx_ort.so`; built with only the rlib's `ort` feature (ONNX Runtime is
//! dlopened at run time, see [`webc_runner_onnx::find_onnxruntime`]).

webc_runner_api::export_runner!(webc_runner_onnx::OnnxOrtRunner::new());
