//! `webc-host runners [--plugins DIR]... [--json]`: list every runner found.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use webc_host::registry::{DirStatus, DiscoveryOptions, Origin, Registry, Source, Status};
use webc_runner_api::{OptionDoc, Serves};

use crate::cli::CmdResult;

/// List the runners this host can use, and why any cannot be used.
///
/// Searches the plugin directories in order — `--plugins` directories, `WEBC_HOST_PLUGINS`
/// (colon-separated), `<exe dir>/plugins`, the executable's own directory (only
/// `libwebc_runner_*.so` there), `$XDG_DATA_HOME/webc-host/plugins` — loads every plugin
/// and asks it whether it is available. For each runner: name, version, the runner URIs it
/// serves (with versions), atom kinds, priority, where it comes from, and its status: `ok`,
/// `unavailable: why`, `quarantined: why` (not a plugin, another interface version, a
/// name already taken, writable by others, ...) or `skipped: why` (a `*.so` that is not a
/// readable plugin file: a directory, a FIFO, a device, a dangling or looping symlink, a
/// file we may not read). Refused or missing plugin directories are listed after them.
#[derive(Debug, clap::Args)]
pub struct RunnersCommand {
    /// Also search DIR for plugins (repeatable; searched first, in order).
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    /// Print a JSON document instead (see docs/cli.md).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    runners: Vec<RunnerReport>,
    directories: Vec<DirReport>,
}

#[derive(Debug, Serialize)]
struct RunnerReport {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    serves: Vec<Serves>,
    atom_kinds: Vec<String>,
    priority: Option<i32>,
    /// The engine it is built on, when it says (`tract`, `ort`).
    backend: Option<String>,
    options: Vec<OptionDoc>,
    /// A path, or `static`.
    source: String,
    origin: Option<Origin>,
    /// `ok`, `unavailable`, `quarantined`, `skipped`.
    status: &'static str,
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct DirReport {
    path: PathBuf,
    origin: Origin,
    /// `searched`, `missing`, `refused`.
    status: &'static str,
    candidates: Option<usize>,
    reason: Option<String>,
}

impl RunnersCommand {
    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        let registry = Registry::discover(&DiscoveryOptions {
            plugin_dirs: self.plugins,
            ..DiscoveryOptions::default()
        });
        let report = report(&registry);
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if self.json {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        } else {
            print_human(&mut out, &report)?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}

fn report(registry: &Registry) -> Report {
    let runners = registry
        .entries()
        .iter()
        .map(|e| {
            let (status, reason) = match e.check() {
                Status::Ok => ("ok", None),
                Status::Unavailable(why) => ("unavailable", Some(why)),
                Status::Quarantined(why) => ("quarantined", Some(why)),
                Status::Skipped(why) => ("skipped", Some(why)),
            };
            let info = e.info();
            RunnerReport {
                name: info.map(|i| i.name.clone()),
                version: info.map(|i| i.version.clone()),
                description: info.map(|i| i.description.clone()),
                serves: info.map(|i| i.serves.clone()).unwrap_or_default(),
                atom_kinds: info.map(|i| i.atom_kinds.clone()).unwrap_or_default(),
                priority: info.map(|i| i.priority),
                backend: info.and_then(|i| i.backend.clone()),
                options: info.map(|i| i.options.clone()).unwrap_or_default(),
                source: e.source().to_string(),
                origin: match e.source() {
                    Source::Static => None,
                    Source::Plugin { origin, .. } => Some(*origin),
                },
                status,
                reason,
            }
        })
        .collect();
    let directories = registry
        .directories()
        .iter()
        .map(|d| {
            let (status, candidates, reason) = match &d.status {
                DirStatus::Searched { candidates } => ("searched", Some(*candidates), None),
                DirStatus::Missing => ("missing", None, None),
                DirStatus::Refused(why) => ("refused", None, Some(why.clone())),
            };
            DirReport {
                path: d.path.clone(),
                origin: d.origin,
                status,
                candidates,
                reason,
            }
        })
        .collect();
    Report {
        runners,
        directories,
    }
}

fn versions_text(s: &Serves) -> String {
    match s.versions.trim() {
        "" | "*" => "any version".into(),
        v => format!("versions {v}"),
    }
}

fn print_human(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    if report.runners.is_empty() {
        writeln!(out, "no runners found")?;
    }
    for (i, r) in report.runners.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let title = match (&r.name, &r.version) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            // Quarantined before it could describe itself: name it by its file.
            _ => std::path::Path::new(&r.source)
                .file_name()
                .map_or_else(|| r.source.clone(), |f| f.to_string_lossy().into_owned()),
        };
        match &r.reason {
            Some(why) => writeln!(out, "{title}: {}: {why}", r.status)?,
            None => writeln!(out, "{title}: {}", r.status)?,
        }
        if let Some(d) = r.description.as_deref().filter(|d| !d.is_empty()) {
            writeln!(out, "    {d}")?;
        }
        for s in &r.serves {
            writeln!(out, "    serves    {} ({})", s.uri, versions_text(s))?;
        }
        if r.name.is_some() {
            writeln!(out, "    atoms     {}", r.atom_kinds.join(", "))?;
        }
        if let Some(p) = r.priority {
            writeln!(out, "    priority  {p}")?;
        }
        if let Some(b) = &r.backend {
            writeln!(out, "    backend   {b}")?;
        }
        if !r.options.is_empty() {
            let keys: Vec<&str> = r.options.iter().map(|o| o.key.as_str()).collect();
            writeln!(out, "    options   {}", keys.join(", "))?;
        }
        match r.origin {
            Some(origin) => writeln!(out, "    source    {} ({origin})", r.source)?,
            None => writeln!(out, "    source    {}", r.source)?,
        }
    }
    // Directories worth mentioning: refused ones, and explicit ones that are missing.
    let notable: Vec<&DirReport> = report
        .directories
        .iter()
        .filter(|d| d.status == "refused" || (d.status == "missing" && d.origin.is_explicit()))
        .collect();
    if !notable.is_empty() {
        writeln!(out)?;
    }
    for d in notable {
        match &d.reason {
            Some(why) => writeln!(
                out,
                "plugin directory {} ({}): {}: {why}",
                d.path.display(),
                d.origin,
                d.status
            )?,
            None => writeln!(
                out,
                "plugin directory {} ({}): {}",
                d.path.display(),
                d.origin,
                d.status
            )?,
        }
    }
    Ok(())
}
