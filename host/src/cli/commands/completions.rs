//! `webc-host completions SHELL`: print a shell completion script.

use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::cli::{Cli, CmdResult};

/// Print a completion script for SHELL on stdout.
///
/// bash: `webc-host completions bash > ~/.local/share/bash-completion/completions/webc-host`;
/// zsh: `webc-host completions zsh > "${fpath[1]}/_webc-host"`;
/// fish: `webc-host completions fish > ~/.config/fish/completions/webc-host.fish`.
#[derive(Debug, clap::Args)]
pub struct CompletionsCommand {
    /// The shell.
    #[arg(value_name = "SHELL")]
    shell: clap_complete::Shell,
}

impl CompletionsCommand {
    /// Writes the script.
    pub fn execute(self) -> CmdResult {
        let mut cmd = Cli::command();
        let mut out = std::io::stdout().lock();
        clap_complete::generate(self.shell, &mut cmd, "webc-host", &mut out);
        Ok(ExitCode::SUCCESS)
    }
}
