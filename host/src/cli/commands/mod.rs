//! One module per subcommand, each with an `XCommand` (clap arguments) and its `execute`.

pub mod cache;
pub mod completions;
pub mod extract;
pub mod inspect;
pub mod pack;
pub mod run;
pub mod runners;
pub mod verify;
