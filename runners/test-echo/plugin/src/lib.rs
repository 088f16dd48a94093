//! Exports [`webc_runner_test_echo::EchoRunner`] as a plugin.

webc_runner_api::export_runner!(webc_runner_test_echo::EchoRunner);
