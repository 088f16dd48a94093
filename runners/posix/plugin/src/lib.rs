//! Exports [`webc_runner_posix::PosixRunner`] as a plugin.

webc_runner_api::export_runner!(webc_runner_posix::PosixRunner::default());
