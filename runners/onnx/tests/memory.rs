//! What a bad request costs: the heap a job's whole run (reading stdin, decoding, refusing)
//! needs for requests of tens of MB that cannot succeed — a wrong shape, ragged arrays —
//! measured by a counting global allocator (its high-water mark, not time or an rlimit), on
//! the tract runner with `--memory 256MiB`. Decoding such a request used to build a
//! `serde_json::Value` tree of 11–39 times its size whatever the limit.

#![cfg(feature = "tract")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use webc_runner_api::{Job, JobSpec, Limits, Outcome, Runner};
use webc_runner_onnx::OnnxTractRunner;

/// `System`, counting the bytes live and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

fn shrank(n: usize) {
    LIVE.fetch_sub(n, Ordering::SeqCst);
}

// SAFETY: every method forwards its arguments unchanged to `System`, which implements the
// `GlobalAlloc` contract; the counters only record sizes and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`; forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds
        // `realloc`'s contract for `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One test at a time: the counters are the process's, and a test building or dropping
/// its request while another measures would skew the other's figure.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const LIMIT: u64 = 256 << 20;

struct Measured {
    outcome: Outcome,
    stdout: String,
    stderr: String,
    /// Bytes allocated at the peak of the run, beyond those live when it started.
    peak: usize,
}

/// Runs the MLP (`x`: float32 `[N, 4]`) on the tract runner with `--memory 256MiB`.
fn run(args: &[&str], request: &[u8]) -> Measured {
    let model_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mlp.onnx");
    let model = std::fs::read(model_path).unwrap();
    let fs = webc_vfs::VfsBuilder::new().build().unwrap();
    let runner = OnnxTractRunner::new();
    let (mut out, mut err) = (Vec::with_capacity(1 << 16), Vec::with_capacity(1 << 16));
    let mut stdin = request;
    let spec = JobSpec {
        command: "infer".into(),
        runner_uri: webc_runner_onnx::URI.into(),
        atom_name: "mlp".into(),
        atom_kind: webc_runner_onnx::ATOM_KIND.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        limits: Limits {
            memory: Some(LIMIT),
            time: None,
        },
        ..JobSpec::default()
    };
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let outcome = runner
        .run(Job {
            host: &webc_runner_api::NoHostServices,
            spec,
            atom: &model,
            fs: &fs,
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        })
        .unwrap();
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    Measured {
        outcome,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
        peak,
    }
}

/// `{"x": [[row], [row], …]}` of about `size` bytes, `bad(i)` choosing a row's text.
fn request(size: usize, bad: impl Fn(usize) -> Option<&'static str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(b"{\"x\": [");
    let mut i = 0;
    while out.len() < size {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(bad(i).unwrap_or("[1,2,3,4]").as_bytes());
        i += 1;
    }
    out.extend_from_slice(b"]}\n");
    out
}

fn mb(n: usize) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

#[track_caller]
fn assert_refused(m: &Measured, want: &str) {
    assert_eq!(m.outcome, Outcome::Exit(1), "stderr: {}", m.stderr);
    assert!(m.stderr.contains(want), "stderr: {}", m.stderr);
}

#[test]
fn a_50mb_request_of_the_wrong_shape_costs_about_its_own_size() {
    let _serial = serial();
    // Every row has 3 numbers where the model takes 4.
    let req = request(50_000_000, |_| Some("[1,2,3]"));
    let m = run(&[], &req);
    assert_refused(&m, "dimension 1 must be 4 (model shape [N, 4]), got 3");
    eprintln!(
        "wrong shape: request {}, peak heap {}",
        mb(req.len()),
        mb(m.peak)
    );
    // The copy read from stdin (its buffer grows to at most twice the request) and little
    // else: no tensor, no JSON tree.
    assert!(
        m.peak < 2 * req.len() + (8 << 20),
        "peak heap {} for a request of {}",
        mb(m.peak),
        mb(req.len())
    );
}

#[test]
fn a_58mb_ragged_request_costs_at_most_its_size_and_the_tensor_so_far() {
    let _serial = serial();
    // Early: a short row at the start.
    let early = request(58_000_000, |i| (i == 1).then_some("[1,2,3]"));
    let m = run(&[], &early);
    assert_refused(&m, "x[1]: ragged array: 3 elements where the first row");
    eprintln!(
        "ragged early: request {}, peak heap {}",
        mb(early.len()),
        mb(m.peak)
    );
    assert!(
        m.peak < 2 * early.len() + (8 << 20),
        "peak heap {} for a request of {}",
        mb(m.peak),
        mb(early.len())
    );
    drop(early);
    // Late: the fast path has decoded most of the tensor when it meets the short row (four
    // float32 of 4 bytes per 10-byte row); the precise pass keeps nothing.
    let late = request(58_000_000, |i| (i == 5_700_000).then_some("[1,2,3]"));
    let m = run(&[], &late);
    assert_refused(&m, "x[5700000]: ragged array");
    eprintln!(
        "ragged late: request {}, peak heap {}",
        mb(late.len()),
        mb(m.peak)
    );
    assert!(
        m.peak < 4 * late.len(),
        "peak heap {} for a request of {}",
        mb(m.peak),
        mb(late.len())
    );
}

#[test]
fn a_jsonl_line_and_an_explicit_tensor_of_the_wrong_shape_cost_about_their_size() {
    let _serial = serial();
    let mut line = request(30_000_000, |_| Some("[1,2,3]"));
    line.pop();
    line.extend_from_slice(b"\n{\"x\": [[1,2,3,4]]}\n");
    let m = run(&["--jsonl"], &line);
    assert_eq!(m.outcome, Outcome::Exit(1), "stderr: {}", m.stderr);
    let answers: Vec<&str> = m.stdout.lines().collect();
    assert_eq!(answers.len(), 2, "{}", m.stdout);
    assert!(
        answers[0].contains("dimension 1 must be 4"),
        "{}",
        answers[0]
    );
    assert!(answers[1].starts_with("{\"outputs\""), "{}", answers[1]);
    eprintln!(
        "jsonl: request {}, peak heap {}",
        mb(line.len()),
        mb(m.peak)
    );
    assert!(
        m.peak < 2 * line.len() + (8 << 20),
        "peak heap {} for a request of {}",
        mb(m.peak),
        mb(line.len())
    );
    drop(line);
    // An explicit tensor whose data comes first: 30 MB of numbers for a shape of 3 columns.
    let mut req = br#"{"x": {"data": ["#.to_vec();
    while req.len() < 30_000_000 {
        req.extend_from_slice(b"1,");
    }
    req.extend_from_slice(br#"1], "shape": [3, 3]}}"#);
    let m = run(&[], &req);
    assert_refused(&m, "dimension 1 must be 4 (model shape [N, 4]), got 3");
    eprintln!(
        "explicit: request {}, peak heap {}",
        mb(req.len()),
        mb(m.peak)
    );
    // The fast path keeps the data until it sees the shape (one float32 per 2 bytes).
    assert!(
        m.peak < 4 * req.len() + (8 << 20),
        "peak heap {} for a request of {}",
        mb(m.peak),
        mb(req.len())
    );
    drop(req);
    // The same data after a shape over the limit (2^26 rows of 4 float32 = 1 GiB): refused
    // before any of it is kept.
    let mut req = br#"{"x": {"shape": [67108864, 4], "data": ["#.to_vec();
    while req.len() < 30_000_000 {
        req.extend_from_slice(b"1,");
    }
    req.extend_from_slice(b"1]}}");
    let m = run(&[], &req);
    assert_refused(&m, "over the memory limit of 268435456 bytes");
    eprintln!(
        "shape over the limit: request {}, peak heap {}",
        mb(req.len()),
        mb(m.peak)
    );
    assert!(
        m.peak < 2 * req.len() + (8 << 20),
        "peak heap {} for a request of {}",
        mb(m.peak),
        mb(req.len())
    );
}
