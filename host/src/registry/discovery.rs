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
        /// Candidate `.so` files (before duplicates were removed).
        candidates: usize,
    },
    /// It does not exist (normal for the implicit directories).
    Missing,
    /// Not searched, for this one-line reason (world-writable, not a directory, unreadable).
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

/// Is anyone allowed to write here? (`mode & o+w`; the sticky bit does not help: it stops
/// others from deleting our files, not from adding theirs.)
pub(crate) fn world_writable(meta: &std::fs::Metadata) -> bool {
    meta.permissions().mode() & 0o002 != 0
}

/// The candidate files of one directory, sorted by name, or why there are none.
pub(crate) fn scan(dir: &Path, origin: Origin) -> Result<Vec<PathBuf>, DirStatus> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(DirStatus::Missing),
        Err(e) => return Err(DirStatus::Refused(format!("cannot read it: {e}"))),
    };
    if !meta.is_dir() {
        return Err(DirStatus::Refused("not a directory".into()));
    }
    if world_writable(&meta) {
        return Err(DirStatus::Refused(format!(
            "world-writable (mode {:o}): anyone could plant a plugin there; `chmod o-w` it to use it",
            meta.permissions().mode() & 0o7777
        )));
    }
    let read =
        std::fs::read_dir(dir).map_err(|e| DirStatus::Refused(format!("cannot list it: {e}")))?;
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .filter(|e| is_candidate(&e.file_name(), origin))
        .map(|e| e.path())
        // Follows symlinks: a link to a plugin is a plugin; a directory named x.so is not.
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    files.sort();
    Ok(files)
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
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(scan(d, Origin::Flag).unwrap()),
            ["a.so", "b.so", "libwebc_runner_x.so", "link.so"]
        );
        assert_eq!(
            names(scan(d, Origin::ExeDir).unwrap()),
            ["libwebc_runner_x.so"]
        );
        assert_eq!(scan(&d.join("nope"), Origin::Flag), Err(DirStatus::Missing));
        assert!(matches!(
            scan(&d.join("a.so"), Origin::Flag),
            Err(DirStatus::Refused(_))
        ));
        for mode in [0o777, 0o1777, 0o703] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode)).unwrap();
            let Err(DirStatus::Refused(why)) = scan(d, Origin::Flag) else {
                panic!("world-writable {mode:o} accepted");
            };
            assert!(why.contains("world-writable"), "{why}");
        }
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(scan(d, Origin::Flag).is_ok());
    }
}
