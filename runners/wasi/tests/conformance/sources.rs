//! The committed binaries match their sources, and the suite exercises every preview1
//! function and the `wasi_unstable` functions whose layouts differ.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::harness::{module, tests_dir};

/// Every function of `wasi_snapshot_preview1` (wasmtime-wasi 48's witx, in its order).
pub const PREVIEW1: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// `wasi_unstable` functions whose argument or result layouts differ from preview1's
/// (wasmtime-wasi 48 `src/p0.rs`): filestat (u32 nlink), whence numbering, the clock
/// subscription's extra `identifier` field. The WAT tests must import all of these.
pub const PREVIEW0_LAYOUTS: &[&str] = &[
    "fd_filestat_get",
    "path_filestat_get",
    "fd_seek",
    "poll_oneoff",
];

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks `dir/SOURCES.sha256` (sha256sum format) against the files in `dir`.
fn check_checksums(dir: &Path) -> Result<(), String> {
    let list = dir.join("SOURCES.sha256");
    let text = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let mut recorded = BTreeMap::new();
    for line in text.lines() {
        let (hash, name) = line
            .split_once("  ")
            .ok_or(format!("{}: bad line {line:?}", list.display()))?;
        recorded.insert(name.to_owned(), hash.to_owned());
    }
    let mut problems = Vec::new();
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let name = entry
            .map_err(|e| e.to_string())?
            .file_name()
            .into_string()
            .map_err(|n| format!("{n:?}"))?;
        if !(name.ends_with(".c") || name.ends_with(".h") || name.ends_with(".wasm")) {
            continue;
        }
        let bytes = std::fs::read(dir.join(&name)).map_err(|e| e.to_string())?;
        match recorded.get(&name) {
            None => problems.push(format!("{name} is not recorded")),
            Some(h) if *h != sha256_hex(&bytes) => {
                problems.push(format!("{name} changed since the last build"))
            }
            Some(_) => {}
        }
        if let Some(stem) = name.strip_suffix(".c")
            && !dir.join(format!("{stem}.wasm")).exists()
        {
            problems.push(format!("{stem}.wasm is missing"));
        }
        on_disk.insert(name);
    }
    for name in recorded.keys() {
        if !on_disk.contains(name) {
            problems.push(format!("{name} is recorded but missing"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\nrun scripts/build-wasi-tests.sh to rebuild the programs and their checksums",
            dir.display(),
            problems.join("; ")
        ))
    }
}

#[test]
fn sources_match_their_recorded_checksums() {
    check_checksums(&tests_dir().join("programs")).unwrap_or_else(|e| panic!("{e}"));
    // The end-to-end programs, built by the same script, once their checksums are committed.
    let host = tests_dir().join("../../../host/tests/wasi-programs");
    if host.join("SOURCES.sha256").exists() {
        check_checksums(&host).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_stale_binary_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let programs = tests_dir().join("programs");
    for name in ["proc.c", "proc.wasm", "common.h", "SOURCES.sha256"] {
        std::fs::copy(programs.join(name), dir.path().join(name)).unwrap();
    }
    // Only proc's files are present: the list names the others.
    let err = check_checksums(dir.path()).unwrap_err();
    assert!(err.contains("is recorded but missing"), "{err}");
    let mut sums = String::new();
    for line in std::fs::read_to_string(programs.join("SOURCES.sha256"))
        .unwrap()
        .lines()
    {
        if ["proc.c", "proc.wasm", "common.h"]
            .iter()
            .any(|n| line.ends_with(&format!("  {n}")))
        {
            sums.push_str(line);
            sums.push('\n');
        }
    }
    std::fs::write(dir.path().join("SOURCES.sha256"), &sums).unwrap();
    check_checksums(dir.path()).unwrap();
    // A source edited without a rebuild.
    let mut c = std::fs::read(dir.path().join("proc.c")).unwrap();
    c.extend_from_slice(b"\n/* edited */\n");
    std::fs::write(dir.path().join("proc.c"), c).unwrap();
    let err = check_checksums(dir.path()).unwrap_err();
    assert!(err.contains("proc.c changed"), "{err}");
    assert!(err.contains("scripts/build-wasi-tests.sh"), "{err}");
}

fn leb(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut result = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[*pos];
        *pos += 1;
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return result;
        }
        shift += 7;
    }
}

fn name<'a>(bytes: &'a [u8], pos: &mut usize) -> &'a str {
    let len = leb(bytes, pos) as usize;
    let s = std::str::from_utf8(&bytes[*pos..*pos + len]).unwrap();
    *pos += len;
    s
}

/// The function imports of a module, as (module, name).
pub fn function_imports(wasm: &[u8]) -> Vec<(String, String)> {
    assert_eq!(&wasm[..4], b"\0asm");
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = leb(wasm, &mut pos) as usize;
        let end = pos + size;
        if id == 2 {
            let count = leb(wasm, &mut pos);
            for _ in 0..count {
                let module = name(wasm, &mut pos).to_owned();
                let field = name(wasm, &mut pos).to_owned();
                let kind = wasm[pos];
                pos += 1;
                match kind {
                    0 => {
                        leb(wasm, &mut pos);
                        out.push((module, field));
                    }
                    1 | 2 => {
                        if kind == 1 {
                            pos += 1; // reftype
                        }
                        let flags = leb(wasm, &mut pos);
                        leb(wasm, &mut pos);
                        if flags & 1 != 0 {
                            leb(wasm, &mut pos);
                        }
                    }
                    3 => pos += 2,
                    4 => {
                        pos += 1;
                        leb(wasm, &mut pos);
                    }
                    k => panic!("unknown import kind {k}"),
                }
            }
        }
        pos = end;
    }
    out
}

fn imports_of(module_names: impl Iterator<Item = String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_module: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for program in module_names {
        for (m, f) in function_imports(&module(&program)) {
            by_module.entry(m).or_default().insert(f);
        }
    }
    by_module
}

fn programs_and_wats() -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(tests_dir().join("programs")).unwrap() {
        let n = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = n.strip_suffix(".wasm") {
            out.push(stem.to_owned());
        }
    }
    for entry in std::fs::read_dir(tests_dir().join("wat")).unwrap() {
        let n = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = n.strip_suffix(".wat") {
            out.push(format!("wat:{stem}"));
        }
    }
    out.sort();
    out
}

/// Every preview1 function is imported by some program or WAT module that a case runs.
#[test]
fn every_preview1_function_is_exercised() {
    let run: BTreeSet<&str> = super::cases::CASES.iter().map(|c| c.program).collect();
    let all = programs_and_wats();
    for p in &all {
        assert!(
            run.contains(p.as_str()),
            "{p} is not run by any case in cases.rs"
        );
    }
    let imports = imports_of(all.into_iter());
    let p1 = imports
        .get("wasi_snapshot_preview1")
        .cloned()
        .unwrap_or_default();
    let missing: Vec<&str> = PREVIEW1
        .iter()
        .copied()
        .filter(|f| !p1.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "preview1 functions no test imports: {missing:?}"
    );
    let extra: Vec<&String> = p1
        .iter()
        .filter(|f| !PREVIEW1.contains(&f.as_str()))
        .collect();
    assert!(extra.is_empty(), "imports outside preview1: {extra:?}");
    let p0 = imports.get("wasi_unstable").cloned().unwrap_or_default();
    let missing: Vec<&str> = PREVIEW0_LAYOUTS
        .iter()
        .copied()
        .filter(|f| !p0.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "wasi_unstable layouts not exercised: {missing:?}"
    );
}

#[test]
fn the_import_parser_sees_a_known_module() {
    let wasm = wat::parse_str(
        r#"(module
            (import "a" "t" (table 1 funcref))
            (import "a" "m" (memory 1 2))
            (import "a" "g" (global (mut i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        )"#,
    )
    .unwrap();
    assert_eq!(
        function_imports(&wasm),
        vec![("wasi_snapshot_preview1".to_owned(), "fd_write".to_owned())]
    );
}
