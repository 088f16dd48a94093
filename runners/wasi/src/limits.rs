//! Memory and wall-time limits.
//!
//! Memory: a wasmtime [`ResourceLimiter`] per store counts every linear memory (and every
//! table, at a pointer per element) against the job's byte budget — the initial sizes
//! allocated at instantiation included — and refuses growth beyond it (`memory.grow`
//! returns -1, so `malloc` fails cleanly). Never `RLIMIT_AS`: wasmtime reserves address
//! space far beyond what it uses.
//!
//! Wall time: timed runs use an engine built with epoch interruption (untimed runs use one
//! without, so they pay nothing for it). A timed store gets an epoch
//! deadline one tick ahead and a callback that compares the store's own [`Instant`]
//! deadline: before it, the callback extends the deadline by one tick and execution
//! continues; after it, the callback fails the call with [`TimedOut`]. Ticks come from one
//! process-wide ticker thread that exists only while at least one timed run is in
//! progress: it sleeps until the earliest deadline not yet fired and then increments that
//! run's engine epoch once, so concurrent runs never stop each other and untimed runs
//! cost no thread and no wake-ups.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use wasmtime::{Engine, ResourceLimiter};

/// The run reached its time limit (raised from the epoch callback or a blocking host call);
/// [`crate::run_instance`] turns it into `Outcome::Timeout`. Another runner's own blocking
/// import raises it (as `wasmtime::Error::new(TimedOut)`) when it finds the deadline passed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the time limit was reached")]
pub struct TimedOut;

/// Bytes charged for one table element (wasmtime stores a pointer per element).
const TABLE_ELEMENT_BYTES: u64 = 8;

/// Per-store resource limiter.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    /// Byte budget for all memories and tables; `None` = unlimited.
    limit: Option<u64>,
    /// Bytes currently granted.
    used: u64,
    /// Growth granted but not yet confirmed (reverted if wasmtime reports a failure).
    pending: u64,
    /// The last refusal: (bytes in use, bytes requested).
    pub(crate) refused: Option<(u64, u64)>,
}

impl Limiter {
    pub(crate) fn new(limit: Option<u64>) -> Limiter {
        Limiter {
            limit,
            ..Limiter::default()
        }
    }

    fn grow(&mut self, current: u64, desired: u64) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        let extra = desired.saturating_sub(current);
        let wanted = self.used.saturating_add(extra);
        if wanted > limit {
            self.refused = Some((self.used, extra));
            self.pending = 0;
            return false;
        }
        self.used = wanted;
        self.pending = extra;
        true
    }

    fn grow_failed(&mut self) {
        self.used = self.used.saturating_sub(self.pending);
        self.pending = 0;
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(to_u64(current), to_u64(desired)))
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.grow_failed();
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(
            to_u64(current).saturating_mul(TABLE_ELEMENT_BYTES),
            to_u64(desired).saturating_mul(TABLE_ELEMENT_BYTES),
        ))
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.grow_failed();
        Ok(())
    }
}

/// One timed run known to the ticker.
struct Timed {
    deadline: Instant,
    engine: Engine,
    fired: bool,
}

#[derive(Default)]
struct TickerState {
    runs: BTreeMap<u64, Timed>,
    next_id: u64,
    thread_running: bool,
}

struct Ticker {
    state: Mutex<TickerState>,
    wake: Condvar,
}

fn ticker() -> &'static Ticker {
    static TICKER: OnceLock<Ticker> = OnceLock::new();
    TICKER.get_or_init(|| Ticker {
        state: Mutex::new(TickerState::default()),
        wake: Condvar::new(),
    })
}

fn lock(t: &Ticker) -> MutexGuard<'_, TickerState> {
    t.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registration of a timed run; dropping it unregisters (and lets the ticker thread end
/// when it was the last).
#[derive(Debug)]
pub(crate) struct TimedRun {
    id: u64,
}

impl TimedRun {
    /// Registers a run whose store uses `engine` and must stop at `deadline`.
    pub(crate) fn start(engine: &Engine, deadline: Instant) -> std::io::Result<TimedRun> {
        let t = ticker();
        let mut st = lock(t);
        let id = st.next_id;
        st.next_id += 1;
        st.runs.insert(
            id,
            Timed {
                deadline,
                engine: engine.clone(),
                fired: false,
            },
        );
        if !st.thread_running {
            std::thread::Builder::new()
                .name("webc-wasi-epoch".into())
                .spawn(tick_loop)
                .inspect_err(|_| {
                    st.runs.remove(&id);
                })?;
            st.thread_running = true;
        }
        drop(st);
        t.wake.notify_all();
        Ok(TimedRun { id })
    }
}

impl Drop for TimedRun {
    fn drop(&mut self) {
        let t = ticker();
        lock(t).runs.remove(&self.id);
        t.wake.notify_all();
    }
}

fn tick_loop() {
    let t = ticker();
    let mut st = lock(t);
    loop {
        if st.runs.is_empty() {
            st.thread_running = false;
            return;
        }
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        for run in st.runs.values_mut().filter(|r| !r.fired) {
            if run.deadline <= now {
                // Once is enough: the epoch counter only grows, so the store sees the
                // deadline at its next check even if it is in a host call right now.
                run.engine.increment_epoch();
                run.fired = true;
            } else {
                earliest = Some(earliest.map_or(run.deadline, |e| e.min(run.deadline)));
            }
        }
        st = match earliest {
            Some(at) => {
                let wait = at.saturating_duration_since(Instant::now());
                t.wake
                    .wait_timeout(st, wait)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0)
            }
            None => t.wake.wait(st).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_all_memories_and_reverts_failures() {
        let mut l = Limiter::new(Some(4 * 65536));
        assert!(l.memory_growing(0, 2 * 65536, None).unwrap());
        assert!(l.memory_growing(0, 65536, None).unwrap());
        assert!(!l.memory_growing(65536, 3 * 65536, None).unwrap());
        assert_eq!(l.refused, Some((3 * 65536, 2 * 65536)));
        assert!(l.memory_growing(65536, 2 * 65536, None).unwrap());
        l.memory_grow_failed(wasmtime::Error::msg("max")).unwrap();
        assert!(l.memory_growing(65536, 2 * 65536, None).unwrap());
        assert!(!l.table_growing(0, 1, None).unwrap());
        let mut free = Limiter::new(None);
        assert!(free.memory_growing(0, usize::MAX, None).unwrap());
    }
}
