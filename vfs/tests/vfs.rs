//! The namespace for real: the container fixtures (v1, v2, v3 with symlinks), containers
//! written for a test, and temporary host directories.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use webc_container::manifest::FsMapping;
use webc_container::write::{Directory, Entry, Writer};
use webc_container::{Container, Manifest, Version};
use webc_runner_api::fs::{
    DirEntry, Errno, FileSystem, FileType, Handle, OpenOptions, SetTime, Whence,
};
use webc_vfs::{Mode, Vfs, VfsBuilder, VfsError};

fn fixture(name: &str) -> Container {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../container/tests/fixtures")
        .join(name);
    Container::open(path).unwrap()
}

const FIXTURES: [&str; 3] = ["sample-v1.webc", "sample-v2.webc", "sample-v3.webc"];

fn root(vfs: &Vfs) -> Handle {
    let p = vfs.preopens();
    assert_eq!(p[0].guest_path, "/");
    p[0].handle
}

fn ro() -> OpenOptions {
    OpenOptions {
        read: true,
        follow: true,
        ..Default::default()
    }
}

fn rw() -> OpenOptions {
    OpenOptions {
        read: true,
        write: true,
        follow: true,
        ..Default::default()
    }
}

fn create() -> OpenOptions {
    OpenOptions {
        create: true,
        ..rw()
    }
}

fn dir_opts() -> OpenOptions {
    OpenOptions {
        directory: true,
        ..ro()
    }
}

/// Reads a whole file through `read` with an awkward buffer size.
fn read_all(vfs: &Vfs, h: Handle) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 777];
    loop {
        let n = vfs.read(h, &mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn read_path(vfs: &Vfs, path: &str) -> Vec<u8> {
    let h = vfs.open(root(vfs), path, ro()).unwrap();
    let data = read_all(vfs, h);
    vfs.close(h).unwrap();
    data
}

fn list(vfs: &Vfs, h: Handle, chunk: usize) -> Vec<DirEntry> {
    let mut out = Vec::new();
    let mut cookie = 0;
    loop {
        let batch = vfs.readdir(h, cookie, chunk).unwrap();
        assert!(batch.len() <= chunk, "readdir returned more than max");
        let Some(last) = batch.last() else {
            return out;
        };
        cookie = last.next;
        out.extend(batch);
        assert!(out.len() < 100_000, "readdir does not terminate");
    }
}

fn names(entries: &[DirEntry]) -> Vec<String> {
    entries.iter().map(|e| e.name.clone()).collect()
}

fn list_path(vfs: &Vfs, path: &str) -> Vec<String> {
    let h = vfs.open(root(vfs), path, dir_opts()).unwrap();
    let l = names(&list(vfs, h, 1000));
    vfs.close(h).unwrap();
    l
}

/// Every (guest path, volume path) of the files a container's `fs` mappings expose.
fn mapped_files(c: &Container) -> Vec<(String, webc_container::Volume, String)> {
    let mut out = Vec::new();
    for m in c.manifest().fs() {
        let volume = c.volume(&m.volume_name).unwrap();
        let source = match c.version() {
            Version::V3 => String::new(),
            _ => m
                .source_path()
                .unwrap_or("/")
                .trim_end_matches('/')
                .to_owned(),
        };
        let mut files = Vec::new();
        volume
            .walk(|path, entry| {
                if entry.node.is_file()
                    && let Some(rest) = path.strip_prefix(&source)
                {
                    files.push((path.to_owned(), rest.to_owned()));
                }
                Ok(())
            })
            .unwrap();
        for (vpath, rest) in files {
            let guest = format!("{}{}", m.mount_path.trim_end_matches('/'), rest);
            out.push((guest, volume.clone(), vpath));
        }
    }
    out
}

fn vfs_of(c: &Container) -> Vfs {
    VfsBuilder::new()
        .volume_mounts_from(c)
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn every_volume_file_reads_as_the_container_does() {
    for name in FIXTURES {
        let c = fixture(name);
        let vfs = vfs_of(&c);
        let files = mapped_files(&c);
        assert!(files.len() >= 7, "{name}: {} files", files.len());
        for (guest, volume, vpath) in files {
            let expected = volume.read_file(&vpath).unwrap();
            let rel = guest.trim_start_matches('/');
            assert_eq!(read_path(&vfs, rel), expected, "{name}: {guest}");
            // pread at a few offsets, without moving the position.
            let h = vfs.open(root(&vfs), rel, ro()).unwrap();
            for off in [0usize, 1, 7, expected.len() / 2, expected.len()] {
                let off = off.min(expected.len());
                let mut buf = vec![0u8; 100];
                let n = vfs.pread(h, &mut buf, off as u64).unwrap();
                let want = &expected[off..(off + 100).min(expected.len())];
                assert_eq!(&buf[..n], want, "{name}: {guest} at {off}");
            }
            let mut one = [0u8; 1];
            let n = vfs.read(h, &mut one).unwrap();
            assert_eq!(n, expected.len().min(1));
            // Beyond the end: 0.
            assert_eq!(vfs.pread(h, &mut one, u64::MAX).unwrap(), 0);
            let st = vfs.fstat(h).unwrap();
            assert_eq!(st.size, expected.len() as u64);
            assert_eq!(st.filetype, Some(FileType::RegularFile));
            vfs.close(h).unwrap();
        }
    }
}

#[test]
fn seek_positions_reads() {
    let vfs = vfs_of(&fixture("sample-v3.webc"));
    let h = vfs.open(root(&vfs), "assets/hello.txt", ro()).unwrap();
    let all = read_path(&vfs, "assets/hello.txt");
    assert_eq!(vfs.seek(h, 6, Whence::Set).unwrap(), 6);
    assert_eq!(read_all(&vfs, h), &all[6..]);
    assert_eq!(vfs.seek(h, -3, Whence::End).unwrap(), all.len() as u64 - 3);
    assert_eq!(vfs.seek(h, 1, Whence::Cur).unwrap(), all.len() as u64 - 2);
    assert_eq!(vfs.seek(h, -100, Whence::Cur), Err(Errno::Inval));
    assert_eq!(vfs.seek(h, 1000, Whence::Set).unwrap(), 1000);
    assert_eq!(read_all(&vfs, h), b"");
}

#[test]
fn stat_and_inode_numbers_are_stable() {
    for name in FIXTURES {
        let c = fixture(name);
        let vfs = vfs_of(&c);
        let r = root(&vfs);
        let a = vfs.stat(r, "assets/hello.txt", true).unwrap();
        let b = vfs.stat(r, "./assets//nested/../hello.txt", true).unwrap();
        assert_eq!((a.dev, a.ino), (b.dev, b.ino), "{name}");
        let nested = vfs.open(r, "assets/nested", dir_opts()).unwrap();
        let c2 = vfs.stat(nested, "../hello.txt", true).unwrap();
        assert_eq!((a.dev, a.ino), (c2.dev, c2.ino), "{name}");
        let h = vfs.open(r, "assets/hello.txt", ro()).unwrap();
        assert_eq!(vfs.fstat(h).unwrap(), a, "{name}");
        assert_eq!(a.size, 31);
        assert_eq!(a.nlink, 1);
        let expected_mtime = if c.version() == Version::V3 {
            1_700_000_000 * 1_000_000_000
        } else {
            0
        };
        assert_eq!(a.mtim, expected_mtime, "{name}");
        let d = vfs.stat(r, "assets/nested", true).unwrap();
        assert_eq!(d.filetype, Some(FileType::Directory));
        assert_eq!(d.dev, a.dev, "{name}: one dev per mount");
        // Every entry has its own ino.
        let mut inos = HashSet::new();
        for (guest, _, _) in mapped_files(&c) {
            let st = vfs.stat(r, guest.trim_start_matches('/'), true).unwrap();
            assert!(inos.insert(st.ino), "{name}: duplicate ino for {guest}");
        }
        // The synthetic root has its own dev.
        assert_ne!(vfs.stat(r, ".", true).unwrap().dev, a.dev);
    }
}

#[test]
fn volume_symlinks_follow_the_container_rules() {
    let vfs = vfs_of(&fixture("sample-v3.webc"));
    let r = root(&vfs);
    let hello = read_path(&vfs, "assets/hello.txt");
    assert_eq!(read_path(&vfs, "assets/link-to-hello"), hello);
    assert_eq!(read_path(&vfs, "assets/nested/dir/up-link"), hello);
    let target = vfs.stat(r, "assets/hello.txt", true).unwrap();
    assert_eq!(vfs.stat(r, "assets/link-to-hello", true).unwrap(), target);
    let link = vfs.stat(r, "assets/link-to-hello", false).unwrap();
    assert_eq!(link.filetype, Some(FileType::SymbolicLink));
    assert_eq!(link.size, "hello.txt".len() as u64);
    assert_eq!(
        vfs.readlink(r, "assets/link-to-hello").unwrap(),
        "hello.txt"
    );
    assert_eq!(
        vfs.readlink(r, "assets/nested/dir/up-link").unwrap(),
        "../../hello.txt"
    );
    assert_eq!(vfs.readlink(r, "assets/hello.txt"), Err(Errno::Inval));
    // Opening a symlink without following it.
    let nofollow = OpenOptions {
        follow: false,
        ..ro()
    };
    assert_eq!(
        vfs.open(r, "assets/link-to-hello", nofollow),
        Err(Errno::Loop)
    );
    // Readdir reports the link itself.
    let h = vfs.open(r, "assets", dir_opts()).unwrap();
    let entries = list(&vfs, h, 100);
    let e = entries.iter().find(|e| e.name == "link-to-hello").unwrap();
    assert_eq!(e.filetype, FileType::SymbolicLink);
}

/// A v3 container with one volume `/assets` holding `entries`, mounted at `/assets`;
/// then every `(from, to)` of `patches` (same length) is replaced in the bytes, to make
/// symlinks the writer refuses to write.
fn v3_with(entries: &[(&str, Entry)], patches: &[(&str, &str)]) -> Container {
    let mut dir = Directory::default();
    for (path, entry) in entries {
        dir.insert(path, entry.clone(), 0).unwrap();
    }
    let mut manifest = Manifest::default();
    manifest.package = Some(webc_container::manifest::PackageAnnotations {
        fs: Some(vec![FsMapping {
            volume_name: "/assets".into(),
            mount_path: "/assets".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let w = Writer {
        manifest: manifest.to_cbor(),
        volumes: [("/assets".to_owned(), dir)].into(),
        ..Default::default()
    };
    let mut bytes = w.to_bytes(Version::V3).unwrap();
    for (from, to) in patches {
        assert_eq!(from.len(), to.len());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap();
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    }
    Container::from_bytes(bytes).unwrap()
}

fn file(data: &'static [u8]) -> Entry {
    Entry::File {
        data: bytes::Bytes::from_static(data),
        modified: 0,
    }
}

fn link(target: &str) -> Entry {
    Entry::Symlink {
        target: target.into(),
        modified: 0,
    }
}

#[test]
fn volume_symlink_escapes_and_loops_are_refused() {
    let c = v3_with(
        &[
            ("in/ok.txt", file(b"ok")),
            ("in/good", link("../in/ok.txt")),
            ("climb", link("zz/assets/in/ok.txt")),
            ("abs", link("Zetc/passwd")),
            ("a", link("b")),
            ("b", link("a")),
            ("self", link("self")),
            ("dirlink", link("in")),
        ],
        &[
            ("zz/assets/in/ok.txt", "../assets/in/ok.txt"),
            ("Zetc/passwd", "/etc/passwd"),
        ],
    );
    let vfs = vfs_of(&c);
    let r = root(&vfs);
    assert_eq!(read_path(&vfs, "assets/in/good"), b"ok");
    assert_eq!(read_path(&vfs, "assets/dirlink/ok.txt"), b"ok");
    // Climbing out of the mount, even back into it, is an escape.
    assert_eq!(vfs.open(r, "assets/climb", ro()), Err(Errno::Perm));
    assert_eq!(vfs.open(r, "assets/abs", ro()), Err(Errno::Perm));
    assert_eq!(vfs.stat(r, "assets/abs", true), Err(Errno::Perm));
    assert_eq!(vfs.open(r, "assets/a", ro()), Err(Errno::Loop));
    assert_eq!(vfs.open(r, "assets/self/x", ro()), Err(Errno::Loop));
    // Not following the last one is fine.
    assert_eq!(
        vfs.stat(r, "assets/abs", false).unwrap().filetype,
        Some(FileType::SymbolicLink)
    );
    // `..` after a symlink to a directory is the parent of the target.
    assert_eq!(read_path(&vfs, "assets/dirlink/../in/ok.txt"), b"ok");
    // Mounting a volume directory: a link leaving that directory escapes the mount, even
    // though it stays inside the volume.
    let sub = VfsBuilder::new()
        .mount_volume("/sub", c.volume("/assets").unwrap(), "/in")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(read_path(&sub, "sub/ok.txt"), b"ok");
    assert_eq!(sub.open(root(&sub), "sub/good", ro()), Err(Errno::Perm));
}

/// The fixture re-written with a different `package.fs`.
fn with_fs(name: &str, fs: Option<Vec<FsMapping>>) -> Container {
    let c = fixture(name);
    let mut w = Writer::from_container(&c).unwrap();
    let mut m = Manifest::from_cbor(&w.manifest).unwrap();
    m.package.as_mut().unwrap().fs = fs;
    w.manifest = m.to_cbor();
    Container::from_bytes(w.to_bytes(c.version()).unwrap()).unwrap()
}

#[test]
fn fs_mappings_follow_wasmer_v2_and_v3_semantics() {
    // With the fixtures' mapping, v2 (`atom` + host_path /assets) and v3 (volume /assets)
    // show the same tree at /assets, and nothing else.
    let v2 = vfs_of(&fixture("sample-v2.webc"));
    let v3 = vfs_of(&fixture("sample-v3.webc"));
    assert_eq!(list_path(&v2, "."), [".", "..", "assets"]);
    assert_eq!(list_path(&v3, "."), [".", "..", "assets"]);
    let mut v3_assets = list_path(&v3, "assets");
    v3_assets.retain(|n| n != "link-to-hello");
    assert_eq!(list_path(&v2, "assets"), v3_assets);
    assert_eq!(
        list_path(&v2, "assets/nested"),
        list_path(&v3, "assets/nested")
    );
    // Without `fs`: v2 mounts volume `atom` at `/`, v3 nothing.
    let v2 = vfs_of(&with_fs("sample-v2.webc", None));
    assert_eq!(list_path(&v2, "."), [".", "..", "assets"]);
    assert_eq!(
        read_path(&v2, "assets/hello.txt"),
        read_path(&v3, "assets/hello.txt")
    );
    let v3_none = vfs_of(&with_fs("sample-v3.webc", None));
    assert_eq!(list_path(&v3_none, "."), [".", ".."]);
    assert_eq!(
        v3_none.open(root(&v3_none), "assets", ro()),
        Err(Errno::Noent)
    );
    // v2 `host_path` picks a directory; v3 ignores it and mounts the root.
    let mapping = |volume: &str, host_path: Option<&str>, mount: &str| FsMapping {
        volume_name: volume.into(),
        host_path: host_path.map(Into::into),
        mount_path: mount.into(),
        ..Default::default()
    };
    let v2 = vfs_of(&with_fs(
        "sample-v2.webc",
        Some(vec![mapping("atom", Some("/assets/nested"), "/n")]),
    ));
    assert_eq!(
        read_path(&v2, "n/a.txt"),
        read_path(&v3, "assets/nested/a.txt")
    );
    let v3m = vfs_of(&with_fs(
        "sample-v3.webc",
        Some(vec![mapping("/assets", Some("/nested"), "/n")]),
    ));
    assert_eq!(
        read_path(&v3m, "n/hello.txt"),
        read_path(&v3, "assets/hello.txt")
    );
    // A root mount is a normal mount; nested mount points show up in it.
    let v3r = vfs_of(&with_fs(
        "sample-v3.webc",
        Some(vec![
            mapping("/assets", None, "/"),
            mapping("metadata", None, "/data/meta"),
        ]),
    ));
    let mut top = list_path(&v3r, ".");
    assert!(top.contains(&"hello.txt".to_owned()) && top.contains(&"data".to_owned()));
    top.sort();
    top.dedup();
    assert_eq!(top.len(), list_path(&v3r, ".").len(), "no duplicates");
    assert_eq!(list_path(&v3r, "data"), [".", "..", "meta"]);
    assert!(read_path(&v3r, "data/meta/README.md").starts_with(b"#"));
    // v1 is treated like v2.
    let v1 = vfs_of(&fixture("sample-v1.webc"));
    assert_eq!(
        read_path(&v1, "assets/nested/dir/deep.txt"),
        read_path(&v3, "assets/nested/dir/deep.txt")
    );
}

#[test]
fn fs_mapping_errors_name_the_problem() {
    let dep = FsMapping {
        from: Some("python".into()),
        volume_name: "lib".into(),
        mount_path: "/lib".into(),
        ..Default::default()
    };
    let err = VfsBuilder::new()
        .volume_mounts_from(&with_fs("sample-v3.webc", Some(vec![dep])))
        .unwrap_err();
    assert!(matches!(err, VfsError::DependencyMapping { .. }), "{err}");
    assert!(err.to_string().contains("python"), "{err}");
    let missing = FsMapping {
        volume_name: "nope".into(),
        mount_path: "/x".into(),
        ..Default::default()
    };
    let err = VfsBuilder::new()
        .volume_mounts_from(&with_fs("sample-v3.webc", Some(vec![missing])))
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let not_dir = FsMapping {
        volume_name: "atom".into(),
        host_path: Some("/assets/hello.txt".into()),
        mount_path: "/x".into(),
        ..Default::default()
    };
    let err = VfsBuilder::new()
        .volume_mounts_from(&with_fs("sample-v2.webc", Some(vec![not_dir])))
        .unwrap_err();
    assert!(matches!(err, VfsError::SourceDir { .. }), "{err}");
    let err = VfsBuilder::new()
        .grant_dir("/nonexistent/dir", "/x", Mode::ReadWrite)
        .unwrap_err();
    assert!(matches!(err, VfsError::HostDir { .. }), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let err = VfsBuilder::new()
        .grant_dir(tmp.path(), "/a/../b", Mode::ReadWrite)
        .unwrap_err();
    assert!(matches!(err, VfsError::GuestPath { .. }), "{err}");
}

/// Every write-ish operation at `dir` (a directory handle) naming existing `file` and
/// `subdir`, and a new name `fresh`, fails with `expected`.
fn assert_read_only(vfs: &Vfs, dir: Handle, file: &str, subdir: &str, expected: Errno) {
    for o in [
        rw(),
        create(),
        OpenOptions {
            truncate: true,
            ..ro()
        },
        OpenOptions {
            append: true,
            ..ro()
        },
        OpenOptions {
            exclusive: true,
            ..create()
        },
    ] {
        assert_eq!(vfs.open(dir, file, o), Err(expected), "{o:?} {file}");
    }
    assert_eq!(vfs.open(dir, "fresh", create()), Err(expected));
    assert_eq!(vfs.mkdir(dir, "fresh"), Err(expected));
    assert_eq!(vfs.unlink(dir, file), Err(expected));
    assert_eq!(vfs.rmdir(dir, subdir), Err(expected));
    assert_eq!(vfs.rename(dir, file, dir, "fresh"), Err(expected));
    assert_eq!(vfs.symlink(file, dir, "fresh"), Err(expected));
    assert_eq!(vfs.link(dir, file, dir, "fresh", false), Err(expected));
    assert_eq!(
        vfs.set_times_at(dir, file, true, SetTime::Now, SetTime::Omit),
        Err(expected)
    );
    let h = vfs.open(dir, file, ro()).unwrap();
    assert_eq!(vfs.write(h, b"x"), Err(Errno::Badf));
    assert_eq!(vfs.pwrite(h, b"x", 0), Err(Errno::Badf));
    assert_eq!(vfs.truncate(h, 0), Err(expected));
    assert_eq!(vfs.allocate(h, 0, 10), Err(expected));
    assert_eq!(vfs.set_times(h, SetTime::Now, SetTime::Now), Err(expected));
    vfs.close(h).unwrap();
    let d = vfs.open(dir, subdir, dir_opts()).unwrap();
    assert_eq!(vfs.set_times(d, SetTime::Now, SetTime::Now), Err(expected));
    vfs.close(d).unwrap();
}

#[test]
fn volumes_and_synthetic_dirs_refuse_writes_with_perm() {
    let vfs = vfs_of(&fixture("sample-v3.webc"));
    let r = root(&vfs);
    let assets = vfs.open(r, "assets", dir_opts()).unwrap();
    assert_read_only(&vfs, assets, "hello.txt", "nested/empty-dir", Errno::Perm);
    assert!(!vfs.handle_info(assets).unwrap().write);
    // The synthetic root.
    assert_eq!(vfs.open(r, "new.txt", create()), Err(Errno::Perm));
    assert_eq!(vfs.mkdir(r, "newdir"), Err(Errno::Perm));
    assert_eq!(vfs.symlink("assets", r, "l"), Err(Errno::Perm));
    // Creating below a missing directory of a read-only place is refused as a write first
    // (as wasmtime-wasi answers for a read-only preopen), not as a missing parent.
    assert_eq!(vfs.open(r, "nope/new.txt", create()), Err(Errno::Perm));
    assert_eq!(vfs.mkdir(r, "nope/newdir"), Err(Errno::Perm));
    assert_eq!(
        vfs.open(assets, "missing/new.txt", create()),
        Err(Errno::Perm)
    );
    assert_eq!(
        vfs.open(assets, "a/b/c/new.txt", create()),
        Err(Errno::Perm)
    );
    assert_eq!(vfs.mkdir(assets, "missing/newdir"), Err(Errno::Perm));
    assert_eq!(vfs.symlink("x", assets, "missing/l"), Err(Errno::Perm));
    // Opening something missing without writing stays Noent.
    assert_eq!(vfs.open(assets, "missing/new.txt", ro()), Err(Errno::Noent));
    // Mount points.
    assert_eq!(vfs.rmdir(r, "assets"), Err(Errno::Busy));
    assert_eq!(vfs.mkdir(r, "assets"), Err(Errno::Exist));
    assert_eq!(vfs.rename(r, "assets", r, "x"), Err(Errno::Busy));
    // Nothing changed.
    assert_eq!(list_path(&vfs, "."), [".", "..", "assets"]);
}

#[test]
fn read_only_grants_refuse_writes_with_perm() {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("f.txt"), b"data").unwrap();
    std::fs::create_dir(host.path().join("sub")).unwrap();
    let before = snapshot(host.path());
    let vfs = VfsBuilder::new()
        .grant_dir(host.path(), "/in", Mode::ReadOnly)
        .unwrap()
        .build()
        .unwrap();
    let d = vfs.open(root(&vfs), "in", dir_opts()).unwrap();
    assert_read_only(&vfs, d, "f.txt", "sub", Errno::Perm);
    assert_eq!(read_path(&vfs, "in/f.txt"), b"data");
    assert_eq!(snapshot(host.path()), before);
}

/// Names, sizes and mtimes of everything below `dir`.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let md = std::fs::symlink_metadata(e.path()).unwrap();
        out.push((e.path(), md.len(), md.modified().unwrap()));
        if md.is_dir() {
            out.extend(snapshot(&e.path()));
        }
    }
    out.sort();
    out
}

fn rw_grant() -> (tempfile::TempDir, Vfs, Handle) {
    let host = tempfile::tempdir().unwrap();
    let vfs = VfsBuilder::new()
        .grant_dir(host.path(), "/out", Mode::ReadWrite)
        .unwrap()
        .build()
        .unwrap();
    let d = vfs.open(root(&vfs), "out", dir_opts()).unwrap();
    (host, vfs, d)
}

#[test]
fn read_write_grant_supports_every_operation() {
    let (host, vfs, d) = rw_grant();
    let hp = host.path();
    // Create, write, read back.
    let h = vfs.open(d, "a.txt", create()).unwrap();
    assert_eq!(vfs.write(h, b"hello ").unwrap(), 6);
    assert_eq!(vfs.write(h, b"world").unwrap(), 5);
    assert_eq!(vfs.seek(h, 0, Whence::Cur).unwrap(), 11);
    assert_eq!(vfs.pwrite(h, b"W", 6).unwrap(), 1);
    assert_eq!(
        vfs.seek(h, 0, Whence::Cur).unwrap(),
        11,
        "pwrite keeps the position"
    );
    assert_eq!(std::fs::read(hp.join("a.txt")).unwrap(), b"hello World");
    vfs.seek(h, 0, Whence::Set).unwrap();
    assert_eq!(read_all(&vfs, h), b"hello World");
    assert_eq!(vfs.fstat(h).unwrap().size, 11);
    let info = vfs.handle_info(h).unwrap();
    assert!(info.read && info.write && !info.append);
    assert_eq!(info.filetype, Some(FileType::RegularFile));
    // Exclusive create of an existing file.
    let excl = OpenOptions {
        exclusive: true,
        ..create()
    };
    assert_eq!(vfs.open(d, "a.txt", excl), Err(Errno::Exist));
    // Append mode writes at the end, wherever the position is.
    vfs.seek(h, 0, Whence::Set).unwrap();
    vfs.set_append(h, true).unwrap();
    assert!(vfs.handle_info(h).unwrap().append);
    vfs.write(h, b"!").unwrap();
    assert_eq!(vfs.seek(h, 0, Whence::Cur).unwrap(), 12);
    let ap = vfs
        .open(
            d,
            "a.txt",
            OpenOptions {
                append: true,
                ..rw()
            },
        )
        .unwrap();
    vfs.write(ap, b"?").unwrap();
    assert_eq!(std::fs::read(hp.join("a.txt")).unwrap(), b"hello World!?");
    // Truncate on open and through the handle; allocate grows.
    vfs.truncate(h, 5).unwrap();
    assert_eq!(vfs.fstat(h).unwrap().size, 5);
    vfs.allocate(h, 10, 10).unwrap();
    assert_eq!(vfs.fstat(h).unwrap().size, 20);
    vfs.allocate(h, 0, 1).unwrap();
    assert_eq!(vfs.fstat(h).unwrap().size, 20, "allocate never shrinks");
    let t = vfs
        .open(
            d,
            "a.txt",
            OpenOptions {
                truncate: true,
                ..rw()
            },
        )
        .unwrap();
    assert_eq!(vfs.fstat(t).unwrap().size, 0);
    vfs.sync(t, true).unwrap();
    vfs.sync(t, false).unwrap();
    for x in [h, ap, t] {
        vfs.close(x).unwrap();
    }
    // A read-only handle cannot write.
    let r = vfs.open(d, "a.txt", ro()).unwrap();
    assert_eq!(vfs.write(r, b"x"), Err(Errno::Badf));
    assert_eq!(vfs.truncate(r, 0), Err(Errno::Badf));
    vfs.close(r).unwrap();
    // mkdir / rmdir.
    vfs.mkdir(d, "sub").unwrap();
    assert!(hp.join("sub").is_dir());
    assert_eq!(vfs.mkdir(d, "sub"), Err(Errno::Exist));
    vfs.mkdir(d, "sub/deeper/").unwrap();
    assert_eq!(vfs.rmdir(d, "sub"), Err(Errno::Notempty));
    vfs.rmdir(d, "sub/deeper").unwrap();
    // Rename within the grant, across directories.
    vfs.rename(d, "a.txt", d, "sub/b.txt").unwrap();
    assert!(!hp.join("a.txt").exists() && hp.join("sub/b.txt").is_file());
    let sub = vfs.open(d, "sub", dir_opts()).unwrap();
    vfs.rename(sub, "b.txt", d, "c.txt").unwrap();
    assert!(hp.join("c.txt").is_file());
    // Symlinks.
    vfs.symlink("c.txt", d, "l").unwrap();
    assert_eq!(vfs.readlink(d, "l").unwrap(), "c.txt");
    assert_eq!(
        vfs.stat(d, "l", false).unwrap().filetype,
        Some(FileType::SymbolicLink)
    );
    assert_eq!(
        vfs.stat(d, "l", true).unwrap().ino,
        vfs.stat(d, "c.txt", true).unwrap().ino
    );
    vfs.symlink("../c.txt", sub, "up").unwrap();
    assert_eq!(
        vfs.stat(sub, "up", true).unwrap().ino,
        vfs.stat(d, "c.txt", true).unwrap().ino
    );
    // Hard links.
    vfs.link(d, "c.txt", d, "hard", false).unwrap();
    assert_eq!(vfs.stat(d, "c.txt", true).unwrap().nlink, 2);
    vfs.link(d, "l", d, "hard-follow", true).unwrap();
    assert_eq!(vfs.stat(d, "c.txt", true).unwrap().nlink, 3);
    assert_eq!(vfs.link(d, "c.txt", d, "hard", false), Err(Errno::Exist));
    // Times.
    let at = 1_600_000_000_123_456_789u64;
    vfs.set_times_at(d, "c.txt", true, SetTime::At(at), SetTime::At(at + 1))
        .unwrap();
    let st = vfs.stat(d, "c.txt", true).unwrap();
    assert_eq!((st.atim, st.mtim), (at, at + 1));
    let h = vfs.open(d, "c.txt", rw()).unwrap();
    vfs.set_times(h, SetTime::Omit, SetTime::At(at)).unwrap();
    let st = vfs.fstat(h).unwrap();
    assert_eq!((st.atim, st.mtim), (at, at));
    vfs.set_times(h, SetTime::Now, SetTime::Omit).unwrap();
    assert!(vfs.fstat(h).unwrap().atim > at);
    vfs.set_times(sub, SetTime::At(at), SetTime::At(at))
        .unwrap();
    assert_eq!(vfs.stat(d, "sub", true).unwrap().mtim, at);
    vfs.set_times_at(d, "l", false, SetTime::At(at), SetTime::At(at))
        .unwrap();
    assert_eq!(vfs.stat(d, "l", false).unwrap().mtim, at);
    vfs.close(h).unwrap();
    // Unlink files and symlinks; unlink of a directory fails.
    vfs.unlink(d, "hard").unwrap();
    vfs.unlink(d, "l").unwrap();
    assert_eq!(vfs.unlink(d, "sub"), Err(Errno::Isdir));
    assert_eq!(vfs.unlink(d, "missing"), Err(Errno::Noent));
    assert!(!hp.join("hard").exists() && !hp.join("l").exists());
    assert_eq!(vfs.stat(d, "c.txt", true).unwrap().nlink, 2);
    // The listing shows what is on disk.
    assert_eq!(
        names(&list(&vfs, d, 2)),
        [".", "..", "c.txt", "hard-follow", "sub"]
    );
    // Host stats are the host's.
    let md = std::fs::metadata(hp.join("c.txt")).unwrap();
    assert_eq!(
        vfs.stat(d, "c.txt", true).unwrap().ino,
        std::os::unix::fs::MetadataExt::ino(&md)
    );
}

#[test]
fn creating_below_a_missing_directory_of_a_writable_grant_is_noent() {
    let (host, vfs, d) = rw_grant();
    assert_eq!(vfs.open(d, "missing/new.txt", create()), Err(Errno::Noent));
    assert_eq!(vfs.mkdir(d, "missing/newdir"), Err(Errno::Noent));
    assert_eq!(vfs.symlink("x", d, "missing/l"), Err(Errno::Noent));
    assert!(snapshot(host.path()).is_empty());
}

#[test]
fn a_trailing_slash_on_a_non_directory_is_notdir_and_changes_nothing() {
    let (host, vfs, d) = rw_grant();
    for f in ["r1", "r2", "l1", "ut"] {
        std::fs::write(host.path().join(f), f).unwrap();
    }
    std::fs::create_dir(host.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("ut", host.path().join("ul")).unwrap();
    let before = snapshot(host.path());
    assert_eq!(vfs.rename(d, "r1/", d, "moved"), Err(Errno::Notdir));
    assert_eq!(vfs.rename(d, "r2", d, "moved2/"), Err(Errno::Notdir));
    assert_eq!(vfs.rename(d, "missing/", d, "moved3"), Err(Errno::Noent));
    assert_eq!(vfs.link(d, "l1", d, "hard/", false), Err(Errno::Noent));
    assert_eq!(vfs.link(d, "l1", d, "r1/", false), Err(Errno::Exist));
    assert_eq!(vfs.link(d, "l1/", d, "hard", false), Err(Errno::Notdir));
    assert_eq!(vfs.unlink(d, "ul/"), Err(Errno::Notdir));
    assert_eq!(vfs.unlink(d, "ut/"), Err(Errno::Notdir));
    assert_eq!(vfs.unlink(d, "sub/"), Err(Errno::Isdir));
    assert_eq!(snapshot(host.path()), before);
    // A directory may be renamed with or without the slash.
    vfs.rename(d, "sub/", d, "sub2/").unwrap();
    assert!(host.path().join("sub2").is_dir());
}

#[test]
fn readdir_cookies_reassemble_the_listing() {
    for name in FIXTURES {
        let c = fixture(name);
        let vfs = vfs_of(&c);
        for dir in ["", "assets", "assets/nested", "assets/nested/empty-dir"] {
            let path = if dir.is_empty() { "." } else { dir };
            let h = vfs.open(root(&vfs), path, dir_opts()).unwrap();
            let full = list(&vfs, h, usize::MAX);
            for chunk in [1, 2, 3, 5] {
                assert_eq!(list(&vfs, h, chunk), full, "{name} {dir} by {chunk}");
            }
            assert_eq!(vfs.readdir(h, 0, 0).unwrap(), []);
            assert_eq!(vfs.readdir(h, u64::MAX, 10).unwrap(), []);
            assert_eq!(&names(&full)[..2], [".", ".."]);
            // Cookies are indices; entries are sorted by name bytes; inos match stat.
            for (i, e) in full.iter().enumerate() {
                assert_eq!(e.next, i as u64 + 1);
            }
            let rest = names(&full[2..]);
            let mut sorted = rest.clone();
            sorted.sort();
            assert_eq!(rest, sorted);
            for e in &full[2..] {
                let st = vfs.stat(h, &e.name, false).unwrap();
                assert_eq!(st.ino, e.ino, "{name} {dir}/{}", e.name);
                assert_eq!(st.filetype, Some(e.filetype));
            }
            let dot = vfs.stat(h, ".", true).unwrap().ino;
            let dotdot = vfs.stat(h, "..", true).unwrap().ino;
            assert_eq!((full[0].ino, full[1].ino), (dot, dotdot));
        }
    }
    // Against the container: the names of a volume directory.
    let c = fixture("sample-v3.webc");
    let vfs = vfs_of(&c);
    let expected: Vec<String> = c
        .volume("/assets")
        .unwrap()
        .read_dir("/nested")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(list_path(&vfs, "assets/nested")[2..], expected);
}

#[test]
fn readdir_survives_a_changing_directory() {
    let (host, vfs, d) = rw_grant();
    for i in 0..20 {
        std::fs::write(host.path().join(format!("f{i:02}")), b"").unwrap();
    }
    let first = vfs.readdir(d, 0, 5).unwrap();
    let mut cookie = first.last().unwrap().next;
    for i in 0..10 {
        std::fs::remove_file(host.path().join(format!("f{i:02}"))).unwrap();
        std::fs::write(host.path().join(format!("g{i:02}")), b"").unwrap();
    }
    let mut seen: Vec<String> = names(&first);
    loop {
        let batch = vfs.readdir(d, cookie, 3).unwrap();
        let Some(last) = batch.last() else { break };
        cookie = last.next;
        seen.extend(names(&batch));
        assert!(seen.len() < 1000);
    }
    // The snapshot taken at cookie 0: every original name once, nothing repeated.
    assert_eq!(seen.len(), 22);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 22);
    // Restarting at 0 sees the new state.
    let again = names(&list(&vfs, d, 4));
    assert!(again.contains(&"g00".to_owned()) && !again.contains(&"f00".to_owned()));
}

#[test]
fn dot_dot_stays_in_the_namespace() {
    let host = tempfile::tempdir().unwrap();
    let inner = host.path().join("granted");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(host.path().join("secret.txt"), b"secret").unwrap();
    std::fs::write(inner.join("mine.txt"), b"mine").unwrap();
    let c = fixture("sample-v3.webc");
    let vfs = VfsBuilder::new()
        .volume_mounts_from(&c)
        .unwrap()
        .grant_dir(&inner, "/data/in", Mode::ReadWrite)
        .unwrap()
        .tmp(true)
        .build()
        .unwrap();
    let r = root(&vfs);
    let root_ino = vfs.stat(r, ".", true).unwrap().ino;
    // `..` of `/` is `/`.
    assert_eq!(vfs.stat(r, "..", true).unwrap().ino, root_ino);
    assert_eq!(vfs.stat(r, "../../..", true).unwrap().ino, root_ino);
    assert_eq!(vfs.open(r, "../../../etc/passwd", ro()), Err(Errno::Noent));
    // `..` out of a grant leads into the namespace, never to the host's parent.
    let d = vfs.open(r, "data/in", dir_opts()).unwrap();
    assert_eq!(read_path(&vfs, "data/in/mine.txt"), b"mine");
    assert_eq!(vfs.open(d, "../secret.txt", ro()), Err(Errno::Noent));
    assert_eq!(
        vfs.open(d, "../../../../secret.txt", ro()),
        Err(Errno::Noent)
    );
    assert_eq!(vfs.stat(d, "../..", true).unwrap().ino, root_ino);
    let hello = vfs.open(d, "../../assets/hello.txt", ro()).unwrap();
    assert_eq!(read_all(&vfs, hello), read_path(&vfs, "assets/hello.txt"));
    // Out of a volume mount into `/` and into another mount.
    let assets = vfs.open(r, "assets/nested", dir_opts()).unwrap();
    assert_eq!(read_path(&vfs, "assets/../data/in/mine.txt"), b"mine");
    vfs.stat(assets, "../../tmp", true).unwrap();
    assert_eq!(vfs.stat(assets, "../../..", true).unwrap().ino, root_ino);
    // Intermediate directories are synthetic and list their children.
    assert_eq!(list_path(&vfs, "."), [".", "..", "assets", "data", "tmp"]);
    assert_eq!(list_path(&vfs, "data"), [".", "..", "in"]);
    // Absolute paths are refused.
    assert_eq!(
        vfs.open(r, "/assets/hello.txt", ro()),
        Err(Errno::Notcapable)
    );
    assert_eq!(vfs.stat(d, "/etc", true), Err(Errno::Notcapable));
    assert_eq!(vfs.open(r, "", ro()), Err(Errno::Noent));
    // `..` inside a grant after a host symlink: the parent of the target.
    std::fs::create_dir_all(inner.join("x/y")).unwrap();
    std::os::unix::fs::symlink("x/y", inner.join("ly")).unwrap();
    std::fs::write(inner.join("x/in-x.txt"), b"x").unwrap();
    assert_eq!(read_path(&vfs, "data/in/ly/../in-x.txt"), b"x");
    // A link back to the grant's root: `..` of it leaves the grant into the namespace.
    std::os::unix::fs::symlink(".", inner.join("self")).unwrap();
    assert_eq!(
        vfs.stat(d, "self/..", true).unwrap().ino,
        vfs.stat(r, "data", true).unwrap().ino
    );
}

#[test]
fn host_symlinks_cannot_escape_a_grant() {
    let host = tempfile::tempdir().unwrap();
    let inner = host.path().join("granted");
    std::fs::create_dir_all(inner.join("sub")).unwrap();
    std::fs::write(host.path().join("secret.txt"), b"secret").unwrap();
    std::os::unix::fs::symlink(host.path().join("secret.txt"), inner.join("abs")).unwrap();
    std::os::unix::fs::symlink("/etc", inner.join("etc")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", inner.join("up")).unwrap();
    std::os::unix::fs::symlink("../../secret.txt", inner.join("sub/upup")).unwrap();
    std::os::unix::fs::symlink("..", inner.join("parent")).unwrap();
    for mode in [Mode::ReadOnly, Mode::ReadWrite] {
        let vfs = VfsBuilder::new()
            .grant_dir(&inner, "/g", mode)
            .unwrap()
            .build()
            .unwrap();
        let g = vfs.open(root(&vfs), "g", dir_opts()).unwrap();
        for path in ["abs", "etc/passwd", "up", "sub/upup", "parent/secret.txt"] {
            assert_eq!(vfs.open(g, path, ro()), Err(Errno::Perm), "{path}");
            assert_eq!(vfs.stat(g, path, true), Err(Errno::Perm), "{path}");
        }
        assert_eq!(vfs.open(g, "parent", dir_opts()), Err(Errno::Perm));
        assert_eq!(vfs.stat(g, "parent/..", true), Err(Errno::Perm));
        // The links themselves can be looked at.
        assert_eq!(vfs.readlink(g, "up").unwrap(), "../secret.txt");
        assert_eq!(
            vfs.stat(g, "abs", false).unwrap().filetype,
            Some(FileType::SymbolicLink)
        );
        if mode == Mode::ReadWrite {
            // Creating through an escaping link fails too, and so does an absolute target.
            assert_eq!(vfs.open(g, "parent/new.txt", create()), Err(Errno::Perm));
            assert_eq!(vfs.symlink("/etc/passwd", g, "new-abs"), Err(Errno::Perm));
        }
    }
    assert_eq!(
        std::fs::read_dir(host.path()).unwrap().count(),
        2,
        "nothing was created outside the grant"
    );
}

#[test]
fn a_path_through_a_file_is_notdir() {
    let (host, vfs, d) = rw_grant();
    std::fs::write(host.path().join("f"), b"").unwrap();
    assert_eq!(vfs.open(d, "f/x", ro()), Err(Errno::Notdir));
    assert_eq!(vfs.stat(d, "f/", true), Err(Errno::Notdir));
    assert_eq!(vfs.open(d, "f", dir_opts()), Err(Errno::Notdir));
    let f = vfs.open(d, "f", ro()).unwrap();
    assert_eq!(vfs.open(f, "x", ro()), Err(Errno::Notdir));
    assert_eq!(vfs.readdir(f, 0, 10), Err(Errno::Notdir));
    let v = vfs_of(&fixture("sample-v3.webc"));
    let r = root(&v);
    assert_eq!(v.open(r, "assets/hello.txt/x", ro()), Err(Errno::Notdir));
    assert_eq!(v.stat(r, "assets/hello.txt/..", true), Err(Errno::Notdir));
    assert_eq!(v.stat(r, "assets/hello.txt/", true), Err(Errno::Notdir));
    assert_eq!(
        v.open(r, "assets/hello.txt", dir_opts()),
        Err(Errno::Notdir)
    );
    let dir = v.open(r, "assets", dir_opts()).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(v.read(dir, &mut buf), Err(Errno::Badf));
    assert_eq!(v.seek(dir, 0, Whence::Set), Err(Errno::Badf));
}

#[test]
fn tmp_is_private_and_writable() {
    let a = VfsBuilder::new().tmp(true).build().unwrap();
    let b = VfsBuilder::new().tmp(true).build().unwrap();
    assert_eq!(list_path(&a, "."), [".", "..", "tmp"]);
    let ta = a.open(root(&a), "tmp", dir_opts()).unwrap();
    let h = a.open(ta, "x.txt", create()).unwrap();
    a.write(h, b"scratch").unwrap();
    assert_eq!(read_path(&a, "tmp/x.txt"), b"scratch");
    a.mkdir(ta, "d").unwrap();
    assert_eq!(b.open(root(&b), "tmp/x.txt", ro()), Err(Errno::Noent));
    assert_eq!(list_path(&b, "tmp"), [".", ".."]);
    assert_eq!(list_path(&a, "tmp"), [".", "..", "d", "x.txt"]);
    // Without tmp(true) there is no /tmp.
    let none = VfsBuilder::new().build().unwrap();
    assert_eq!(none.stat(root(&none), "tmp", true), Err(Errno::Noent));
    assert!(none.tmp_usage().is_none());
}

#[test]
fn rename_and_link_across_mounts_are_xdev() {
    let (host, _, _) = rw_grant();
    let vfs = VfsBuilder::new()
        .volume_mounts_from(&fixture("sample-v3.webc"))
        .unwrap()
        .grant_dir(host.path(), "/out", Mode::ReadWrite)
        .unwrap()
        .tmp(true)
        .build()
        .unwrap();
    let r = root(&vfs);
    let h = vfs.open(r, "tmp/a", create()).unwrap();
    vfs.close(h).unwrap();
    assert_eq!(vfs.rename(r, "tmp/a", r, "out/a"), Err(Errno::Xdev));
    assert_eq!(vfs.link(r, "tmp/a", r, "out/a", false), Err(Errno::Xdev));
    assert_eq!(
        vfs.rename(r, "assets/hello.txt", r, "out/h"),
        Err(Errno::Xdev)
    );
    vfs.rename(r, "tmp/a", r, "tmp/b").unwrap();
    assert_eq!(vfs.rmdir(r, "tmp"), Err(Errno::Busy));
    assert_eq!(vfs.unlink(r, "out"), Err(Errno::Isdir));
}

#[test]
fn later_mounts_shadow_earlier_ones_and_nested_mounts_show() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    std::fs::write(one.path().join("which"), b"one").unwrap();
    std::fs::write(two.path().join("which"), b"two").unwrap();
    let vfs = VfsBuilder::new()
        .volume_mounts_from(&fixture("sample-v3.webc"))
        .unwrap()
        .grant_dir(one.path(), "/m", Mode::ReadOnly)
        .unwrap()
        .grant_dir(two.path(), "/m", Mode::ReadOnly)
        .unwrap()
        .grant_dir(one.path(), "/assets/extra", Mode::ReadOnly)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(read_path(&vfs, "m/which"), b"two");
    let listing = list_path(&vfs, "assets");
    assert!(listing.contains(&"extra".to_owned()) && listing.contains(&"hello.txt".to_owned()));
    assert_eq!(read_path(&vfs, "assets/extra/which"), b"one");
    assert_eq!(
        read_path(&vfs, "assets/extra/../hello.txt"),
        read_path(&vfs, "assets/hello.txt")
    );
    // Preopens: `/` first, then every visible mount root.
    let pre: Vec<String> = vfs.preopens().into_iter().map(|p| p.guest_path).collect();
    assert_eq!(pre, ["/", "/assets", "/m", "/assets/extra"]);
    assert_eq!(vfs.preopens(), vfs.preopens(), "stable across calls");
}

#[test]
fn handles_close_once() {
    let vfs = vfs_of(&fixture("sample-v3.webc"));
    let h = vfs.open(root(&vfs), "assets/hello.txt", ro()).unwrap();
    vfs.close(h).unwrap();
    assert_eq!(vfs.close(h), Err(Errno::Badf));
    let mut buf = [0u8; 1];
    assert_eq!(vfs.read(h, &mut buf), Err(Errno::Badf));
    assert_eq!(vfs.fstat(h), Err(Errno::Badf));
    assert_eq!(vfs.close(Handle(u64::MAX)), Err(Errno::Badf));
    assert_eq!(vfs.open(Handle(12345), "x", ro()), Err(Errno::Badf));
    // A handle opened without read cannot read.
    let no_read = vfs
        .open(
            root(&vfs),
            "assets/hello.txt",
            OpenOptions {
                follow: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(vfs.read(no_read, &mut buf), Err(Errno::Badf));
    assert_eq!(vfs.fstat(no_read).unwrap().size, 31);
}

#[test]
fn concurrent_readers_share_one_vfs() {
    let vfs = std::sync::Arc::new(vfs_of(&fixture("sample-v3.webc")));
    let expected = read_path(&vfs, "assets/big.bin");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let vfs = std::sync::Arc::clone(&vfs);
            std::thread::spawn(move || {
                let mut sums = Vec::new();
                for _ in 0..5 {
                    sums.push(read_path(&vfs, "assets/big.bin"));
                }
                sums
            })
        })
        .collect();
    for t in threads {
        for data in t.join().unwrap() {
            assert_eq!(data, expected);
        }
    }
}
