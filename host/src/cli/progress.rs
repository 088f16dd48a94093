//! Progress indicators on a terminal (indicatif), for work that takes more than a moment:
//! `extract` (a bar of the bytes written), `verify` and `pack` (spinners), and a runner's
//! first compile of a module (a spinner driven by `tracing` events, see [`ProgressLayer`]).
//!
//! An indicator is drawn only when stderr is a terminal (never on a pipe or a file, and not
//! with `TERM=dumb`) and `--quiet` was not given, always to stderr, and only once its work
//! has lasted [`DEFAULT_DELAY`]: quick commands stay silent. It disappears without a trace
//! when its work ends. Log lines printed meanwhile suspend the indicators ([`LogWriter`]).
//!
//! The library side knows nothing of this: `extract` and `pack` take a progress callback
//! (`webc_host::extract::ExtractProgress`, `webc_pack::Progress`), and runners emit
//! events under the target [`TARGET`] (`docs/writing-a-runner.md`).

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer};

/// The `tracing` target of progress events (a convention any runner may follow).
pub const TARGET: &str = "webc::progress";
/// The target under which the host re-emits a plugin's events; their original target is
/// the `plugin` field and their fields arrive formatted in the message.
const FORWARDED_TARGET: &str = "webc_runner";
/// How long work runs before its indicator appears.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(300);
/// Overrides [`DEFAULT_DELAY`] (milliseconds); the tests use it to draw at once.
const DELAY_ENV: &str = "WEBC_PROGRESS_DELAY_MS";
/// How often a visible indicator is redrawn (a spinner turns even without updates).
const TICK: Duration = Duration::from_millis(100);

/// Whether and when indicators are drawn, decided once at start-up.
#[derive(Debug, Clone, Copy)]
struct Config {
    enabled: bool,
    delay: Duration,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// All visible indicators share one drawing area on stderr, so several can coexist and a
/// log line can suspend them all.
static MULTI: OnceLock<MultiProgress> = OnceLock::new();

fn multi() -> &'static MultiProgress {
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// Decides, once, whether indicators are drawn: stderr is a terminal, `TERM` is not
/// `dumb`, and not `quiet`. Returns that decision.
pub fn init(quiet: bool) -> bool {
    let delay = std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_DELAY, Duration::from_millis);
    let enabled = !quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    CONFIG.get_or_init(|| Config { enabled, delay }).enabled
}

fn config() -> Config {
    CONFIG.get().copied().unwrap_or(Config {
        enabled: false,
        delay: DEFAULT_DELAY,
    })
}

/// Runs `f` (which writes to stderr) with any visible indicator cleared first and redrawn
/// after, so the output and the indicators do not mix.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match MULTI.get() {
        Some(multi) => multi.suspend(f),
        None => f(),
    }
}

/// Clears every visible indicator (the process is about to end by a signal).
pub fn clear_all() {
    if let Some(multi) = MULTI.get() {
        let _ = multi.clear();
    }
}

/// One piece of work's indicator: hidden until the work has lasted the delay, cleared when
/// dropped. Without a terminal (or with `--quiet`) it does nothing at all.
#[derive(Debug)]
pub struct Indicator {
    bar: ProgressBar,
    /// Set when the work ends; the thread that shows the bar after the delay checks it
    /// under the same lock, so a finished bar is never shown.
    finished: Arc<Mutex<bool>>,
}

impl Indicator {
    /// A spinner with a message: `⠙ [3s] compiling hello (20.1 MiB)` (the message is cut
    /// to the terminal's width).
    pub fn spinner(message: impl Into<String>) -> Indicator {
        let style = ProgressStyle::with_template("{spinner} [{elapsed}] {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::hidden();
        bar.set_style(style);
        bar.set_message(message.into());
        Indicator::show_later(bar)
    }

    /// Turns the indicator into a bar counting bytes up to `total`:
    /// `[=====>        ] 12.0 MiB/40.0 MiB (3s) MESSAGE`.
    pub fn count_bytes(&self, message: impl Into<String>, total: u64) {
        let style =
            ProgressStyle::with_template("[{bar:25}] {bytes}/{total_bytes} ({eta}) {wide_msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_message(message.into());
        self.bar.set_style(style);
    }

    fn show_later(bar: ProgressBar) -> Indicator {
        let finished = Arc::new(Mutex::new(false));
        let config = config();
        if config.enabled && config.delay.is_zero() {
            // Drawn at once (and so deterministically, for the tests).
            return Indicator {
                bar: show(bar),
                finished,
            };
        }
        if config.enabled {
            let weak = bar.downgrade();
            let done = Arc::clone(&finished);
            // Without a thread the bar simply stays hidden: progress is a nicety.
            let _ = std::thread::Builder::new()
                .name("webc-progress".into())
                .spawn(move || {
                    std::thread::sleep(config.delay);
                    let done = done.lock().unwrap_or_else(|e| e.into_inner());
                    if *done {
                        return;
                    }
                    if let Some(bar) = weak.upgrade() {
                        show(bar);
                    }
                });
        }
        Indicator { bar, finished }
    }

    /// Counts `n` more units (bytes for [`Indicator::bytes`]).
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Replaces the message.
    pub fn set_message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }
}

/// Draws `bar` now, and again at every tick.
fn show(bar: ProgressBar) -> ProgressBar {
    let bar = multi().add(bar);
    // Before the steady tick: once a ticker is installed, `tick` leaves drawing to it.
    bar.tick();
    bar.enable_steady_tick(TICK);
    bar
}

impl Drop for Indicator {
    fn drop(&mut self) {
        let mut done = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        *done = true;
        self.bar.finish_and_clear();
        if let Some(multi) = MULTI.get() {
            multi.remove(&self.bar);
        }
    }
}

/// A path as an indicator names it: its last component (the line is short).
pub fn short_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `extract`'s indicator: a spinner while the package is checked, then a bar of the bytes
/// of file content written.
#[derive(Debug)]
pub struct ExtractProgress {
    indicator: Indicator,
    package: String,
}

impl ExtractProgress {
    /// The indicator for extracting `package`.
    pub fn new(package: &Path) -> ExtractProgress {
        let package = short_name(package);
        ExtractProgress {
            indicator: Indicator::spinner(format!("checking {package}")),
            package,
        }
    }
}

impl webc_host::extract::ExtractProgress for ExtractProgress {
    fn start(&mut self, _files: u64, bytes: u64) {
        self.indicator
            .count_bytes(format!("extracting {}", self.package), bytes);
    }
    fn wrote_file(&mut self, bytes: u64) {
        self.indicator.inc(bytes);
    }
}

/// `pack`'s spinner: files and bytes read so far.
#[derive(Debug)]
pub struct PackProgress {
    /// The spinner.
    pub indicator: Indicator,
    what: String,
    files: u64,
    bytes: u64,
}

impl PackProgress {
    /// A spinner for packing `what`.
    pub fn new(what: &Path) -> PackProgress {
        let what = short_name(what);
        PackProgress {
            indicator: Indicator::spinner(format!("packing {what}")),
            what,
            files: 0,
            bytes: 0,
        }
    }
}

impl webc_pack::Progress for PackProgress {
    fn read_file(&mut self, _path: &Path, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
        // Every file would redraw for nothing: the message only shows at the tick rate.
        if self.files.is_power_of_two() || self.files.is_multiple_of(64) {
            self.indicator.set_message(format!(
                "packing {}: {} files, {} read",
                self.what,
                self.files,
                webc_host::extract::human_size(self.bytes)
            ));
        }
    }
}

/// A progress event: `phase` (e.g. `compile`), `state` (`start` or `end`), `what` (e.g. the
/// atom's name) and, optionally, `bytes` (the size of the input).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProgressEvent {
    /// What kind of work, e.g. `compile`.
    pub phase: String,
    /// `start` or `end`.
    pub state: String,
    /// What the work is on, e.g. an atom's name.
    pub what: String,
    /// The size of the input, when known.
    pub bytes: Option<u64>,
}

impl ProgressEvent {
    /// The spinner's text: `compiling hello (20.1 MiB)`.
    fn message(&self) -> String {
        let verb = match self.phase.as_str() {
            "compile" => "compiling".to_owned(),
            other => other.to_owned(),
        };
        let mut m = verb;
        if !self.what.is_empty() {
            m.push(' ');
            m.push_str(&self.what);
        }
        if let Some(b) = self.bytes {
            m.push_str(&format!(" ({})", webc_host::extract::human_size(b)));
        }
        m
    }

    /// Sets one field by name; false for names that are not a progress field.
    fn set(&mut self, name: &str, value: &str) -> bool {
        let value = value.trim_matches('"');
        match name {
            "phase" => self.phase = value.to_owned(),
            "state" => self.state = value.to_owned(),
            "what" => self.what = value.to_owned(),
            "bytes" => self.bytes = value.parse().ok(),
            _ => return false,
        }
        true
    }

    /// Reads the fields from a forwarded message, `phase=compile state=start what=a b
    /// bytes=12`: a word without a known `name=` continues the previous value.
    fn parse_forwarded(text: &str) -> Option<ProgressEvent> {
        let mut event = ProgressEvent::default();
        let mut current: Option<(String, String)> = None;
        for word in text.split(' ') {
            let field = word
                .split_once('=')
                .filter(|(name, _)| matches!(*name, "phase" | "state" | "what" | "bytes"));
            match field {
                Some((name, value)) => {
                    if let Some((n, v)) = current.take() {
                        event.set(&n, &v);
                    }
                    current = Some((name.to_owned(), value.to_owned()));
                }
                None => {
                    if let Some((_, v)) = current.as_mut() {
                        v.push(' ');
                        v.push_str(word);
                    }
                }
            }
        }
        if let Some((n, v)) = current {
            event.set(&n, &v);
        }
        (!event.phase.is_empty() && !event.state.is_empty()).then_some(event)
    }

    /// The progress event carried by `event`: one emitted in this process under
    /// [`TARGET`], or a plugin's re-emitted by the host (target `webc_runner`, field
    /// `plugin` = [`TARGET`], the fields formatted in the message).
    pub fn from_tracing(event: &Event<'_>) -> Option<ProgressEvent> {
        let target = event.metadata().target();
        if target != TARGET && target != FORWARDED_TARGET {
            return None;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if target == TARGET {
            let e = fields.event;
            (!e.phase.is_empty() && !e.state.is_empty()).then_some(e)
        } else if fields.plugin.as_deref() == Some(TARGET) {
            ProgressEvent::parse_forwarded(&fields.message)
        } else {
            None
        }
    }
}

#[derive(Default)]
struct Fields {
    event: ProgressEvent,
    plugin: Option<String>,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "plugin" => self.plugin = Some(value.to_owned()),
            "message" => self.message = value.to_owned(),
            name => {
                self.event.set(name, value);
            }
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_str(field, &value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_str(field, &value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// A `tracing` layer that turns progress events into spinners: a `start` event shows one
/// (after the delay), the matching `end` event (same phase and `what`) clears it.
#[derive(Debug, Default)]
pub struct ProgressLayer {
    active: Mutex<HashMap<(String, String), Indicator>>,
}

impl ProgressLayer {
    /// Its filter: the progress target and the host's re-emitted plugin events, at `info`
    /// (which is also what makes plugins forward their `info` events at all).
    pub fn filter() -> tracing_subscriber::filter::Targets {
        tracing_subscriber::filter::Targets::new()
            .with_target(TARGET, tracing::Level::INFO)
            .with_target(FORWARDED_TARGET, tracing::Level::INFO)
    }
}

impl<S: Subscriber> Layer<S> for ProgressLayer {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let Some(p) = ProgressEvent::from_tracing(event) else {
            return;
        };
        let key = (p.phase.clone(), p.what.clone());
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        match p.state.as_str() {
            "start" => {
                active.insert(key, Indicator::spinner(p.message()));
            }
            "end" => {
                // Dropping the indicator clears it.
                active.remove(&key);
            }
            _ => {}
        }
    }
}

/// A filter for the log output that drops progress events: they drive indicators and are
/// never printed as log lines, whatever `WEBC_LOG` says.
#[derive(Debug, Clone, Copy)]
pub struct NotProgress;

impl<S> Filter<S> for NotProgress {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        meta.target() != TARGET
    }
    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        ProgressEvent::from_tracing(event).is_none()
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        // No limit of its own (combined with `and`, `None` would mean "no hint at all").
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
}

/// Where log lines go: stderr, with the indicators suspended while a line is written.
#[derive(Debug, Clone, Copy)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_fields_parse_with_spaces_in_what() {
        let e = ProgressEvent::parse_forwarded("phase=compile state=start what=my atom bytes=42")
            .expect("an event");
        assert_eq!(e.phase, "compile");
        assert_eq!(e.state, "start");
        assert_eq!(e.what, "my atom");
        assert_eq!(e.bytes, Some(42));
        assert_eq!(e.message(), "compiling my atom (42 B)");
        // Not progress: no phase/state.
        assert_eq!(ProgressEvent::parse_forwarded("compiled module ms=3"), None);
        // Fields in any order, unknown words before the first field ignored.
        let e = ProgressEvent::parse_forwarded("x bytes=2048 what=a state=end phase=compile")
            .expect("an event");
        assert_eq!((e.state.as_str(), e.what.as_str()), ("end", "a"));
        assert_eq!(e.message(), "compiling a (2.0 KiB)");
    }
}
