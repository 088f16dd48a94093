//! A hostile guest: every WASI function of both modules called many times with random
//! arguments over random memory contents. Nothing may panic; every call returns an errno
//! (or ends the run: `proc_exit`, a sleep past the deadline).

use std::time::Instant;

use wasmtime::{Extern, Store, Val, ValType};
use webc_vfs::VfsBuilder;

use webc_runner_api::fs::{FileSystem, OpenOptions};

use crate::ctx::{Ctx, Desc, JobIo};
use crate::engine::{self, EngineKey, Imports};
use crate::limits::Limiter;
use crate::wasi::{self, Abi};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Mostly small values (fds, flags, lengths) and in-memory offsets; sometimes offsets
    /// near the end of memory or of the address space, or anything.
    fn arg(&mut self, mem_len: u64) -> u64 {
        match self.next() % 10 {
            0..=3 => self.next() % 8,
            4 => self.next() % 64,
            5 | 6 => self.next() % mem_len,
            7 => mem_len.wrapping_sub(self.next() % 32),
            8 => u64::from(u32::MAX) - self.next() % 8,
            _ => self.next(),
        }
    }

    /// Guest memory contents: the first half small little-endian words (so iovecs and
    /// struct fields read from it are plausible), the second half path-like text.
    fn fill(&mut self, mem: &mut [u8]) {
        let half = mem.len() / 2;
        for w in mem[..half].chunks_mut(4) {
            let v = (self.next() % 0x1_0000) as u32;
            let b = v.to_le_bytes();
            w.copy_from_slice(&b[..w.len()]);
        }
        const TEXT: &[u8] = b"ab./tmp/..x";
        for b in &mut mem[half..] {
            *b = TEXT[(self.next() % TEXT.len() as u64) as usize];
        }
        if self.next().is_multiple_of(4) {
            for b in mem.iter_mut() {
                *b = self.next() as u8;
            }
        }
    }
}

#[test]
fn random_calls_never_panic() {
    let vfs = Box::leak(Box::new(VfsBuilder::new().tmp(true).build().unwrap()));
    let entry = engine::get(EngineKey {
        fuel: false,
        epochs: false,
    })
    .unwrap();
    let linker = entry.linker(Imports::Both).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for abi in [Abi::P1, Abi::P0] {
        let ctx = Ctx {
            io: JobIo {
                fs: vfs,
                stdin: Box::leak(Box::new(std::io::empty())),
                stdout: Box::leak(Box::new(std::io::sink())),
                stderr: Box::leak(Box::new(std::io::sink())),
            },
            args: vec!["prog".into(), "arg".into()],
            env: vec!["A=1".into()],
            fds: Default::default(),
            memory: None,
            limiter: Limiter::new(None),
            // Already passed: a sleep in poll_oneoff ends the call at once.
            deadline: Some(Instant::now()),
            clock_base: Instant::now(),
            cpu_base: 0,
            timed_out: false,
        };
        let mut store = Store::new(&entry.engine, ctx);
        store.set_epoch_deadline(u64::MAX / 2);
        // A module that imports every function of the module and re-exports it.
        let module_name = abi.module();
        let mut funcs = Vec::new();
        let mut wat = String::from("(module\n");
        for name in wasi::NAMES
            .iter()
            .filter(|n| wasi::provides(module_name, n))
        {
            let Ok(Extern::Func(f)) = linker.get(&mut store, module_name, name) else {
                panic!("{module_name}.{name} not defined");
            };
            let ty = f.ty(&store);
            let params: Vec<&str> = ty
                .params()
                .map(|p| match p {
                    ValType::I32 => "i32",
                    ValType::I64 => "i64",
                    other => panic!("{other:?}"),
                })
                .collect();
            let results = if ty.results().len() == 1 {
                "(result i32)"
            } else {
                ""
            };
            wat.push_str(&format!(
                "(import \"{module_name}\" \"{name}\" (func ${name} (param {}) {results}))\n(export \"{name}\" (func ${name}))\n",
                params.join(" ")
            ));
            funcs.push((name.to_string(), ty.params().collect::<Vec<_>>()));
        }
        wat.push_str("(memory (export \"memory\") 2))");
        let module = wasmtime::Module::new(&entry.engine, &wat).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        store.data_mut().memory = Some(memory);
        for round in 0..2000u32 {
            // Fresh descriptors each round (calls close and renumber them).
            store.data_mut().close_all();
            let mut fds = std::mem::take(
                &mut crate::exec::descriptors(vfs, None, crate::ctx::DEFAULT_MAX_FDS)
                    .unwrap()
                    .fds,
            );
            // fd 5: a read-write file, fd 6: a writable directory (both in /tmp).
            let root = fds.get(4).unwrap().handle().unwrap();
            let rw = OpenOptions {
                read: true,
                write: true,
                create: true,
                ..OpenOptions::default()
            };
            let file = vfs.open(root, "tmp/fuzz-file", rw).unwrap();
            fds.push(Desc::File {
                handle: file,
                nonblock: false,
            })
            .unwrap();
            let dir = OpenOptions {
                read: true,
                directory: true,
                ..OpenOptions::default()
            };
            let tmp = vfs.open(root, "tmp", dir).unwrap();
            fds.push(Desc::Dir {
                handle: tmp,
                preopen: None,
                root: false,
            })
            .unwrap();
            store.data_mut().fds = fds;
            if round.is_multiple_of(50) {
                // Fresh contents: iovecs, strings and structs are read from it.
                rng.fill(memory.data_mut(&mut store));
            }
            let mem_len = memory.data_size(&store) as u64;
            for _ in 0..funcs.len() {
                let (name, params) = &funcs[(rng.next() % funcs.len() as u64) as usize];
                let args: Vec<Val> = params
                    .iter()
                    .map(|p| match p {
                        ValType::I64 => Val::I64(rng.arg(mem_len) as i64),
                        _ => Val::I32(rng.arg(mem_len) as u32 as i32),
                    })
                    .collect();
                let func = instance.get_func(&mut store, name).unwrap();
                let mut results = vec![Val::I32(0); func.ty(&store).results().len()];
                match func.call(&mut store, &args, &mut results) {
                    Ok(()) => {
                        if let Some(Val::I32(errno)) = results.first() {
                            assert!((0..=76).contains(errno), "{name}{args:?} -> {errno}");
                        }
                    }
                    Err(e) => assert!(
                        e.downcast_ref::<wasi::Exit>().is_some()
                            || e.downcast_ref::<crate::limits::TimedOut>().is_some(),
                        "{name}{args:?}: {e:?}"
                    ),
                }
            }
        }
        store.data_mut().close_all();
    }
}
