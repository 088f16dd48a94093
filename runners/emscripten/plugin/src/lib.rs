//! Exports [`webc_runner_emscripten::EmscriptenRunner`] as a plugin.

webc_runner_api::export_runner!(webc_runner_emscripten::EmscriptenRunner::default());
