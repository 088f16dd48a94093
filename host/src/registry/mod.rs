//! The runner registry: finds runner plugins, remembers what they serve, and picks the
//! runner for a command.
//!
//! **Discovery** ([`Registry::discover`]) searches, in order: the `--plugins` directories,
//! the directories in `WEBC_HOST_PLUGINS` (colon-separated), `<exe dir>/plugins`, the
//! executable's own directory (there only `libwebc_runner_*.so`, so `target/debug/` works in
//! development), and `$XDG_DATA_HOME/webc-host/plugins` (default
//! `~/.local/share/webc-host/plugins`); [`DiscoveryOptions`] turns each source on or off.
//! In the plugin directories every `*.so` is a candidate. Plugins are native code that
//! runs as us, so a plugin directory must be owned by us or by root and not writable by
//! group or others (`o+w` with or without the sticky bit, which stops others deleting
//! files, not adding them); otherwise it is refused whole (listed with the reason and the
//! command that fixes it, nothing in it loaded). A plugin file is held to the same rule,
//! and so is the directory it really is in (a symlink may lead elsewhere), both checked on
//! what the symlinks lead to; a file that fails is quarantined before it is opened. A file
//! reached twice (same canonical path) counts once.
//!
//! **Skipped candidates**: a `*.so` name that is not a plugin file — a directory, a FIFO,
//! a device or socket, a dangling or looping symlink — or a file we may not read is listed
//! as `skipped` with a one-line reason and never dlopened. Candidates are classified by
//! file type before anything is opened, so a FIFO cannot block discovery; skips are never
//! cached (fixing the file fixes the listing).
//!
//! **Lazy loading**: a plugin's [`RunnerInfo`] is read once (by dlopening it) and kept in
//! a metadata cache file keyed by the canonical path and the file's device, inode, size,
//! mtime and inode change time (`ctime`, which no unprivileged writer can set, so any
//! change to the file or its permissions re-reads it); with a warm cache, discovery opens
//! no library and [`Registry::select`] dlopens only the plugins it must ask for
//! availability, in order, stopping at the first usable one. A dlopened library is never
//! unloaded while the process runs (a plugin may have started threads or installed signal
//! handlers): nothing in the registry relies on unloading.
//!
//! **Quarantine**: a candidate that cannot be used — not a library, not a webc-host plugin,
//! another interface version or layout, a failing or invalid description, a runner name
//! already taken by an earlier plugin (earlier in the search order wins) or by a statically
//! registered runner — is listed with a one-line reason and never used; the others are
//! unaffected. Quarantines are cached too, except a failed dlopen of a real ELF file (it may
//! lack a system library that gets installed later, so it is retried every time).
//!
//! **Selection** ([`Registry::select`]): the candidates are the runners serving the
//! command's runner URI (whole-name match plus version, [`RunnerUri::matches`]) and
//! accepting its atom kind (`*` accepts any; an empty requested kind matches every
//! runner); then availability (unavailable ones are skipped and their reasons kept), the
//! user's preference (`--runner URI=NAME`; naming an unknown, unsuitable or unavailable
//! runner is an error), priority (higher first), and name.
//!
//! **Static runners** ([`Registry::register_static`]) are listed and selected like plugins
//! and marked `static`.

mod discovery;
mod metadata;
mod select;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tracing::level_filters::LevelFilter;
use webc_runner_api::abi::{LoadError, LoadedRunner};
use webc_runner_api::uri::RunnerUri;
use webc_runner_api::{Availability, Runner, RunnerInfo};

use self::discovery::Candidate;
pub use self::discovery::{
    DirStatus, DiscoveryOptions, EXE_DIR_PLUGIN_PREFIX, Origin, PLUGINS_ENV, PluginDir,
};
use self::metadata::{Described, FileKey, MetadataCache};
pub use self::select::{
    BackendPreference, Preferences, Rejection, RunnerPreference, Selected, has_backend,
};
use crate::Error;

/// The conventional name of the metadata cache file inside the host's cache directory.
pub const METADATA_CACHE_FILE: &str = "plugins.json";

/// Where a runner comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Registered in-process with [`Registry::register_static`].
    Static,
    /// A plugin library.
    Plugin {
        /// The file as found in its directory.
        path: PathBuf,
        /// Which search directory it was found in.
        origin: Origin,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Static => f.write_str("static"),
            Source::Plugin { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// Whether a runner can be used, as `webc-host runners` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Loaded and available.
    Ok,
    /// Loaded, but its backend is not usable here.
    Unavailable(String),
    /// Never used, for this reason.
    Quarantined(String),
    /// Not a plugin file, or unreadable: never opened, for this reason.
    Skipped(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Ok => f.write_str("ok"),
            Status::Unavailable(why) => write!(f, "unavailable: {why}"),
            Status::Quarantined(why) => write!(f, "quarantined: {why}"),
            Status::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

type LoadResult = Result<Arc<dyn Runner>, String>;

/// One runner found by discovery or registered statically.
pub struct Entry {
    source: Source,
    /// The canonical path (plugins only): the cache key and what is dlopened.
    canonical: Option<PathBuf>,
    info: Option<RunnerInfo>,
    quarantine: Option<String>,
    /// The quarantine is a skip: the candidate is not a (readable) plugin file.
    skipped: bool,
    from_cache: bool,
    runner: OnceLock<LoadResult>,
    availability: OnceLock<Availability>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("source", &self.source)
            .field("name", &self.name())
            .field("quarantine", &self.quarantine)
            .field("skipped", &self.skipped)
            .field("from_cache", &self.from_cache)
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The runner's name, when it described itself.
    pub fn name(&self) -> Option<&str> {
        self.info.as_ref().map(|i| i.name.as_str())
    }

    /// The runner's description, when it gave one (a quarantined entry may still have one,
    /// e.g. when its name was taken).
    pub fn info(&self) -> Option<&RunnerInfo> {
        self.info.as_ref()
    }

    /// Where it comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Registered statically?
    pub fn is_static(&self) -> bool {
        self.source == Source::Static
    }

    /// Why it is quarantined or skipped, if it is (including a load that failed after
    /// discovery).
    pub fn quarantine_reason(&self) -> Option<&str> {
        self.quarantine.as_deref().or_else(|| {
            self.runner
                .get()
                .and_then(|r| r.as_ref().err())
                .map(String::as_str)
        })
    }

    /// Has this registry dlopened the plugin (successfully or not)? Always true for static
    /// runners. With a warm metadata cache, discovery loads nothing.
    pub fn is_loaded(&self) -> bool {
        self.runner.get().is_some()
    }

    /// Did the description come from the metadata cache (no dlopen)?
    pub fn metadata_from_cache(&self) -> bool {
        self.from_cache
    }

    /// The runner, dlopening the plugin on first use.
    ///
    /// # Errors
    ///
    /// The one-line reason it cannot be used (it is quarantined, or failed to load).
    pub fn load(&self) -> Result<Arc<dyn Runner>, String> {
        if let Some(q) = &self.quarantine {
            return Err(q.clone());
        }
        self.runner
            .get_or_init(|| {
                let (Some(path), Some(cached)) = (&self.canonical, &self.info) else {
                    return Err("nothing to load".into());
                };
                let loaded = load_plugin(path)?;
                let now = Runner::info(&loaded);
                if now.name != cached.name || now.serves != cached.serves {
                    return Err(format!(
                        "the plugin changed on disk since it was described (it now calls itself `{}`); run again",
                        now.name
                    ));
                }
                Ok(Arc::new(loaded) as Arc<dyn Runner>)
            })
            .clone()
    }

    /// Whether the runner can work here: loads it and asks it (once per registry).
    pub fn availability(&self) -> Availability {
        match self.load() {
            Err(why) => Availability::Unavailable(why),
            Ok(runner) => self
                .availability
                .get_or_init(|| {
                    catch_unwind(AssertUnwindSafe(|| runner.availability())).unwrap_or_else(|_| {
                        Availability::Unavailable("availability() panicked".into())
                    })
                })
                .clone(),
        }
    }

    /// Was it skipped (not a plugin file, or unreadable)? Its reason is
    /// [`Entry::quarantine_reason`].
    pub fn is_skipped(&self) -> bool {
        self.skipped
    }

    /// Loads the runner and reports its status.
    pub fn check(&self) -> Status {
        if let Some(q) = &self.quarantine {
            if self.skipped {
                return Status::Skipped(q.clone());
            }
            return Status::Quarantined(q.clone());
        }
        match self.load() {
            Err(why) => Status::Quarantined(why),
            Ok(_) => match self.availability() {
                Availability::Available => Status::Ok,
                Availability::Unavailable(why) => Status::Unavailable(one_line(&why)),
            },
        }
    }
}

/// The runners known to this host.
#[derive(Debug, Default)]
pub struct Registry {
    entries: Vec<Entry>,
    dirs: Vec<PluginDir>,
}

impl Registry {
    /// An empty registry (register runners with [`Registry::register_static`]).
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Searches the plugin sources `opts` selects and describes every candidate, from the
    /// metadata cache when it is current, else by loading it (and updating the cache).
    /// Never fails: unusable directories and files are listed with their reasons.
    pub fn discover(opts: &DiscoveryOptions) -> Registry {
        let exe = if opts.use_exe_dir {
            std::env::current_exe().ok()
        } else {
            None
        };
        let dirs = discovery::search_dirs(opts, &|k| std::env::var_os(k), exe.as_deref());
        let mut cache = MetadataCache::open(opts.metadata_cache.as_deref());
        let mut registry = Registry::default();
        let mut seen = HashSet::new();
        for (dir, origin) in dirs {
            let status = match discovery::scan(&dir, origin) {
                Ok(found) => {
                    let candidates = found.len();
                    for candidate in found {
                        let entry = match candidate {
                            Candidate::File(file) => describe(&file, origin, &mut cache, &mut seen),
                            Candidate::Skipped { path, reason } => {
                                // The same directory searched twice lists it once.
                                let real = path.parent().and_then(|d| {
                                    Some(std::fs::canonicalize(d).ok()?.join(path.file_name()?))
                                });
                                if real.is_some_and(|r| !seen.insert(r)) {
                                    continue;
                                }
                                tracing::debug!(
                                    "skipping plugin candidate {}: {reason}",
                                    path.display()
                                );
                                Some(Entry::unusable(path, origin, reason, true))
                            }
                        };
                        registry.entries.extend(entry);
                    }
                    DirStatus::Searched { candidates }
                }
                Err(status) => {
                    match &status {
                        DirStatus::Missing if origin.is_explicit() => tracing::warn!(
                            "plugin directory {} ({origin}) does not exist",
                            dir.display()
                        ),
                        DirStatus::Refused(why) => tracing::warn!(
                            "plugin directory {} ({origin}) refused: {why}",
                            dir.display()
                        ),
                        _ => {}
                    }
                    status
                }
            };
            registry.dirs.push(PluginDir {
                path: dir,
                origin,
                status,
            });
        }
        cache.save();
        registry.quarantine_duplicate_names();
        registry
    }

    /// Adds an in-process runner. It is listed and selected like a plugin, before them in
    /// the listing. Its name takes precedence: a plugin with the same name is quarantined;
    /// a second static runner with a taken name (or an invalid description) is itself
    /// listed as quarantined.
    pub fn register_static(&mut self, runner: Arc<dyn Runner>) {
        let (info, quarantine) = match catch_unwind(AssertUnwindSafe(|| runner.info())) {
            Err(_) => (None, Some("info() panicked".to_owned())),
            Ok(info) => match validate(&info) {
                Err(why) => (Some(info), Some(why)),
                Ok(()) => (Some(info), None),
            },
        };
        let mut quarantine = quarantine;
        if quarantine.is_none()
            && let Some(name) = info.as_ref().map(|i| i.name.clone())
        {
            for other in &mut self.entries {
                if other.quarantine.is_some() || other.name() != Some(name.as_str()) {
                    continue;
                }
                if other.is_static() {
                    quarantine = Some(format!(
                        "runner name `{name}` is already registered by another static runner"
                    ));
                } else {
                    other.quarantine = Some(format!(
                        "runner name `{name}` is taken by a statically registered runner"
                    ));
                }
            }
        }
        let entry = Entry {
            source: Source::Static,
            canonical: None,
            info,
            quarantine,
            skipped: false,
            from_cache: false,
            runner: OnceLock::from(Ok(runner)),
            availability: OnceLock::new(),
        };
        let at = self.entries.iter().take_while(|e| e.is_static()).count();
        self.entries.insert(at, entry);
    }

    /// Every runner found, static ones first, then plugins in search order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every directory searched, in order, with what came of it.
    pub fn directories(&self) -> &[PluginDir] {
        &self.dirs
    }

    /// The usable (not quarantined) runner with this name.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.quarantine.is_none() && e.name() == Some(name))
    }

    /// The runner URIs served by the runners that are not quarantined (no plugin is
    /// loaded to answer), sorted, each as `URI (runner, …)`.
    pub fn served_uris(&self) -> Vec<String> {
        let mut by_uri: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for e in self.entries.iter().filter(|e| e.quarantine.is_none()) {
            let Some(info) = &e.info else { continue };
            for s in &info.serves {
                let uri = RunnerUri::parse(&s.uri).map_or_else(|_| s.uri.clone(), |u| u.name);
                let names = by_uri.entry(uri).or_default();
                if !names.contains(&info.name.as_str()) {
                    names.push(&info.name);
                }
            }
        }
        by_uri
            .into_iter()
            .map(|(uri, names)| format!("{uri} ({})", names.join(", ")))
            .collect()
    }

    /// Picks the runner for a command: see the module documentation for the order.
    ///
    /// # Errors
    ///
    /// [`Error`] saying what was asked and, depending on the case, which runners
    /// exist for it and why each is unusable, or which runner URIs are served at all.
    pub fn select(
        &self,
        uri: &str,
        atom_kind: &str,
        preferences: &Preferences,
    ) -> Result<Selected, Error> {
        select::select(self, uri, atom_kind, preferences, &[])
    }

    /// Like [`Registry::select`], passing over the runners called `excluded` (those that
    /// already refused the atom): the next runner to try.
    pub fn select_excluding(
        &self,
        uri: &str,
        atom_kind: &str,
        preferences: &Preferences,
        excluded: &[String],
    ) -> Result<Selected, Error> {
        select::select(self, uri, atom_kind, preferences, excluded)
    }

    /// Every runner that could run the command, in the order they are tried: the one
    /// [`Registry::select`] picks, then — unless that one is pinned by the user — each
    /// runner the host falls back to when the ones before refuse the atom. Loads and asks
    /// the availability of each (what `run --explain` shows).
    pub fn order(
        &self,
        uri: &str,
        atom_kind: &str,
        preferences: &Preferences,
    ) -> Result<Vec<Selected>, Error> {
        let first = self.select(uri, atom_kind, preferences)?;
        let mut names = vec![first.info.name.clone()];
        let mut order = vec![first];
        if order[0].pinned {
            return Ok(order);
        }
        while let Ok(next) = self.select_excluding(uri, atom_kind, preferences, &names) {
            names.push(next.info.name.clone());
            order.push(next);
        }
        Ok(order)
    }

    fn quarantine_duplicate_names(&mut self) {
        let mut first: HashMap<String, String> = HashMap::new();
        for e in &mut self.entries {
            if e.quarantine.is_some() {
                continue;
            }
            let Some(name) = e.name().map(str::to_owned) else {
                continue;
            };
            match first.get(&name) {
                Some(by) => {
                    e.quarantine =
                        Some(format!("runner name `{name}` is already provided by {by}"));
                }
                None => {
                    first.insert(name, e.source.to_string());
                }
            }
        }
    }
}

impl Entry {
    /// A plugin candidate that is never used: quarantined, or skipped (not a readable
    /// plugin file).
    fn unusable(path: PathBuf, origin: Origin, why: String, skipped: bool) -> Entry {
        Entry {
            source: Source::Plugin { path, origin },
            canonical: None,
            info: None,
            quarantine: Some(why),
            skipped,
            from_cache: false,
            runner: OnceLock::new(),
            availability: OnceLock::new(),
        }
    }
}

/// Describes one candidate file: from the cache if current, else by loading it.
fn describe(
    path: &Path,
    origin: Origin,
    cache: &mut MetadataCache,
    seen: &mut HashSet<PathBuf>,
) -> Option<Entry> {
    let skip = |why: String| Some(Entry::unusable(path.to_owned(), origin, why, true));
    let canonical = match std::fs::canonicalize(path) {
        Ok(c) => c,
        Err(e) => return skip(format!("cannot resolve the path: {e}")),
    };
    if !seen.insert(canonical.clone()) {
        return None;
    }
    let observed = std::time::SystemTime::now();
    let meta = match std::fs::metadata(&canonical) {
        Ok(m) => m,
        Err(e) => return skip(format!("cannot look at it: {e}")),
    };
    if let Some(why) = discovery::untrusted(&meta, path, discovery::Kind::File) {
        return Some(Entry::unusable(path.to_owned(), origin, why, false));
    }
    // A symlink may lead out of the (checked) plugin directory: whoever may write the
    // directory the file really is in may replace it, so that directory passes the rule too.
    if let Some(parent) = canonical.parent()
        && let Ok(parent_meta) = std::fs::metadata(parent)
        && let Some(why) = discovery::untrusted(&parent_meta, parent, discovery::Kind::Dir)
    {
        return Some(Entry::unusable(
            path.to_owned(),
            origin,
            format!("in directory {}, which is {why}", parent.display()),
            false,
        ));
    }
    // Neither cached nor dlopened: a file we may not read (a permission, not a broken
    // plugin) is listed as such and looked at again next time. Opening cannot block: it
    // is a regular file (and O_NONBLOCK covers a swap for a FIFO since).
    if let Err(e) = open_nonblocking(&canonical) {
        return skip(unreadable_reason(&e, &meta));
    }
    let key = FileKey::of(&meta);
    // A file changed this very moment may change again with the same key: not remembered.
    let remember = |cache: &mut MetadataCache, described| {
        if key.is_racy(observed) {
            cache.forget(&canonical);
        } else {
            cache.store(&canonical, key, described);
        }
    };
    let mut entry = Entry {
        source: Source::Plugin {
            path: path.to_owned(),
            origin,
        },
        canonical: Some(canonical.clone()),
        info: None,
        quarantine: None,
        skipped: false,
        from_cache: false,
        runner: OnceLock::new(),
        availability: OnceLock::new(),
    };
    match cache.lookup(&canonical, &key) {
        Some(Described::Info(info)) => {
            entry.info = Some(info.clone());
            entry.from_cache = true;
        }
        Some(Described::Quarantined(why)) => {
            entry.quarantine = Some(why.clone());
            entry.from_cache = true;
        }
        None => match load_plugin(&canonical) {
            Ok(loaded) => {
                let info = Runner::info(&loaded);
                remember(cache, Described::Info(info.clone()));
                entry.info = Some(info);
                let _ = entry.runner.set(Ok(Arc::new(loaded)));
            }
            Err(why) => {
                if is_elf(&canonical) && why.starts_with(CANNOT_DLOPEN) {
                    cache.forget(&canonical);
                } else {
                    remember(cache, Described::Quarantined(why.clone()));
                }
                entry.quarantine = Some(why.clone());
                let _ = entry.runner.set(Err(why));
            }
        },
    }
    Some(entry)
}

const CANNOT_DLOPEN: &str = "cannot dlopen it: ";

/// dlopens a plugin, checks its description and connects its logs to ours.
fn load_plugin(path: &Path) -> Result<LoadedRunner, String> {
    tracing::debug!(plugin = %path.display(), "loading runner plugin");
    let loaded = LoadedRunner::load(path).map_err(|e| load_error_reason(&e, path))?;
    validate(&Runner::info(&loaded)).map_err(|why| format!("invalid description: {why}"))?;
    if let Some(level) = host_log_level() {
        loaded.forward_logs(level);
    }
    Ok(loaded)
}

/// The most verbose level the host's subscriber wants, as the plugin interface counts
/// (0 error … 4 trace), or `None` when logging is off.
fn host_log_level() -> Option<u8> {
    level_number(LevelFilter::current())
}

fn level_number(filter: LevelFilter) -> Option<u8> {
    [
        (LevelFilter::TRACE, 4),
        (LevelFilter::DEBUG, 3),
        (LevelFilter::INFO, 2),
        (LevelFilter::WARN, 1),
        (LevelFilter::ERROR, 0),
    ]
    .into_iter()
    .find(|(l, _)| *l == filter)
    .map(|(_, n)| n)
}

/// A load error as a one-line reason (the path is shown next to it, so it is left out).
fn load_error_reason(e: &LoadError, path: &Path) -> String {
    let path_text = path.display().to_string();
    let strip = |s: &str| {
        one_line(
            s.strip_prefix(&path_text)
                .map(|r| r.trim_start_matches(':').trim_start())
                .unwrap_or(s),
        )
    };
    match e {
        LoadError::Open { .. } if !path.exists() => format!("{CANNOT_DLOPEN}no such file"),
        LoadError::Open { .. } if !is_elf(path) => {
            format!("{CANNOT_DLOPEN}not a shared library (no ELF header)")
        }
        LoadError::Open { reason, .. } => {
            let reason = strip(reason);
            // abi_stable's message starts with a line that says nothing by itself.
            if reason.is_empty() || reason.ends_with("at:") {
                format!(
                    "{CANNOT_DLOPEN}the dynamic loader refused it (a missing dependency or another architecture? try `ldd`)"
                )
            } else {
                format!("{CANNOT_DLOPEN}{reason}")
            }
        }
        LoadError::NotAPlugin { .. } => {
            "not a webc-host runner plugin (it exports no runner root module)".into()
        }
        LoadError::Version {
            expected, found, ..
        } => format!(
            "built for runner interface {found}, this host speaks {expected}: rebuild it against a webc-runner-api of interface {}",
            webc_runner_api::abi::INTERFACE_MAJOR
        ),
        LoadError::Layout {
            expected, summary, ..
        } => {
            let mut reason = format!(
                "incompatible runner interface layout: built against a modified webc-runner-api of interface {expected}; rebuild it against this host's"
            );
            // abi_stable's report opens with "Compared <this>:", which says nothing alone.
            if !summary.trim().is_empty() && !summary.starts_with("Compared") {
                reason += &format!(" ({})", one_line(summary));
            }
            reason
        }
        LoadError::Info { reason, .. } => {
            format!("failed to describe itself: {}", strip(reason))
        }
        other => strip(&other.to_string()),
    }
}

/// Checks what the registry relies on: a usable name and parseable URIs.
fn validate(info: &RunnerInfo) -> Result<(), String> {
    if info.name.is_empty() {
        return Err("the runner has no name".into());
    }
    if info
        .name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '=')
    {
        return Err(format!(
            "runner name {:?} contains whitespace, control characters or `=`",
            info.name
        ));
    }
    if info.serves.is_empty() {
        return Err(format!("runner `{}` serves no runner URI", info.name));
    }
    for s in &info.serves {
        RunnerUri::parse(&s.uri).map_err(|e| format!("runner `{}`: {e}", info.name))?;
    }
    Ok(())
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0; 4];
    open_nonblocking(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// Opens a file for reading without blocking on a FIFO or taking a terminal.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Why a plugin file cannot be opened, for the listing: a permission is said as one.
fn unreadable_reason(e: &std::io::Error, meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        format!(
            "unreadable: permission denied to uid {} (mode {:o}, owner uid {}); `chmod a+r` it to use it",
            rustix::process::geteuid().as_raw(),
            meta.permissions().mode() & 0o7777,
            meta.uid()
        )
    } else {
        format!("unreadable: {e}")
    }
}

/// Collapses whitespace runs (newlines included) so a reason stays on one line, and bounds
/// its length.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > 400 {
        out = out.chars().take(400).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests;
