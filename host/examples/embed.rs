//! Embedding webc-host: run a package's command from your own program, with a runner linked
//! in statically and the program's stdio captured in memory.
//!
//! `cargo run -p webc-host --example embed -- path/to/package.webc [COMMAND [ARGS...]]`
//! (the echo test runner serves `https://webc-host.test/runner/echo`; add plugin directories
//! with `.plugin_dir(...)` to run anything else).

use std::sync::Arc;

use webc_host::run::{Host, Package, RunOptions, Stdio, outcome_exit_code};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv = std::env::args().skip(1);
    let path = argv
        .next()
        .ok_or("usage: embed PACKAGE [COMMAND [ARGS...]]")?;
    let host = Host::builder()
        .register(Arc::new(webc_runner_test_echo::EchoRunner))
        .plugin_dir("/usr/local/lib/webc-host/plugins")
        .no_cache()
        .build()?;
    let package = Package::open(path.as_ref())?;
    let options = RunOptions {
        command: argv.next(),
        args: argv.collect(),
        ..Default::default()
    };

    let (mut stdin, mut stdout, mut stderr) =
        (&b"hello from the embedder"[..], Vec::new(), Vec::new());
    let stdio = Stdio {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let outcome = host.run(&package, &options, stdio)?;

    println!("exit code {}", outcome_exit_code(outcome));
    println!("captured stdout:\n{}", String::from_utf8_lossy(&stdout));
    Ok(())
}
