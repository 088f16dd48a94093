//! Exports [`webc_runner_onnx::OnnxTractRunner`] (runner `onnx-tract`) as the plugin
//! `libwebc_runner_onnx_tract.so`; built with only the rlib's `tract` feature.

webc_runner_api::export_runner!(webc_runner_onnx::OnnxTractRunner::new());
