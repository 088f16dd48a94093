//! `webc-host inspect PKG [--json]`: what a package contains.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use webc_container::{Container, EntryKind, Volume};
use webc_host::PackageInfo;
use webc_host::inspect::{AtomInfo, VolumeInfo};

use crate::cli::{CmdResult, human_size, open_package};

/// Entries listed per directory unless `--all` is given.
const DEFAULT_MAX_ENTRIES: usize = 50;

/// Show a package: metadata, atoms, commands, fs mappings and volume trees.
///
/// Prints the container version, the package hash (sha256 of the whole file), the
/// package metadata, the atoms (kind, size, whether the manifest signature matches), the
/// commands (runner, atom, annotations as JSON), the `fs` mappings and each volume as a
/// tree with sizes and symlink targets.
///
/// Human output lists at most 50 entries per directory (then `… N more entries`);
/// `--all` lists everything, `--depth N` stops descending after N levels. `--json`
/// always contains every entry and is described in docs/inspect-json.md. A volume whose
/// directories nest deeper than 256 levels, or share a directory record, is refused.
#[derive(Debug, clap::Args)]
pub struct InspectCommand {
    /// The .webc file.
    #[arg(value_name = "PKG")]
    package: PathBuf,
    /// Print the stable JSON document (docs/inspect-json.md) instead of text.
    #[arg(long)]
    json: bool,
    /// Show at most this many directory levels of each volume (0: only the summary line).
    #[arg(long, value_name = "N", conflicts_with = "json")]
    depth: Option<usize>,
    /// List every entry of every directory (default: the first 50 of each).
    #[arg(long, conflicts_with = "json")]
    all: bool,
}

impl InspectCommand {
    /// Runs the command.
    pub fn execute(self) -> CmdResult {
        let container = open_package(&self.package)?;
        // The text form prints trees straight from the volumes (bounded by --depth and the
        // per-directory limit); only JSON needs every entry's path in memory.
        let info = if self.json {
            PackageInfo::from_container(&container)?
        } else {
            PackageInfo::summary(&container)?
        };
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if self.json {
            // `io::Error::from` keeps the original I/O error (a closed pipe stays recognisable).
            serde_json::to_writer_pretty(&mut out, &info).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            let limits = TreeLimits {
                depth: self.depth.unwrap_or(usize::MAX),
                max_entries: if self.all {
                    usize::MAX
                } else {
                    DEFAULT_MAX_ENTRIES
                },
            };
            self.print_human(&mut out, &container, &info, limits)?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    }

    fn print_human(
        &self,
        out: &mut impl Write,
        container: &Container,
        info: &PackageInfo,
        limits: TreeLimits,
    ) -> anyhow::Result<()> {
        writeln!(out, "file:          {}", self.package.display())?;
        writeln!(out, "webc version:  {}", info.version)?;
        writeln!(
            out,
            "size:          {} bytes ({})",
            info.size,
            human_size(info.size)
        )?;
        writeln!(out, "package hash:  {}", info.package_hash)?;
        if let Some(p) = &info.package {
            let name = p.name.as_deref().unwrap_or("(unnamed)");
            match &p.version {
                Some(v) => writeln!(out, "package:       {name}@{v}")?,
                None => writeln!(out, "package:       {name}")?,
            }
            let fields = [
                ("description", p.description.clone()),
                ("license", p.license.clone()),
                ("repository", p.repository.clone()),
                ("homepage", p.homepage.clone()),
                (
                    "readme",
                    p.readme
                        .as_ref()
                        .map(|r| format!("{}:{}", r.volume, r.path)),
                ),
                (
                    "license file",
                    p.license_file
                        .as_ref()
                        .map(|r| format!("{}:{}", r.volume, r.path)),
                ),
            ];
            for (label, value) in fields {
                if let Some(value) = value {
                    writeln!(out, "  {:<12} {value}", format!("{label}:"))?;
                }
            }
        } else {
            writeln!(out, "package:       (no package metadata)")?;
        }
        if let Some(e) = &info.entrypoint {
            writeln!(out, "entrypoint:    {e}")?;
        }

        writeln!(out, "\natoms ({}):", info.atoms.len())?;
        if !info.atoms.is_empty() {
            let rows: Vec<[String; 4]> = info.atoms.iter().map(atom_row).collect();
            let header = [
                "NAME".to_owned(),
                "KIND".to_owned(),
                "SIZE".to_owned(),
                "SIGNATURE OK".to_owned(),
            ];
            table(out, &header, &rows)?;
        }

        writeln!(out, "\ncommands ({}):", info.commands.len())?;
        for c in &info.commands {
            let default = if info.default_command.as_deref() == Some(c.name.as_str()) {
                "  (default)"
            } else {
                ""
            };
            writeln!(out, "  {}{default}", c.name)?;
            writeln!(out, "    runner:      {}", c.runner)?;
            writeln!(
                out,
                "    atom:        {}",
                c.atom.as_deref().unwrap_or("(none)")
            )?;
            writeln!(
                out,
                "    annotations: {}",
                serde_json::to_string(&c.annotations)?
            )?;
        }

        writeln!(out, "\nfs mappings ({}):", info.fs.len())?;
        for m in &info.fs {
            let from = m
                .from
                .as_deref()
                .map(|f| format!(" of dependency {f:?}"))
                .unwrap_or_default();
            let sub = m
                .host_path
                .as_deref()
                .map(|p| format!(" at {p}"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} <- volume {:?}{sub}{from}",
                m.mount_path, m.volume
            )?;
        }

        writeln!(out, "\nvolumes ({}):", info.volumes.len())?;
        for v in &info.volumes {
            writeln!(out, "  {:?}: {}", v.name, volume_summary(v))?;
            if limits.depth > 0 {
                let volume = container.volume(&v.name)?;
                print_tree(out, &volume, limits)?;
            }
        }
        Ok(())
    }
}

fn atom_row(a: &AtomInfo) -> [String; 4] {
    let ok = if a.signature_ok {
        "yes".to_owned()
    } else if !a.stored {
        "no (not stored)".to_owned()
    } else if !a.in_manifest {
        "no (not in manifest)".to_owned()
    } else {
        "no (mismatch)".to_owned()
    };
    [
        a.name.clone(),
        a.kind.clone().unwrap_or_else(|| "-".into()),
        a.size.map(human_size).unwrap_or_else(|| "-".into()),
        ok,
    ]
}

fn table(out: &mut impl Write, header: &[String; 4], rows: &[[String; 4]]) -> std::io::Result<()> {
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::from(" ");
        for (i, cell) in row.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 1;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn volume_summary(v: &VolumeInfo) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}, {}, {}, {} total",
        plural(v.files, "file", "files"),
        plural(v.dirs, "dir", "dirs"),
        plural(v.symlinks, "symlink", "symlinks"),
        human_size(v.total_size)
    )
}

#[derive(Debug, Clone, Copy)]
struct TreeLimits {
    depth: usize,
    max_entries: usize,
}

/// Prints a volume like `tree`: `├──`/`└──` branches, sizes, `-> target` for symlinks,
/// `/` after directories. Iterative, so deep hostile nesting cannot overflow the stack.
fn print_tree(out: &mut impl Write, volume: &Volume, limits: TreeLimits) -> anyhow::Result<()> {
    let root = volume.root()?;
    let children = volume.entries(&root)?.unwrap_or_default();
    // Each frame: the prefix for its children, its entries, the next index, total count.
    let mut stack: Vec<(String, Vec<webc_container::DirEntry>, usize, usize)> = Vec::new();
    let total = children.len();
    stack.push(("    ".to_owned(), children, 0, total));
    loop {
        let level = stack.len();
        let Some((prefix, entries, next, total)) = stack.last_mut() else {
            break;
        };
        let shown = entries.len().min(limits.max_entries);
        if *next >= shown {
            if *total > shown {
                writeln!(out, "{prefix}└── … {} more entries", *total - shown)?;
            }
            stack.pop();
            continue;
        }
        let i = *next;
        *next += 1;
        let last = i + 1 == shown && *total == shown;
        let entry = &entries[i];
        let branch = if last { "└── " } else { "├── " };
        let node = &entry.node;
        let label = match node.kind() {
            EntryKind::File => format!("{}  {}", entry.name, human_size(node.len())),
            EntryKind::Symlink => format!(
                "{} -> {}",
                entry.name,
                node.symlink_target().unwrap_or_default()
            ),
            EntryKind::Dir => format!("{}/", entry.name),
        };
        let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
        if node.kind() == EntryKind::Dir {
            if level >= limits.depth {
                let n = volume.entry_count(node)?;
                let suffix = if n == 0 {
                    String::new()
                } else {
                    format!("  ({n} entries not shown)")
                };
                writeln!(out, "{prefix}{branch}{label}{suffix}")?;
                continue;
            }
            writeln!(out, "{prefix}{branch}{label}")?;
            let children = volume.entries(node)?.unwrap_or_default();
            let n = children.len();
            stack.push((child_prefix, children, 0, n));
        } else {
            writeln!(out, "{prefix}{branch}{label}")?;
        }
    }
    Ok(())
}
