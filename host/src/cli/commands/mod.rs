//! One module per subcommand, each with an `XCommand` (clap arguments) and its `execute`.

pub mod extract;
pub mod inspect;
pub mod pack;
pub mod verify;
