//! Where plugins are looked for, and which files in those places count as plugins.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The environment variable listing extra plugin directories (colon-separated).
pub const PLUGINS_ENV: &str = "WEBC_HOST_PLUGINS";

/// In the executable's own directory only files named `<this>*.so` are considered.
pub const EXE_DIR_PLUGIN_PREFIX: &str = "libwebc_runner_";

/// Which plugin sources a discovery uses. The CLI uses [`DiscoveryOptions::default`] plus
/// its `--plugins` directories; tests and embedders that want nothing implicit use
/// [`DiscoveryOptions::only`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// Directories given explicitly (`--plugins DIR`), searched first, in order.
    pub plugin_dirs: Vec<PathBuf>,
    /// Search the directories listed in `WEBC_HOST_PLUGINS` (colon-separated) next.
    pub use_env: bool,
    /// Search `<exe dir>/plugins`, then the executable's own directory (there only
    /// `libwebc_runner_*.so`, so `target/debug/` works in development).
    pub use_exe_dir: bool,
    /// Search `$XDG_DATA_HOME/webc-host/plugins` (default `~/.local/share/webc-host/plugins`).
    pub use_xdg: bool,
    /// Where to keep the plugin metadata cache (e.g. `<cache dir>/plugins.json`); `None`
    /// reads every plugin's description on every discovery.
    pub metadata_cache: Option<PathBuf>,
}

impl Default for DiscoveryOptions {
    /// Every implicit source, no explicit directories, no metadata cache.
    fn default() -> Self {
        DiscoveryOptions {
            plugin_dirs: Vec::new(),
            use_env: true,
            use_exe_dir: true,
            use_xdg: true,
            metadata_cache: None,
        }
    }
}

impl DiscoveryOptions {
    /// Only these directories: no environment variable, executable directory or XDG
    /// directory, no metadata cache.
    pub fn only<I: IntoIterator<Item = P>, P: Into<PathBuf>>(dirs: I) -> Self {
        DiscoveryOptions {
            plugin_dirs: dirs.into_iter().map(Into::into).collect(),
            use_env: false,
            use_exe_dir: false,
            use_xdg: false,
            metadata_cache: None,
        }
    }

    /// The same options with a metadata cache file.
    pub fn with_metadata_cache(mut self, path: impl Into<PathBuf>) -> Self {
        self.metadata_cache = Some(path.into());
        self
    }
}

/// Why a directory was searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// `--plugins DIR` (or [`DiscoveryOptions::plugin_dirs`]).
    Flag,
    /// `WEBC_HOST_PLUGINS`.
    Env,
    /// `<exe dir>/plugins`.
    ExePlugins,
    /// The executable's own directory.
    ExeDir,
    /// `$XDG_DATA_HOME/webc-host/plugins`.
    Xdg,
}

impl Origin {
    /// Was this directory named by the user (so its absence is worth a warning)?
    pub fn is_explicit(self) -> bool {
        matches!(self, Origin::Flag | Origin::Env)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--plugins",
            Origin::Env => PLUGINS_ENV,
            Origin::ExePlugins => "<exe dir>/plugins",
            Origin::ExeDir => "exe dir",
            Origin::Xdg => "$XDG_DATA_HOME/webc-host/plugins",
        })
    }
}

/// One directory that was searched, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDir {
    /// The directory as configured.
    pub path: PathBuf,
    /// Why it was searched.
    pub origin: Origin,
    /// What came of it.
    pub status: DirStatus,
}

/// What came of searching a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirStatus {
    /// Searched; this many candidate files were found.
    Searched {
        /// Candidate `*.so` names, skipped ones included (before duplicates were removed).
        candidates: usize,
    },
    /// It does not exist (normal for the implicit directories).
    Missing,
    /// Not searched, for this one-line reason (owned by another user, writable by group or
    /// others, not a directory, unreadable).
    Refused(String),
}

impl fmt::Display for DirStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirStatus::Searched { candidates } => write!(
                f,
                "searched: {candidates} plugin file{}",
                if *candidates == 1 { "" } else { "s" }
            ),
            DirStatus::Missing => f.write_str("missing"),
            DirStatus::Refused(why) => write!(f, "refused: {why}"),
        }
    }
}

/// The directories to search, in order, given the environment and the executable's path
/// (both passed in so this can be tested without touching the process).
pub(crate) fn search_dirs(
    opts: &DiscoveryOptions,
    env: &dyn Fn(&str) -> Option<OsString>,
    exe: Option<&Path>,
) -> Vec<(PathBuf, Origin)> {
    let mut dirs: Vec<(PathBuf, Origin)> = opts
        .plugin_dirs
        .iter()
        .map(|d| (d.clone(), Origin::Flag))
        .collect();
    if opts.use_env
        && let Some(list) = env(PLUGINS_ENV)
    {
        dirs.extend(
            std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| (p, Origin::Env)),
        );
    }
    if opts.use_exe_dir
        && let Some(dir) = exe.and_then(Path::parent)
    {
        dirs.push((dir.join("plugins"), Origin::ExePlugins));
        dirs.push((dir.to_owned(), Origin::ExeDir));
    }
    if opts.use_xdg {
        // The XDG spec: a relative $XDG_DATA_HOME is invalid and ignored.
        let data_home = env("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                env("HOME")
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
                    .map(|h| h.join(".local/share"))
            });
        if let Some(d) = data_home {
            dirs.push((d.join("webc-host/plugins"), Origin::Xdg));
        }
    }
    dirs
}

/// Is this file name a candidate in a directory of this origin?
pub(crate) fn is_candidate(name: &std::ffi::OsStr, origin: Origin) -> bool {
    let bytes = name.as_encoded_bytes();
    let is_so = bytes.len() > ".so".len() && bytes.ends_with(b".so");
    match origin {
        Origin::ExeDir => is_so && bytes.starts_with(EXE_DIR_PLUGIN_PREFIX.as_bytes()),
        _ => is_so,
    }
}

/// Who may change a plugin directory or file, as far as [`untrusted`] is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A plugin directory: whoever can write it can plant a plugin there.
    Dir,
    /// A plugin file: whoever can write it can replace it.
    File,
}

/// Why a plugin directory or file is not safe to load native code from, if it is not.
/// Plugins run as us, so the rule is the cache's: owned by us or by root, and not writable
/// by group or others (`o+w` with or without the sticky bit: it stops others deleting our
/// files, not adding theirs). The reason says how to fix it.
pub(crate) fn untrusted(meta: &std::fs::Metadata, path: &Path, kind: Kind) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let me = rustix::process::geteuid().as_raw();
    untrusted_by(meta.uid(), meta.permissions().mode(), me, path, kind)
}

/// [`untrusted`] for a given owner, mode and effective user.
pub(crate) fn untrusted_by(
    owner: u32,
    mode: u32,
    me: u32,
    path: &Path,
    kind: Kind,
) -> Option<String> {
    let (could, noun) = match kind {
        Kind::Dir => ("plant a plugin there", "directory"),
        Kind::File => ("replace it", "file"),
    };
    let shown = path.display();
    if owner != me && owner != 0 {
        return Some(format!(
            "owned by uid {owner}, neither you (uid {me}) nor root: its owner could {could}; \
             use a {noun} you own, or run `chown {me} {shown}` as root"
        ));
    }
    let mode = mode & 0o7777;
    let (who, whom) = if mode & 0o002 != 0 {
        ("world-writable", "anyone")
    } else if mode & 0o020 != 0 {
        ("writable by group", "the group's members")
    } else {
        return None;
    };
    Some(format!(
        "{who} (mode {mode:o}): {whom} could {could}; run `chmod go-w {shown}`"
    ))
}

/// One `*.so` name in a plugin directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// A regular file, or a symlink to one: to be described.
    File(PathBuf),
    /// Not a plugin file (a directory, a FIFO, a device, a dangling or looping symlink…):
    /// listed with this one-line reason, never opened.
    Skipped {
        /// The name as found in the directory.
        path: PathBuf,
        /// Why it is not a candidate.
        reason: String,
    },
}

/// Why `path` (a directory entry with a candidate name) is not a plugin file, if it is not.
/// Looks at file types only (`lstat`, `stat`): nothing is opened, so a FIFO cannot block.
pub(crate) fn not_a_plugin_file(path: &Path) -> Option<String> {
    use std::os::unix::fs::FileTypeExt as _;
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot look at it: {e}")),
    };
    let (meta, prefix) = if link.file_type().is_symlink() {
        let target =
            std::fs::read_link(path).map_or_else(|_| "?".to_owned(), |t| t.display().to_string());
        match std::fs::metadata(path) {
            Ok(m) => (m, "a symlink to "),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Some(format!(
                    "a symlink loop (through {target}): too many levels of symbolic links"
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Some(format!("a dangling symlink: {target} does not exist"));
            }
            Err(e) => {
                return Some(format!(
                    "a symlink to {target} that cannot be followed: {e}"
                ));
            }
        }
    } else {
        (link, "")
    };
    let t = meta.file_type();
    let what = if t.is_file() {
        return None;
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe; not opened)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Some(format!("{prefix}{what}, not a plugin file"))
}

/// The candidates of one directory, sorted by name, or why there are none. The directory
/// must pass [`untrusted`]; each candidate name is classified by [`not_a_plugin_file`].
pub(crate) fn scan(dir: &Path, origin: Origin) -> Result<Vec<Candidate>, DirStatus> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(DirStatus::Missing),
        Err(e) => return Err(DirStatus::Refused(format!("cannot read it: {e}"))),
    };
    if !meta.is_dir() {
        return Err(DirStatus::Refused("not a directory".into()));
    }
    if let Some(why) = untrusted(&meta, dir, Kind::Dir) {
        return Err(DirStatus::Refused(why));
    }
    let read =
        std::fs::read_dir(dir).map_err(|e| DirStatus::Refused(format!("cannot list it: {e}")))?;
    let mut paths: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .filter(|e| is_candidate(&e.file_name(), origin))
        .map(|e| e.path())
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        // Follows symlinks: a link to a plugin is a plugin.
        .map(|path| match not_a_plugin_file(&path) {
            None => Candidate::File(path),
            Some(reason) => Candidate::Skipped { path, reason },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn search_order() {
        let opts = DiscoveryOptions {
            plugin_dirs: vec!["/flag1".into(), "/flag2".into()],
            ..DiscoveryOptions::default()
        };
        let env = env_of(&[
            ("WEBC_HOST_PLUGINS", "/env1::/env2"),
            ("XDG_DATA_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ]);
        let dirs = search_dirs(&opts, &env, Some(Path::new("/opt/bin/webc-host")));
        let expected: Vec<(PathBuf, Origin)> = vec![
            ("/flag1".into(), Origin::Flag),
            ("/flag2".into(), Origin::Flag),
            ("/env1".into(), Origin::Env),
            ("/env2".into(), Origin::Env),
            ("/opt/bin/plugins".into(), Origin::ExePlugins),
            ("/opt/bin".into(), Origin::ExeDir),
            ("/xdg/webc-host/plugins".into(), Origin::Xdg),
        ];
        assert_eq!(dirs, expected);

        // XDG default and relative XDG_DATA_HOME.
        let env = env_of(&[("XDG_DATA_HOME", "rel"), ("HOME", "/home/u")]);
        let dirs = search_dirs(&opts, &env, None);
        assert_eq!(
            dirs.last().unwrap(),
            &(
                PathBuf::from("/home/u/.local/share/webc-host/plugins"),
                Origin::Xdg
            )
        );
        assert!(!dirs.iter().any(|(_, o)| *o == Origin::ExeDir));

        // Every implicit source off.
        let dirs = search_dirs(
            &DiscoveryOptions::only(["/only"]),
            &env_of(&[("WEBC_HOST_PLUGINS", "/env"), ("HOME", "/h")]),
            Some(Path::new("/opt/bin/webc-host")),
        );
        assert_eq!(dirs, vec![(PathBuf::from("/only"), Origin::Flag)]);
    }

    #[test]
    fn exe_dir_filter() {
        let table: &[(&str, bool, bool)] = &[
            // name, in a plugins dir, in the exe dir
            ("libwebc_runner_wasi.so", true, true),
            ("libwebc_runner_.so", true, true),
            ("libm.so", true, false),
            ("x.so", true, false),
            ("libwebc_runner_wasi.so.1", false, false),
            ("libwebc_runner_wasi.rlib", false, false),
            (".so", false, false),
            ("webc-host", false, false),
        ];
        for (name, plugins, exe) in table {
            assert_eq!(
                is_candidate(OsStr::new(name), Origin::Flag),
                *plugins,
                "{name}"
            );
            assert_eq!(
                is_candidate(OsStr::new(name), Origin::Xdg),
                *plugins,
                "{name}"
            );
            assert_eq!(
                is_candidate(OsStr::new(name), Origin::ExeDir),
                *exe,
                "{name}"
            );
        }
    }

    /// A FIFO at `path`, made without opening anything.
    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
        assert_eq!(rc, 0, "mkfifo {}", path.display());
    }

    #[test]
    fn scanning() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for f in ["b.so", "a.so", "libwebc_runner_x.so", "notes.txt"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        std::fs::create_dir(d.join("dir.so")).unwrap();
        std::os::unix::fs::symlink(d.join("a.so"), d.join("link.so")).unwrap();
        std::os::unix::fs::symlink(d.join("gone"), d.join("dangling.so")).unwrap();
        std::os::unix::fs::symlink("loop.so", d.join("loop.so")).unwrap();
        std::os::unix::fs::symlink(d.join("dir.so"), d.join("linked-dir.so")).unwrap();
        std::os::unix::fs::symlink("/dev/null", d.join("null.so")).unwrap();
        mkfifo(&d.join("fifo.so"));
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        let listing = |origin| -> Vec<(String, Option<String>)> {
            scan(d, origin)
                .unwrap()
                .iter()
                .map(|c| match c {
                    Candidate::File(p) => (name(p), None),
                    Candidate::Skipped { path, reason } => (name(path), Some(reason.clone())),
                })
                .collect()
        };
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            listing(Origin::Flag),
            [
                ("a.so".into(), None),
                ("b.so".into(), None),
                (
                    "dangling.so".into(),
                    Some(format!(
                        "a dangling symlink: {} does not exist",
                        d.join("gone").display()
                    ))
                ),
                ("dir.so".into(), some("a directory, not a plugin file")),
                (
                    "fifo.so".into(),
                    some("a FIFO (named pipe; not opened), not a plugin file")
                ),
                ("libwebc_runner_x.so".into(), None),
                ("link.so".into(), None),
                (
                    "linked-dir.so".into(),
                    some("a symlink to a directory, not a plugin file")
                ),
                (
                    "loop.so".into(),
                    some("a symlink loop (through loop.so): too many levels of symbolic links")
                ),
                (
                    "null.so".into(),
                    some("a symlink to a character device, not a plugin file")
                ),
            ]
        );
        assert_eq!(
            listing(Origin::ExeDir),
            [("libwebc_runner_x.so".to_owned(), None)]
        );
        assert_eq!(scan(&d.join("nope"), Origin::Flag), Err(DirStatus::Missing));
        assert!(matches!(
            scan(&d.join("a.so"), Origin::Flag),
            Err(DirStatus::Refused(_))
        ));
        let shown = d.display();
        for (mode, why) in [
            (
                0o777,
                format!(
                    "world-writable (mode 777): anyone could plant a plugin there; run `chmod go-w {shown}`"
                ),
            ),
            (
                0o1777,
                format!(
                    "world-writable (mode 1777): anyone could plant a plugin there; run `chmod go-w {shown}`"
                ),
            ),
            (
                0o703,
                format!(
                    "world-writable (mode 703): anyone could plant a plugin there; run `chmod go-w {shown}`"
                ),
            ),
            (
                0o775,
                format!(
                    "writable by group (mode 775): the group's members could plant a plugin there; run `chmod go-w {shown}`"
                ),
            ),
            (
                0o730,
                format!(
                    "writable by group (mode 730): the group's members could plant a plugin there; run `chmod go-w {shown}`"
                ),
            ),
        ] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(
                scan(d, Origin::Flag),
                Err(DirStatus::Refused(why)),
                "{mode:o}"
            );
        }
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(scan(d, Origin::Flag).is_ok());
    }

    #[test]
    fn owners_and_modes() {
        let p = Path::new("/p");
        // (owner, mode, me) → trusted?
        let table: &[(u32, u32, u32, bool)] = &[
            (1000, 0o755, 1000, true),
            (0, 0o755, 1000, true),
            (0, 0o755, 0, true),
            (1000, 0o700, 0, false),
            (1001, 0o755, 1000, false),
            (1001, 0o700, 1001, true),
            (1000, 0o775, 1000, false),
            (1000, 0o757, 1000, false),
            (0, 0o1777, 0, false),
            (1000, 0o4755, 1000, true),
            (1000, 0o100644, 1000, true), // st_mode's file type bits are ignored
        ];
        for &(owner, mode, me, trusted) in table {
            for kind in [Kind::Dir, Kind::File] {
                let why = untrusted_by(owner, mode, me, p, kind);
                assert_eq!(why.is_none(), trusted, "{owner} {mode:o} {me}: {why:?}");
            }
        }
        assert_eq!(
            untrusted_by(65534, 0o755, 1000, p, Kind::Dir).unwrap(),
            "owned by uid 65534, neither you (uid 1000) nor root: its owner could plant a plugin \
             there; use a directory you own, or run `chown 1000 /p` as root"
        );
        assert_eq!(
            untrusted_by(1000, 0o664, 1000, p, Kind::File).unwrap(),
            "writable by group (mode 664): the group's members could replace it; run `chmod go-w /p`"
        );
    }
}
