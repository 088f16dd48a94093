//! Exports [`webc_runner_wasi::WasiRunner`] as a plugin.

webc_runner_api::export_runner!(webc_runner_wasi::WasiRunner::default());
