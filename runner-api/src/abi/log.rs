//! Log forwarding: each cdylib has its own copy of `tracing`'s globals, so a plugin's events
//! would vanish. The host hands the plugin a sink; the plugin installs a subscriber that
//! formats each event and passes it through the sink; the host re-emits it.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, RStr};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Metadata, Subscriber};

/// Where a plugin sends its log records.
#[sabi_trait]
pub trait AbiLog: Send + Sync + 'static {
    /// Level: 0 error, 1 warn, 2 info, 3 debug, 4 trace.
    #[sabi(last_prefix_field)]
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>);
}

/// A log sink handed to a plugin.
pub type LogBox = AbiLog_TO<RBox<()>>;

fn level_num(l: &Level) -> u8 {
    match *l {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        _ => 4,
    }
}

/// Host side: re-emits plugin records as `tracing` events with target `webc_runner`.
struct HostSink;

impl AbiLog for HostSink {
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>) {
        let (target, message) = (target.as_str(), message.as_str());
        match level {
            0 => tracing::error!(target: "webc_runner", plugin = target, "{message}"),
            1 => tracing::warn!(target: "webc_runner", plugin = target, "{message}"),
            2 => tracing::info!(target: "webc_runner", plugin = target, "{message}"),
            3 => tracing::debug!(target: "webc_runner", plugin = target, "{message}"),
            _ => tracing::trace!(target: "webc_runner", plugin = target, "{message}"),
        }
    }
}

pub(crate) fn host_sink() -> LogBox {
    AbiLog_TO::from_value(HostSink, TD_Opaque)
}

/// Forwards `tracing` events from this library to a sink.
pub fn forward_logs_to(sink: LogBox, max_level: u8) {
    install(sink, max_level);
}

static SINK: OnceLock<Mutex<Option<LogBox>>> = OnceLock::new();
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);

/// Plugin side: remember the sink and install the forwarding subscriber (once).
pub(crate) fn install(sink: LogBox, max_level: u8) {
    let slot = SINK.get_or_init(|| Mutex::new(None));
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink);
    MAX_LEVEL.store(max_level, Ordering::Relaxed);
    // Fails harmlessly if a subscriber is already installed (e.g. a second call).
    let _ = tracing::subscriber::set_global_default(Forward {
        next_id: AtomicU64::new(1),
    });
}

struct Forward {
    next_id: AtomicU64,
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let sep = if self.0.is_empty() { "" } else { " " };
            let _ = write!(self.0, "{sep}{}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let sep = if self.0.is_empty() { "" } else { " " };
            let _ = write!(self.0, "{sep}{}={value}", field.name());
        }
    }
}

impl Subscriber for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_num(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed).max(1))
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut msg = Message::default();
        event.record(&mut msg);
        if let Some(slot) = SINK.get()
            && let Some(sink) = slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
        {
            let meta = event.metadata();
            sink.log(
                level_num(meta.level()),
                meta.target().into(),
                msg.0.as_str().into(),
            );
        }
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}
