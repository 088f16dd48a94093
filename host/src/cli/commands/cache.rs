//! `webc-host cache list|clean`: look at or empty the cache.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use webc_host::cache::Cache;

use crate::cli::{CmdResult, human_size};

/// Manage the cache of precompiled artifacts, verified atoms and materialised volumes.
#[derive(Debug, clap::Args)]
pub struct CacheCommand {
    /// What to do.
    #[command(subcommand)]
    action: CacheAction,
    /// Cache directory (default: WEBC_HOST_CACHE, $XDG_CACHE_HOME/webc-host, ~/.cache/webc-host).
    #[arg(long = "cache-dir", value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
}

/// `cache` actions.
#[derive(Debug, clap::Subcommand)]
enum CacheAction {
    /// List every cached file with its size.
    List,
    /// Delete everything in the cache.
    Clean,
}

impl CacheCommand {
    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        let cache = Cache::open(&Cache::locate(self.cache_dir.as_deref())?)?;
        let mut out = std::io::stdout().lock();
        match self.action {
            CacheAction::List => {
                let entries = cache.list()?;
                for e in &entries {
                    writeln!(out, "{:>10}  {}", human_size(e.size), e.path)?;
                }
                let total: u64 = entries.iter().map(|e| e.size).sum();
                writeln!(
                    out,
                    "{} entries, {} in {}",
                    entries.len(),
                    human_size(total),
                    cache.root().display()
                )?;
            }
            CacheAction::Clean => {
                let freed = cache.clean()?;
                writeln!(
                    out,
                    "freed {} in {}",
                    human_size(freed),
                    cache.root().display()
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
