//! Our reader (`ours`) against Wasmer's `webc` 12.0.1 (`webc`) and an uncompressed tar
//! (`tar`), side by side in one criterion group per operation, so `run.sh` can pair them.
//!
//! Groups: `fixture-v{1,2,3}/{open-bytes,open-file,open+read-small,open+read-big,
//! read-small,read-big,lookup-all}`, `fixture-v3/ttfb`, and for the generated 1 GiB /
//! 100 000-file package `big-v3/{open-file,first-lookup,read-small,lookup-random,
//! read-big,ttfb}`.

#![allow(
    clippy::unwrap_used,
    reason = "benchmarks fail loudly on unexpected errors"
)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use webc_bench::{BIG_FILE, SMALL_FILE, VOLUME, data_dir, fixture, fixture_location};
use webc_container::{Container, EntryKind, Version};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn webc_version(v: Version) -> webc::Version {
    match v {
        Version::V1 => webc::Version::V1,
        Version::V2 => webc::Version::V2,
        Version::V3 => webc::Version::V3,
    }
}

/// `webc`'s generic open from memory, as `wasmer-package` does it: detect, then parse.
fn webc_from_bytes(bytes: &Bytes) -> webc::Container {
    let version = webc::detect(&bytes[..]).unwrap();
    webc::Container::from_bytes_and_version(bytes.clone(), version).unwrap()
}

/// `webc`'s memory-mapped open (the `OwnedReader::from_path` of each version).
fn webc_from_disk(path: &Path, v: Version) -> webc::Container {
    match v {
        Version::V1 => {
            let options = webc::v1::ParseOptions::default();
            webc::Container::from(webc::v1::WebCMmap::parse(path, &options).unwrap())
        }
        Version::V2 => webc::Container::from(webc::v2::read::OwnedReader::from_path(path).unwrap()),
        Version::V3 => webc::Container::from(webc::v3::read::OwnedReader::from_path(path).unwrap()),
    }
}

fn ours_read(c: &Container, volume: &str, path: &str) -> Bytes {
    c.volume(volume).unwrap().read_file(path).unwrap()
}

fn webc_read(c: &webc::Container, volume: &str, path: &str) -> usize {
    let (data, _) = c.get_volume(volume).unwrap().read_file(path).unwrap();
    data.len()
}

fn fixture_benches(c: &mut Criterion) {
    for (name, version) in [
        ("sample-v1.webc", Version::V1),
        ("sample-v2.webc", Version::V2),
        ("sample-v3.webc", Version::V3),
    ] {
        let path = fixture(name);
        let bytes = Bytes::from(std::fs::read(&path).unwrap());
        let (vol, small) = fixture_location(version, SMALL_FILE);
        let (_, big) = fixture_location(version, BIG_FILE);
        let group_name = |op: &str| format!("fixture-v{}/{op}", &version.as_str()[2..]);
        assert_eq!(webc_version(version), webc_from_bytes(&bytes).version());

        let mut g = c.benchmark_group(group_name("open-bytes"));
        g.bench_function("ours", |b| {
            b.iter(|| Container::from_bytes(black_box(bytes.clone())).unwrap())
        });
        g.bench_function("webc", |b| b.iter(|| webc_from_bytes(black_box(&bytes))));
        g.finish();

        let mut g = c.benchmark_group(group_name("open-file"));
        g.bench_function("ours", |b| {
            b.iter(|| Container::open(black_box(&path)).unwrap())
        });
        g.bench_function("webc", |b| {
            b.iter(|| webc_from_disk(black_box(&path), version))
        });
        g.finish();

        for (op, file) in [("open+read-small", &small), ("open+read-big", &big)] {
            let mut g = c.benchmark_group(group_name(op));
            g.bench_function("ours", |b| {
                b.iter(|| {
                    let c = Container::from_bytes(black_box(bytes.clone())).unwrap();
                    ours_read(&c, vol, file).len()
                })
            });
            g.bench_function("webc", |b| {
                b.iter(|| webc_read(&webc_from_bytes(black_box(&bytes)), vol, file))
            });
            g.finish();
        }

        // Pre-opened, volume in hand: lookup + zero-copy read.
        let ours = Container::from_bytes(bytes.clone()).unwrap();
        let ours_vol = ours.volume(vol).unwrap();
        let theirs = webc_from_bytes(&bytes);
        let theirs_vol = theirs.get_volume(vol).unwrap();
        for (op, file) in [("read-small", &small), ("read-big", &big)] {
            let mut g = c.benchmark_group(group_name(op));
            g.bench_function("ours", |b| {
                b.iter(|| ours_vol.read_file(black_box(file)).unwrap())
            });
            g.bench_function("webc", |b| {
                b.iter(|| theirs_vol.read_file(black_box(file.as_str())).unwrap())
            });
            g.finish();
        }

        // Every file of the volume once per iteration (reported per lookup by run.sh).
        let mut files = Vec::new();
        ours_vol
            .walk(|p, e| {
                if e.node.kind() == EntryKind::File {
                    files.push(p.to_owned());
                }
                Ok(())
            })
            .unwrap();
        let mut g = c.benchmark_group(group_name("lookup-all"));
        g.throughput(criterion::Throughput::Elements(files.len() as u64));
        g.bench_function("ours", |b| {
            b.iter(|| {
                for f in &files {
                    black_box(ours_vol.read_file(f).unwrap());
                }
            })
        });
        g.bench_function("webc", |b| {
            b.iter(|| {
                for f in &files {
                    black_box(theirs_vol.read_file(f.as_str()).unwrap());
                }
            })
        });
        g.finish();

        if version == Version::V3 {
            let tar = webc_bench::fixture_tar(name).unwrap();
            let mut g = c.benchmark_group(group_name("ttfb"));
            ttfb(&mut g, &path, &tar, small.trim_start_matches('/'), version);
            g.finish();
        }
    }
}

/// Time to the first byte of `file`: open the container and read it, versus unpacking
/// the whole tar into a fresh directory and reading it from there.
fn ttfb(g: &mut Group<'_>, webc_path: &Path, tar_path: &Path, file: &str, version: Version) {
    let path = format!("/{file}");
    g.bench_function("ours", |b| {
        b.iter(|| {
            let c = Container::open(webc_path).unwrap();
            ours_read(&c, VOLUME, &path)[0]
        })
    });
    g.bench_function("webc", |b| {
        b.iter(|| {
            let c = webc_from_disk(webc_path, version);
            let (data, _) = c.get_volume(VOLUME).unwrap().read_file(file).unwrap();
            data.as_slice()[0]
        })
    });
    let scratch = data_dir().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    g.bench_function("tar", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir_in(&scratch).unwrap();
                let start = Instant::now();
                let file_in = std::fs::File::open(tar_path).unwrap();
                tar::Archive::new(std::io::BufReader::new(file_in))
                    .unpack(dir.path())
                    .unwrap();
                let data = std::fs::read(dir.path().join("assets").join(file)).unwrap();
                black_box(data[0]);
                total += start.elapsed();
                // Removing the tree is not part of the measurement.
                drop(dir);
            }
            total
        })
    });
}

fn big_benches(c: &mut Criterion) {
    let pkg = webc_bench::big_package().unwrap();
    let path = &pkg.webc;
    // A file in the middle of the 100 000-entry directory.
    let small = pkg.many[pkg.many.len() / 2 + 4321].clone();
    let opened = Container::open(path).unwrap();
    assert_eq!(opened.version(), Version::V3);

    let mut g = c.benchmark_group("big-v3/open-file");
    g.bench_function("ours", |b| {
        b.iter(|| Container::open(black_box(path)).unwrap())
    });
    g.bench_function("webc", |b| {
        b.iter(|| webc_from_disk(black_box(path), Version::V3))
    });
    g.finish();

    // First lookup after open: the directory tables (100 000 entries) are built here.
    let mut g = c.benchmark_group("big-v3/first-lookup");
    g.sample_size(20);
    g.bench_function("ours", |b| {
        b.iter_batched(
            || Container::open(path).unwrap(),
            |c| ours_read(&c, VOLUME, &small).len(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("webc", |b| {
        b.iter_batched(
            || webc_from_disk(path, Version::V3),
            |c| webc_read(&c, VOLUME, &small),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    // Repeated lookups, volume in hand (tables built).
    let ours_vol = opened.volume(VOLUME).unwrap();
    let theirs = webc_from_disk(path, Version::V3);
    let theirs_vol = theirs.get_volume(VOLUME).unwrap();
    for (op, file) in [("read-small", &small), ("read-big", &BIG_FILE.to_owned())] {
        let mut g = c.benchmark_group(format!("big-v3/{op}"));
        g.bench_function("ours", |b| {
            b.iter(|| ours_vol.read_file(black_box(file)).unwrap())
        });
        g.sample_size(20);
        g.bench_function("webc", |b| {
            b.iter(|| theirs_vol.read_file(black_box(file.as_str())).unwrap())
        });
        g.finish();
    }

    // 4096 different files of the big directory per iteration, spread over all of it
    // (cache-unfriendly, unlike repeating one path).
    let spread: Vec<&String> = (0..4096)
        .map(|i| &pkg.many[(i * 7919 * 13) % pkg.many.len()])
        .collect();
    let mut g = c.benchmark_group("big-v3/lookup-random");
    g.throughput(criterion::Throughput::Elements(spread.len() as u64));
    g.bench_function("ours", |b| {
        b.iter(|| {
            for f in &spread {
                black_box(ours_vol.read_file(f).unwrap());
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("big-v3/ttfb");
    g.sample_size(10);
    ttfb(&mut g, path, &pkg.tar, &small[1..], Version::V3);
    g.finish();
}

criterion_group!(benches, fixture_benches, big_benches);
criterion_main!(benches);
