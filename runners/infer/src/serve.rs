//! What every backend shares: runner info and options, program modes, the model cache and
//! the request loop over the job's stdio.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use webc_runner_api::{Job, JobSpec, Outcome, RunnerError, RunnerInfo};

use crate::Error;
use crate::backend::{Model, RunnerParams, Settings};
use crate::codec::{self, Signature, Tensor};

/// The info of the runner `p`.
pub(crate) fn info(p: &RunnerParams) -> RunnerInfo {
    let mut info = RunnerInfo::new(p.name, p.version, p.description)
        .serves(p.uri, "*")
        .atom_kind(p.atom_kind)
        .priority(p.priority)
        .backend(p.backend)
        .option("threads", "threads for one inference (default 1)")
        .option(
            "backend",
            format!(
                "{}: which backend (the host selects the runner; a value naming \
                 another backend is refused)",
                p.backends.join(" | ")
            ),
        );
    for &(key, help) in p.options {
        info = info.option(key, help);
    }
    info
}

/// Parses the job's options for the runner `p`.
pub(crate) fn settings(spec: &JobSpec, p: &RunnerParams) -> Result<Settings, Error> {
    let mut s = Settings {
        threads: 1,
        options: Vec::new(),
    };
    for (key, value) in &spec.options {
        match key.as_str() {
            "threads" => {
                s.threads = value
                    .parse()
                    .ok()
                    .filter(|&n: &usize| (1..=1024).contains(&n))
                    .ok_or_else(|| {
                        Error::Option(format!(
                            "threads={value}: expected a number of threads from 1 to 1024"
                        ))
                    })?;
            }
            "backend" if value == p.backend => {}
            "backend" => {
                return Err(Error::Option(format!(
                    "backend={value} requested, but this is the {} runner (backends: {})",
                    p.name,
                    p.backends.join(", ")
                )));
            }
            other if p.options.iter().any(|&(k, _)| k == other) => {
                s.options.push((key.clone(), value.clone()));
            }
            other => {
                let known: Vec<&str> = ["threads", "backend"]
                    .into_iter()
                    .chain(p.options.iter().map(|&(k, _)| k))
                    .collect();
                return Err(Error::Option(format!(
                    "unknown option `{other}` for {} (known: {})",
                    p.name,
                    known.join(", ")
                )));
            }
        }
    }
    Ok(s)
}

/// What the program arguments ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One request on stdin, one response on stdout.
    Infer,
    /// One request per line.
    Jsonl,
    /// Print the model's signature.
    Describe,
}

/// The mode `args` ask for, or the usage message (naming `docs`, where the protocol is
/// documented).
pub(crate) fn mode(args: &[String], docs: &str) -> Result<Mode, String> {
    match args {
        [] => Ok(Mode::Infer),
        [a] if a == "--jsonl" => Ok(Mode::Jsonl),
        [a] if a == "--describe" => Ok(Mode::Describe),
        _ => Err(format!(
            "unexpected arguments {args:?}; usage: infer [--jsonl | --describe] \
             (request on stdin; see {docs})"
        )),
    }
}

/// A process-wide cache of one backend's loaded models (see [`Backend::cache`]), keyed by
/// the atom's SHA-256 and the settings that shape a model, least recently used evicted first.
///
/// [`Backend::cache`]: crate::Backend::cache
pub struct ModelCache<M> {
    entries: Mutex<VecDeque<(String, Arc<M>)>>,
}

impl<M> std::fmt::Debug for ModelCache<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelCache").finish_non_exhaustive()
    }
}

/// Models kept per backend.
const CACHE_CAPACITY: usize = 8;

impl<M> Default for ModelCache<M> {
    fn default() -> ModelCache<M> {
        ModelCache::new()
    }
}

impl<M> ModelCache<M> {
    /// An empty cache.
    pub const fn new() -> ModelCache<M> {
        ModelCache {
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The model for `key`, loading it with `load` on a miss. An empty key (no atom hash)
    /// is never cached.
    pub(crate) fn get_or_load(
        &self,
        backend: &str,
        key: String,
        load: impl FnOnce() -> Result<M, Error>,
    ) -> Result<Arc<M>, Error> {
        if !key.is_empty() {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pos) = entries.iter().position(|(k, _)| *k == key)
                && let Some(entry) = entries.remove(pos)
            {
                let model = entry.1.clone();
                entries.push_back(entry);
                tracing::debug!(backend, key, "model cache hit");
                return Ok(model);
            }
        }
        let start = Instant::now();
        let model = Arc::new(load()?);
        tracing::debug!(
            backend,
            key,
            ms = start.elapsed().as_secs_f64() * 1e3,
            "loaded model"
        );
        if !key.is_empty() {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if !entries.iter().any(|(k, _)| *k == key) {
                if entries.len() >= CACHE_CAPACITY {
                    entries.pop_front();
                }
                entries.push_back((key, model.clone()));
            }
        }
        Ok(model)
    }
}

/// What a runner returns when its backend cannot load the model: [`RunnerError::Refused`]
/// with the backend's error on one line, so the host may hand the atom to another runner for
/// the URI. Only for errors of loading, which the runner finishes before [`serve`] touches
/// stdin, stdout or stderr (the promise `Refused` makes); any other error converts as usual.
pub(crate) fn refused(e: Error) -> RunnerError {
    match e {
        Error::Load(m) => RunnerError::Refused(one_line(&m)),
        e => e.into(),
    }
}

/// `text` with its lines joined by spaces (a backend's message may span several).
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks the job's atom kind.
pub(crate) fn check_kind(spec: &JobSpec, p: &RunnerParams) -> Result<(), RunnerError> {
    if spec.atom_kind != p.atom_kind {
        return Err(RunnerError::CannotExecute(format!(
            "atom `{}` is of kind {}, not {}",
            spec.atom_name, spec.atom_kind, p.atom_kind
        )));
    }
    Ok(())
}

fn io_err(e: std::io::Error) -> RunnerError {
    RunnerError::Other(format!("writing the response: {e}"))
}

/// Runs the job's mode on a loaded model.
pub(crate) fn serve(job: Job<'_>, mode: Mode, model: &dyn Model) -> Result<Outcome, RunnerError> {
    let sig = model.signature();
    let limit = job.spec.limits.memory;
    match mode {
        Mode::Describe => {
            let doc = codec::describe(sig);
            serde_json::to_writer(&mut *job.stdout, &doc).map_err(|e| io_err(e.into()))?;
            job.stdout.write_all(b"\n").map_err(io_err)?;
            job.stdout.flush().map_err(io_err)?;
            Ok(Outcome::Exit(0))
        }
        Mode::Infer => {
            let result = codec::read_limited(job.stdin, limit)
                .and_then(|bytes| infer_one(model, &bytes, limit));
            match result {
                Ok(outputs) => {
                    write_outputs(job.stdout, sig, &outputs).map_err(io_err)?;
                    job.stdout.flush().map_err(io_err)?;
                    Ok(Outcome::Exit(0))
                }
                Err(Error::TimedOut) => Ok(Outcome::Timeout),
                Err(Error::Io(m)) => Err(RunnerError::Other(m)),
                Err(e) => {
                    writeln!(job.stderr, "error: {e}").map_err(io_err)?;
                    Ok(Outcome::Exit(1))
                }
            }
        }
        Mode::Jsonl => {
            let deadline = job.spec.limits.time.map(|t| Instant::now() + t);
            // 64 KiB: a piped batch crosses the plugin boundary once per 64 KiB, and most
            // request lines lie whole in the buffer, where they are decoded in place.
            let mut reader = BufReader::with_capacity(1 << 16, job.stdin);
            let mut failed = 0usize;
            let mut line = Vec::new();
            let mut number = 0usize;
            // Responses are collected here and written (and flushed) whenever no further
            // request is already waiting in the input buffer — so an interactive client gets
            // each answer before the runner blocks on its next line, while a piped batch
            // crosses the plugin boundary and makes a write syscall once per buffer, not per line.
            let mut pending: Vec<u8> = Vec::new();
            let send = |pending: &mut Vec<u8>, out: &mut dyn Write| -> Result<(), RunnerError> {
                if !pending.is_empty() {
                    out.write_all(pending).map_err(io_err)?;
                    out.flush().map_err(io_err)?;
                    pending.clear();
                }
                Ok(())
            };
            // What one request line gets: a refusal when it is over the limit, nothing when
            // it is blank, else an answer.
            let answer = |text: &[u8], too_long: bool| {
                if too_long {
                    Some(Err(Error::Request(format!(
                        "the request is larger than the memory limit of {} bytes",
                        limit.unwrap_or(0)
                    ))))
                } else if text.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    Some(infer_one(model, text, limit))
                }
            };
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    send(&mut pending, job.stdout)?;
                    return Ok(Outcome::Timeout);
                }
                // A line that lies whole in the buffer is answered from there (no copy);
                // otherwise it is gathered into `line` first. `None`: the input has ended.
                let step = match reader.fill_buf() {
                    Ok([]) => Ok(None),
                    Ok(buf) => match memchr::memchr(b'\n', buf) {
                        Some(i) => {
                            let result = answer(&buf[..i], limit.is_some_and(|l| i as u64 > l));
                            reader.consume(i + 1);
                            Ok(Some(result))
                        }
                        None => {
                            line.clear();
                            read_line(&mut reader, &mut line, limit)
                                .map(|(n, too_long)| (n > 0).then(|| answer(&line, too_long)))
                        }
                    },
                    Err(e) => Err(e),
                };
                let result = match step {
                    Ok(Some(result)) => result,
                    Ok(None) => break,
                    Err(e) => match codec::read_error(e) {
                        // The host's time limit passed while the read blocked.
                        Error::TimedOut => {
                            send(&mut pending, job.stdout)?;
                            return Ok(Outcome::Timeout);
                        }
                        e => return Err(RunnerError::Other(e.to_string())),
                    },
                };
                let Some(result) = result else { continue };
                number += 1;
                match result {
                    Ok(outputs) => write_outputs(&mut pending, sig, &outputs).map_err(io_err)?,
                    Err(e) => {
                        failed += 1;
                        codec::write_error(&mut pending, &e.to_string()).map_err(io_err)?;
                    }
                }
                if reader.buffer().is_empty() || pending.len() >= 1 << 16 {
                    send(&mut pending, job.stdout)?;
                }
            }
            send(&mut pending, job.stdout)?;
            if failed > 0 {
                writeln!(
                    job.stderr,
                    "error: {failed} of {number} request lines failed"
                )
                .map_err(io_err)?;
                return Ok(Outcome::Exit(1));
            }
            Ok(Outcome::Exit(0))
        }
    }
}

/// Reads one line (without its newline) of at most `limit` bytes; a longer line is consumed
/// to its end and reported as too long. Returns the bytes consumed (0 at end of input).
fn read_line(
    reader: &mut dyn BufRead,
    line: &mut Vec<u8>,
    limit: Option<u64>,
) -> std::io::Result<(usize, bool)> {
    let limit = limit.unwrap_or(u64::MAX);
    let mut consumed = 0usize;
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((consumed, too_long));
        }
        let (chunk, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if (line.len() + chunk.len()) as u64 > limit {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        consumed += used;
        if done.is_some() {
            return Ok((consumed, too_long));
        }
    }
}

fn infer_one(model: &dyn Model, bytes: &[u8], limit: Option<u64>) -> Result<Vec<Tensor>, Error> {
    let inputs = codec::decode_request(bytes, model.signature(), limit)?;
    let outputs = model.run(inputs)?;
    let sig = model.signature();
    if outputs.len() != sig.outputs.len() {
        return Err(Error::Backend(format!(
            "the model produced {} outputs, its signature has {}",
            outputs.len(),
            sig.outputs.len()
        )));
    }
    Ok(outputs)
}

fn write_outputs(w: &mut dyn Write, sig: &Signature, outputs: &[Tensor]) -> std::io::Result<()> {
    let named: Vec<(&str, &Tensor)> = sig
        .outputs
        .iter()
        .map(|o| o.name.as_str())
        .zip(outputs)
        .collect();
    codec::write_response(w, &named)
}

/// Bad program arguments: the usage on stderr, exit 2.
pub(crate) fn usage(job: Job<'_>, message: &str) -> Result<Outcome, RunnerError> {
    writeln!(job.stderr, "error: {message}").map_err(io_err)?;
    Ok(Outcome::Exit(2))
}

#[cfg(test)]
mod tests {
    use std::io::{self, Read};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use webc_runner_api::Limits;

    use super::*;
    use crate::codec::{DType, Dim, TensorInfo};

    /// Answers each request with its inputs.
    struct Echo(Signature);

    impl Model for Echo {
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, Error> {
            Ok(inputs)
        }
    }

    /// Yields `data`, then fails every read with `kind` (as the host's stdin does once the
    /// time limit passes during a blocked read).
    struct Stalls {
        data: &'static [u8],
        kind: io::ErrorKind,
    }

    impl Read for Stalls {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() {
                return Err(io::Error::new(self.kind, "blocked"));
            }
            let n = buf.len().min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn serve_stalling(
        mode: Mode,
        data: &'static [u8],
        kind: io::ErrorKind,
    ) -> (Result<Outcome, RunnerError>, String) {
        let info = |name: &str| TensorInfo {
            name: name.into(),
            dtype: DType::Float32,
            shape: Some(vec![Dim::Dynamic("N".into())]),
        };
        let model = Echo(Signature {
            inputs: vec![info("x")],
            outputs: vec![info("y")],
        });
        let fs = webc_vfs::VfsBuilder::new().build().expect("vfs");
        let mut stdin = Stalls { data, kind };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let job = Job {
            host: &webc_runner_api::NoHostServices,
            spec: JobSpec {
                limits: Limits {
                    memory: Some(1 << 20),
                    time: Some(std::time::Duration::from_secs(3600)),
                },
                ..JobSpec::default()
            },
            atom: &[],
            fs: &fs,
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        };
        let result = serve(job, mode, &model);
        (result, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn a_read_the_time_limit_ended_is_a_timeout() {
        let (r, out) = serve_stalling(Mode::Infer, b"{\"x\": [1", io::ErrorKind::TimedOut);
        assert_eq!(r, Ok(Outcome::Timeout));
        assert_eq!(out, "");
        // --jsonl answers the lines it had, then stops at the limit.
        let (r, out) = serve_stalling(
            Mode::Jsonl,
            b"{\"x\": [1]}\n{\"x\": [2",
            io::ErrorKind::TimedOut,
        );
        assert_eq!(r, Ok(Outcome::Timeout));
        assert_eq!(
            out,
            "{\"outputs\":{\"y\":{\"shape\":[1],\"dtype\":\"float32\",\"data\":[1.0]}}}\n"
        );
        // Any other failed read is still the runner's error.
        for mode in [Mode::Infer, Mode::Jsonl] {
            let (r, _) = serve_stalling(mode, b"{", io::ErrorKind::BrokenPipe);
            let Err(RunnerError::Other(m)) = r else {
                panic!("{mode:?}: {r:?}");
            };
            assert!(m.starts_with("reading the request: blocked"), "{m}");
        }
    }

    /// A runner shaped like `onnx-ort`: one backend option.
    const ORT: RunnerParams = RunnerParams {
        name: "onnx-ort",
        version: "1.2.3",
        description: "ONNX models on ONNX Runtime",
        uri: "https://webc.org/runner/onnx",
        atom_kind: "https://webc.org/kind/onnx",
        priority: 10,
        backend: "ort",
        backends: &["tract", "ort"],
        options: &[("library", "path of libonnxruntime.so to load")],
        docs: "docs/onnx-infer.md",
    };

    /// `onnx-tract`: no option of its own.
    const TRACT: RunnerParams = RunnerParams {
        name: "onnx-tract",
        backend: "tract",
        priority: 0,
        options: &[],
        ..ORT
    };

    fn spec(options: &[(&str, &str)]) -> JobSpec {
        JobSpec {
            options: options
                .iter()
                .map(|&(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..JobSpec::default()
        }
    }

    #[test]
    fn info_and_options_are_named_by_the_params() {
        let info = info(&ORT);
        assert_eq!(
            (info.name.as_str(), info.version.as_str(), info.priority),
            ("onnx-ort", "1.2.3", 10)
        );
        assert_eq!(info.backend.as_deref(), Some("ort"));
        assert_eq!(info.atom_kinds, ["https://webc.org/kind/onnx"]);
        assert_eq!(info.serves[0].uri, "https://webc.org/runner/onnx");
        let options: Vec<(&str, &str)> = info
            .options
            .iter()
            .map(|o| (o.key.as_str(), o.help.as_str()))
            .collect();
        assert_eq!(
            options,
            [
                ("threads", "threads for one inference (default 1)"),
                (
                    "backend",
                    "tract | ort: which backend (the host selects the runner; a value naming \
                     another backend is refused)"
                ),
                ("library", "path of libonnxruntime.so to load"),
            ]
        );
        assert_eq!(super::info(&TRACT).options.len(), 2);

        let s = settings(
            &spec(&[("threads", "4"), ("library", "/a"), ("library", "/b")]),
            &ORT,
        );
        let s = s.expect("settings");
        assert_eq!((s.threads, s.option("library")), (4, Some("/b")));
        assert_eq!(settings(&spec(&[]), &TRACT).map(|s| s.threads), Ok(1));
        let err = |p: &RunnerParams, options: &[(&str, &str)]| match settings(&spec(options), p) {
            Err(Error::Option(m)) => m,
            r => panic!("{r:?}"),
        };
        assert_eq!(
            err(&TRACT, &[("threads", "0")]),
            "threads=0: expected a number of threads from 1 to 1024"
        );
        assert_eq!(
            err(&TRACT, &[("backend", "ort")]),
            "backend=ort requested, but this is the onnx-tract runner (backends: tract, ort)"
        );
        assert_eq!(
            err(&TRACT, &[("library", "/a")]),
            "unknown option `library` for onnx-tract (known: threads, backend)"
        );
        assert_eq!(
            err(&ORT, &[("colour", "red")]),
            "unknown option `colour` for onnx-ort (known: threads, backend, library)"
        );
        assert_eq!(
            mode(&["-x".to_string()], ORT.docs),
            Err(
                "unexpected arguments [\"-x\"]; usage: infer [--jsonl | --describe] \
                 (request on stdin; see docs/onnx-infer.md)"
                    .to_string()
            )
        );
        let wrong = JobSpec {
            atom_name: "m".into(),
            atom_kind: "https://webc.org/kind/wasm".into(),
            ..JobSpec::default()
        };
        assert_eq!(
            check_kind(&wrong, &ORT),
            Err(RunnerError::CannotExecute(
                "atom `m` is of kind https://webc.org/kind/wasm, not https://webc.org/kind/onnx"
                    .into()
            ))
        );
    }

    #[test]
    fn cache_loads_each_key_once_and_evicts_the_oldest() {
        let cache: ModelCache<usize> = ModelCache::new();
        let loads = AtomicUsize::new(0);
        let get = |key: &str| {
            *cache
                .get_or_load("test", key.into(), || {
                    Ok(loads.fetch_add(1, Ordering::SeqCst))
                })
                .expect("load")
        };
        assert_eq!(get("a"), 0);
        assert_eq!(get("a"), 0);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        for i in 0..CACHE_CAPACITY {
            get(&format!("k{i}"));
        }
        // "a" was the least recently used: evicted, loaded again.
        assert_eq!(get("a"), CACHE_CAPACITY + 1);
        // An empty key (no atom hash) is never cached.
        get("");
        get("");
        assert_eq!(loads.load(Ordering::SeqCst), CACHE_CAPACITY + 4);
        // A failed load is not cached.
        let r = cache.get_or_load("test", "bad".into(), || Err(Error::Load("no".into())));
        assert!(r.is_err());
        assert_eq!(get("bad"), CACHE_CAPACITY + 4);
    }
}
