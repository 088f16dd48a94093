//! Writing a container's atoms and volumes to disk, safely.
//!
//! A container is untrusted input, so [`extract`] refuses anything that could land outside
//! the destination: names that are not single path segments, volume names that do not map
//! to a relative directory (see [`volume_dir`]), and symlinks whose target is absolute or
//! climbs above the volume root — checked both lexically (the rule the container writer
//! applies) and by resolving the link inside the container's tree, which catches a `..`
//! that climbs through another symlink (`s -> ../..`, `t -> ../s/../..`). File contents are
//! checked against the SHA-256 the container records (v2/v3) as they are written.
//!
//! Nothing is written before the whole package has been checked: every selected volume
//! is walked once (the walk refuses directory records shared between entries and nesting
//! deeper than [`webc_container::MAX_DEPTH`]), and the content it would write is added up
//! and held against an **output budget** ([`ExtractOptions::max_output`]; by default
//! [`default_output_budget`]: 16 × the package's size, at least 1 GiB). Overlapping file
//! ranges are legal in webc, so a 1 MB package can describe gigabytes of files; a package
//! over budget is refused before the destination is touched.
//!
//! Everything is first written into a fresh staging directory inside the destination
//! (`DEST/.webc-extract-XXXXXX`), each file through a temporary file that is fsynced and
//! renamed; only when the whole package has been written are `atoms/<name>` files and
//! `volumes/<dir>` trees renamed into place, replacing what was there. A refusal or an
//! error therefore leaves the destination as it was, and the staging directory is removed.
//! Existing content the package does not provide is left alone; the library never writes
//! through a symlink it did not create.

use std::fs;
#[cfg(unix)]
use std::fs::Permissions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use webc_container::{Container, EntryKind, Node, Volume};

use crate::error::{Error, Result};

/// What to extract.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Write the atoms to `DEST/atoms/<name>`.
    pub atoms: bool,
    /// Volumes to write to `DEST/volumes/<dir>`: `None` = all, `Some(names)` = only these.
    pub volumes: Option<Vec<String>>,
    /// Most bytes of file content (atoms included) to write: `None` =
    /// [`default_output_budget`] of the package's size.
    pub max_output: Option<u64>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            atoms: true,
            volumes: None,
            max_output: None,
        }
    }
}

/// The default output budget multiplies the package's size by this...
pub const OUTPUT_BUDGET_FACTOR: u64 = 16;
/// ...and is never less than this (1 GiB).
pub const MIN_OUTPUT_BUDGET: u64 = 1 << 30;

/// The default extraction budget for a package of `package_len` bytes:
/// `max(16 × package_len, 1 GiB)`. webc stores every file uncompressed, so a package
/// Wasmer wrote extracts to about its own size; only overlapping (shared) content ranges
/// make more.
pub fn default_output_budget(package_len: u64) -> u64 {
    package_len
        .saturating_mul(OUTPUT_BUDGET_FACTOR)
        .max(MIN_OUTPUT_BUDGET)
}

/// `1234 B`, `2.9 KiB`, `1.0 MiB`, … (binary units, one decimal): sizes in messages and in
/// the command line's output.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// What [`extract`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Atoms written.
    pub atoms: u64,
    /// Volumes written.
    pub volumes: u64,
    /// Regular files written (atoms included).
    pub files: u64,
    /// Directories created below the volume roots.
    pub dirs: u64,
    /// Symlinks created.
    pub symlinks: u64,
    /// Bytes of file content written (atoms included).
    pub bytes: u64,
}

/// Follows an extraction as it goes (see [`extract_with_progress`]): a command line draws a
/// progress bar from it, an embedder may log it. Both methods do nothing by default; `()`
/// is the implementation that ignores everything.
pub trait ExtractProgress {
    /// The package has been checked and writing begins: `files` regular files (atoms
    /// included) holding `bytes` bytes of content will be written.
    fn start(&mut self, files: u64, bytes: u64) {
        let _ = (files, bytes);
    }
    /// One more regular file, `bytes` long, has been written.
    fn wrote_file(&mut self, bytes: u64) {
        let _ = bytes;
    }
}

impl ExtractProgress for () {}

/// Is `name` usable as one path segment on disk?
fn segment_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("empty name")
    } else if name == "." || name == ".." {
        Some("name is `.` or `..`")
    } else if name.contains('/') {
        Some("name contains `/`")
    } else if name.contains('\\') && cfg!(windows) {
        Some("name contains `\\`")
    } else if name.contains('\0') {
        Some("name contains a NUL byte")
    } else {
        None
    }
}

/// The directory (relative to `DEST/volumes`) a volume is extracted to.
///
/// Leading `/`s are dropped and the rest is split at `/`: `/assets` → `assets`, `atom` →
/// `atom`, `wasmer/python/lib` → `wasmer/python/lib`. Names that leave nothing (`/`, ``),
/// or have an empty, `.` or `..` segment or a NUL byte are refused.
///
/// # Errors
/// [`Error::UnsafeName`] when the name cannot be mapped safely.
pub fn volume_dir(name: &str) -> Result<PathBuf> {
    let refuse = |reason: &str| Error::UnsafeName {
        what: "volume",
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = name.trim_start_matches('/');
    if rest.is_empty() {
        return Err(refuse("the name has no path segment to use as a directory"));
    }
    let mut out = PathBuf::new();
    for seg in rest.split('/') {
        if let Some(problem) = segment_problem(seg) {
            return Err(refuse(&format!("segment {seg:?}: {problem}")));
        }
        out.push(seg);
    }
    Ok(out)
}

/// Checks a symlink target lexically, with the rule the container writer applies: relative,
/// no `\` or `:` in a segment, and never climbing above the volume root when the link sits
/// in a directory `dir_depth` levels below it.
///
/// # Errors
/// The reason the target is refused.
pub fn check_symlink_target(target: &str, dir_depth: usize) -> std::result::Result<(), String> {
    if target.is_empty() {
        return Err("empty symlink target".into());
    }
    if target.contains('\0') {
        return Err(format!("symlink target {target:?} contains a NUL byte"));
    }
    if target.starts_with(['/', '\\']) {
        return Err(format!("symlink target {target:?} is absolute"));
    }
    let mut depth = dir_depth as i64;
    for seg in target.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if seg.contains([':', '\\']) {
            return Err(format!(
                "symlink target {target:?} has a segment with `:` or `\\`"
            ));
        }
        depth += if seg == ".." { -1 } else { 1 };
        if depth < 0 {
            return Err(format!(
                "symlink target {target:?} climbs above the volume root"
            ));
        }
    }
    Ok(())
}

/// Extracts `container` into `dest` (created if missing): atoms to `dest/atoms/<name>`,
/// volumes to `dest/volumes/<volume_dir(name)>/…`. Files get the container's v3
/// modification times (directories and symlinks too); atoms keep the extraction time.
///
/// # Errors
/// An unsafe name or entry ([`Error::UnsafeName`], [`Error::UnsafeEntry`]), a malformed
/// container, two volumes mapping to overlapping directories, a destination path that is
/// not a directory, or an I/O failure. The destination is left unchanged on refusals and
/// on errors before the final renames.
pub fn extract(
    container: &Container,
    dest: &Path,
    options: &ExtractOptions,
) -> Result<ExtractSummary> {
    extract_with_progress(container, dest, options, &mut ())
}

/// [`extract`], telling `progress` how much will be written once the package has been
/// checked, and then each file as it is written.
///
/// # Errors
/// As [`extract`].
pub fn extract_with_progress(
    container: &Container,
    dest: &Path,
    options: &ExtractOptions,
    progress: &mut dyn ExtractProgress,
) -> Result<ExtractSummary> {
    // Plan first: everything that can be refused without writing is refused here.
    let names: Vec<String> = match &options.volumes {
        Some(selected) => {
            for name in selected {
                container.volume(name)?;
            }
            let mut v = selected.clone();
            v.sort();
            v.dedup();
            v
        }
        None => container.volume_names().map(str::to_owned).collect(),
    };
    let mut plan: Vec<(String, PathBuf)> = Vec::with_capacity(names.len());
    for name in names {
        let dir = volume_dir(&name)?;
        if let Some((other, _)) = plan
            .iter()
            .find(|(_, d)| d.starts_with(&dir) || dir.starts_with(d))
        {
            return Err(Error::UnsafeName {
                what: "volume",
                name,
                reason: format!(
                    "it maps to the same or an enclosing directory as volume {other:?} \
                     (extract them one at a time)"
                ),
            });
        }
        plan.push((name, dir));
    }
    let atom_names = if options.atoms {
        container.atom_names()?
    } else {
        Vec::new()
    };
    let mut output = 0u64;
    let mut files = 0u64;
    for name in &atom_names {
        if let Some(problem) = segment_problem(name) {
            return Err(Error::UnsafeName {
                what: "atom",
                name: name.clone(),
                reason: problem.into(),
            });
        }
        if let Some(node) = container.atom_node(name)? {
            output = output.saturating_add(node.len());
            files += 1;
        }
    }
    // The same structural checks `inspect` and `verify` apply (shared directory records,
    // nesting), and the bytes the package would write, before anything is written.
    for (name, _) in &plan {
        container.volume(name)?.walk(|_, entry| {
            if entry.node.is_file() {
                output = output.saturating_add(entry.node.len());
                files += 1;
            }
            Ok(())
        })?;
    }
    let package_len = container.as_bytes().len() as u64;
    let budget = options
        .max_output
        .unwrap_or_else(|| default_output_budget(package_len));
    if output > budget {
        let default = if options.max_output.is_none() {
            format!(
                " (the default: {OUTPUT_BUDGET_FACTOR} × the package's {}, at least {})",
                human_size(package_len),
                human_size(MIN_OUTPUT_BUDGET)
            )
        } else {
            String::new()
        };
        return Err(webc_container::Error::Limit {
            what: "to extract the package".into(),
            reason: format!(
                "its {files} files hold {} ({output} bytes; file ranges may overlap), more than \
                 the output budget of {} ({budget} bytes){default}; raise it with --max-output SIZE",
                human_size(output),
                human_size(budget),
            ),
        }
        .into());
    }

    match fs::metadata(dest) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::Destination {
                path: dest.to_owned(),
                reason: "exists and is not a directory".into(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dest).map_err(Error::io(dest))?;
        }
        Err(e) => return Err(Error::io(dest)(e)),
    }
    let staging = tempfile::Builder::new()
        .prefix(".webc-extract-")
        .tempdir_in(dest)
        .map_err(Error::io(dest))?;
    let stage: PathBuf = staging.path().to_owned();
    // Removed by the CLI's signal handling if the process is interrupted meanwhile.
    let _interrupt = crate::interrupt::Temporary::register(&stage);
    let mut summary = ExtractSummary::default();
    progress.start(files, output);

    if !atom_names.is_empty() {
        let dir = stage.join("atoms");
        fs::create_dir(&dir).map_err(Error::io(&dir))?;
        let atoms = container.atoms_volume();
        for name in &atom_names {
            let node =
                container
                    .atom_node(name)?
                    .ok_or_else(|| webc_container::Error::Missing {
                        what: "atom",
                        name: name.clone(),
                    })?;
            let data = atoms.file_content(&node).unwrap_or_default();
            check_hash(&node, &data, "atoms", name)?;
            write_file(&dir, name, &data, None)?;
            progress.wrote_file(data.len() as u64);
            summary.atoms += 1;
            summary.files += 1;
            summary.bytes += data.len() as u64;
        }
    }

    let mut roots: Vec<(PathBuf, Option<u64>)> = Vec::new();
    for (name, rel) in &plan {
        let volume = container.volume(name)?;
        let root_dir = stage.join("volumes").join(rel);
        fs::create_dir_all(&root_dir).map_err(Error::io(&root_dir))?;
        let root = volume.root()?;
        extract_volume(&volume, &root_dir, &mut summary, progress)?;
        roots.push((rel.clone(), root.modified()));
        summary.volumes += 1;
    }

    // Commit: move each finished piece into place.
    if !atom_names.is_empty() {
        let target = dest.join("atoms");
        ensure_real_dir(&target)?;
        for name in &atom_names {
            let from = stage.join("atoms").join(name);
            let to = target.join(name);
            fs::rename(&from, &to).map_err(Error::io(&to))?;
        }
    }
    for (rel, modified) in roots {
        let mut parent = dest.join("volumes");
        ensure_real_dir(&parent)?;
        let mut components: Vec<_> = rel.components().collect();
        let last = components.pop();
        for c in components {
            parent.push(c);
            ensure_real_dir(&parent)?;
        }
        let Some(last) = last else { continue };
        let to = parent.join(last);
        match fs::symlink_metadata(&to) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&to).map_err(Error::io(&to))?,
            Ok(_) => fs::remove_file(&to).map_err(Error::io(&to))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&to)(e)),
        }
        let from = stage.join("volumes").join(&rel);
        fs::rename(&from, &to).map_err(Error::io(&to))?;
        if let Some(m) = modified {
            set_mtime(&to, m, false)?;
        }
    }
    staging.close().map_err(Error::io(&stage))?;
    tracing::debug!(?summary, dest = %dest.display(), "extracted");
    Ok(summary)
}

/// Makes `path` a directory, creating it if missing; refuses anything else (a symlink
/// included), so nothing is ever written through a link.
fn ensure_real_dir(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) => Err(Error::Destination {
            path: path.to_owned(),
            reason: if m.file_type().is_symlink() {
                "is a symlink; refusing to extract through it".into()
            } else {
                "exists and is not a directory".into()
            },
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir(path).map_err(Error::io(path))
        }
        Err(e) => Err(Error::io(path)(e)),
    }
}

/// Writes one volume's tree below `root_dir` (an empty directory inside the staging dir).
fn extract_volume(
    volume: &Volume,
    root_dir: &Path,
    summary: &mut ExtractSummary,
    progress: &mut dyn ExtractProgress,
) -> Result<()> {
    let vname = volume.name().to_owned();
    let unsafe_entry = |path: &str, reason: String| Error::UnsafeEntry {
        volume: vname.clone(),
        path: path.to_owned(),
        reason,
    };
    let root = volume.root()?;
    let mut dirs: Vec<(PathBuf, u64)> = Vec::new();
    // (volume path, host dir, depth below the root, remaining children)
    let mut stack = vec![(
        String::new(),
        root_dir.to_owned(),
        0usize,
        volume.entries(&root)?.unwrap_or_default().into_iter(),
    )];
    while let Some((prefix, host_dir, depth, iter)) = stack.last_mut() {
        let Some(entry) = iter.next() else {
            stack.pop();
            continue;
        };
        let path = format!("{prefix}/{}", entry.name);
        if let Some(problem) = segment_problem(&entry.name) {
            return Err(unsafe_entry(&path, problem.into()));
        }
        let host = host_dir.join(&entry.name);
        let node = &entry.node;
        match node.kind() {
            EntryKind::Dir => {
                fs::create_dir(&host).map_err(Error::io(&host))?;
                if let Some(m) = node.modified() {
                    dirs.push((host.clone(), m));
                }
                summary.dirs += 1;
                let children = volume.entries(node)?.unwrap_or_default();
                let depth = *depth + 1;
                stack.push((path, host, depth, children.into_iter()));
            }
            EntryKind::File => {
                let data = volume.file_content(node).unwrap_or_default();
                check_hash(node, &data, &vname, &path)?;
                write_file(host_dir, &entry.name, &data, node.modified())?;
                progress.wrote_file(data.len() as u64);
                summary.files += 1;
                summary.bytes += data.len() as u64;
            }
            EntryKind::Symlink => {
                let target = node.symlink_target().unwrap_or_default();
                check_symlink_target(target, *depth).map_err(|r| unsafe_entry(&path, r))?;
                // Resolve the way the OS will once the whole tree exists: catches a `..`
                // that climbs through another symlink, and loops.
                // A link that dangles (or runs into a file) is kept: the OS stops there too.
                match volume.lookup(&path) {
                    Ok(_) | Err(webc_container::Error::WrongType { .. }) => {}
                    Err(webc_container::Error::Symlink { reason, .. }) => {
                        return Err(unsafe_entry(
                            &path,
                            format!("symlink target {target:?} is unsafe: {reason}"),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
                check_hash(node, target.as_bytes(), &vname, &path)?;
                make_symlink(target, &host)?;
                if let Some(m) = node.modified() {
                    set_mtime(&host, m, true)?;
                }
                summary.symlinks += 1;
            }
        }
    }
    // Children first, so creating entries no longer changes a directory's time.
    for (dir, m) in dirs.iter().rev() {
        set_mtime(dir, *m, false)?;
    }
    Ok(())
}

/// Refuses content whose SHA-256 differs from what the container records (v2/v3).
fn check_hash(node: &Node, data: &[u8], volume: &str, path: &str) -> Result<()> {
    let Some(stored) = node.stored_hash() else {
        return Ok(());
    };
    let actual: [u8; 32] = Sha256::digest(data).into();
    if actual != stored {
        return Err(Error::UnsafeEntry {
            volume: volume.to_owned(),
            path: path.to_owned(),
            reason: format!(
                "content hashes to {} but the container records {} (tampered or corrupt; \
                 see `webc-host verify`)",
                hex::encode(actual),
                hex::encode(stored)
            ),
        });
    }
    Ok(())
}

fn time_of(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Writes `dir/name` through a temporary file in `dir`: write, set mtime, fsync, rename.
fn write_file(dir: &Path, name: &str, data: &[u8], modified: Option<u64>) -> Result<()> {
    let path = dir.join(name);
    let io = || Error::io(&path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".webc-tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // webc stores no modes: regular files are rw-r--r-- (the umask applies), not
        // the 0600 of a temporary file.
        builder.permissions(Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io())?;
    tmp.write_all(data).map_err(io())?;
    if let Some(m) = modified {
        tmp.as_file().set_modified(time_of(m)).map_err(io())?;
    }
    tmp.as_file().sync_all().map_err(io())?;
    tmp.persist(&path).map_err(|e| io()(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &str, at: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, at).map_err(Error::io(at))
}

#[cfg(not(unix))]
fn make_symlink(_target: &str, at: &Path) -> Result<()> {
    Err(Error::Destination {
        path: at.to_owned(),
        reason: "symlinks can only be extracted on Unix".into(),
    })
}

fn set_mtime(path: &Path, secs: u64, symlink: bool) -> Result<()> {
    let t = filetime::FileTime::from_system_time(time_of(secs));
    if symlink {
        filetime::set_symlink_file_times(path, t, t)
    } else {
        filetime::set_file_mtime(path, t)
    }
    .map_err(Error::io(path))
}
