//! The private `/tmp`: in memory, bounded, and — operation by operation — the same answers
//! as a writable host grant (the reference: the host's file system through cap-std).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use webc_runner_api::fs::{
    DirEntry, Errno, FileSystem, FileType, FsResult, Handle, OpenOptions, SetTime, Stat, Whence,
};
use webc_vfs::{DEFAULT_TMP_SIZE, Mode, Vfs, VfsBuilder};

fn root(vfs: &Vfs) -> Handle {
    vfs.preopens()[0].handle
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

fn tmp_vfs(size: Option<u64>) -> (Vfs, Handle) {
    let mut b = VfsBuilder::new().tmp(true);
    if let Some(size) = size {
        b = b.tmp_size(size);
    }
    let vfs = b.build().unwrap();
    let t = vfs.open(root(&vfs), "tmp", dir_opts()).unwrap();
    (vfs, t)
}

/// Writes `total` bytes in 64 KiB chunks; returns the bytes written and the error that
/// stopped it, if any.
fn fill(vfs: &Vfs, h: Handle, total: usize) -> (usize, Option<Errno>) {
    let chunk = vec![0xA5u8; 64 * 1024];
    let mut written = 0;
    while written < total {
        let want = chunk.len().min(total - written);
        match vfs.write(h, &chunk[..want]) {
            Ok(0) => return (written, None),
            Ok(n) => written += n,
            Err(e) => return (written, Some(e)),
        }
    }
    (written, None)
}

#[test]
fn tmp_lives_in_memory_and_leaves_nothing_on_disk() {
    let (vfs, t) = tmp_vfs(None);
    // A name no other process uses: if it shows up under the host's temporary directory,
    // `/tmp` is on disk (where a killed process would leave it).
    let marker = format!(
        "marker-{}-{:?}",
        std::process::id(),
        std::time::Instant::now()
    );
    let marker = marker.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let h = vfs.open(t, &marker, create()).unwrap();
    vfs.write(h, b"scratch").unwrap();
    let mut on_disk = Vec::new();
    for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        if e.path().join(&marker).exists() {
            on_disk.push(e.path());
        }
    }
    assert!(
        on_disk.is_empty(),
        "the private /tmp is on the host's disk: {on_disk:?}"
    );
    let mut buf = [0u8; 16];
    assert_eq!(vfs.pread(h, &mut buf, 0).unwrap(), 7);
    assert_eq!(&buf[..7], b"scratch");
    assert_eq!(vfs.tmp_usage().unwrap().1, DEFAULT_TMP_SIZE);
    // Two namespaces never share a /tmp.
    let (other, ot) = tmp_vfs(None);
    assert_eq!(other.stat(ot, &marker, true), Err(Errno::Noent));
    assert!(VfsBuilder::new().build().unwrap().tmp_usage().is_none());
}

#[test]
fn writing_past_the_budget_is_nospc_until_space_is_freed() {
    const BUDGET: u64 = 1 << 20;
    let (vfs, t) = tmp_vfs(Some(BUDGET));
    let h = vfs.open(t, "big", create()).unwrap();
    let (written, err) = fill(&vfs, h, 4 << 20);
    assert_eq!(err, Some(Errno::Nospc));
    assert!(
        written > (BUDGET / 2) as usize && written <= BUDGET as usize,
        "{written} bytes written with a budget of {BUDGET}"
    );
    assert_eq!(vfs.fstat(h).unwrap().size, written as u64);
    let (used, limit) = vfs.tmp_usage().unwrap();
    assert!(used <= limit, "{used} > {limit}");
    // Everything that would need more space fails the same way, and changes nothing.
    assert_eq!(vfs.write(h, b"x"), Err(Errno::Nospc));
    assert_eq!(vfs.pwrite(h, b"x", 10 << 20), Err(Errno::Nospc));
    assert_eq!(vfs.truncate(h, 2 << 20), Err(Errno::Nospc));
    assert_eq!(vfs.allocate(h, 0, 2 << 20), Err(Errno::Nospc));
    assert_eq!(vfs.fstat(h).unwrap().size, written as u64);
    let second = vfs.open(t, "second", create());
    let made_dir = vfs.mkdir(t, "d");
    assert!(
        second == Err(Errno::Nospc) || made_dir == Err(Errno::Nospc),
        "a full /tmp still creates: {second:?} {made_dir:?}"
    );
    // An unlinked file stays (and stays charged) while open; closing frees it.
    vfs.unlink(t, "big").unwrap();
    assert!(vfs.tmp_usage().unwrap().0 > BUDGET / 2);
    vfs.close(h).unwrap();
    assert!(vfs.tmp_usage().unwrap().0 < BUDGET / 4);
    if let Ok(h2) = second {
        vfs.close(h2).unwrap();
    }
    let h = vfs.open(t, "again", create()).unwrap();
    let (again, err) = fill(&vfs, h, (BUDGET / 2) as usize);
    assert_eq!((again, err), ((BUDGET / 2) as usize, None));
    // Truncating gives space back too.
    vfs.truncate(h, 0).unwrap();
    let h2 = vfs.open(t, "third", create()).unwrap();
    assert_eq!(fill(&vfs, h2, (BUDGET / 2) as usize).1, None);
}

#[test]
fn many_empty_files_are_bounded_by_the_budget() {
    const BUDGET: u64 = 256 * 1024;
    let (vfs, t) = tmp_vfs(Some(BUDGET));
    let mut made = 0u64;
    let err = loop {
        match vfs.open(t, &format!("f{made}"), create()) {
            Ok(h) => {
                vfs.close(h).unwrap();
                made += 1;
            }
            Err(e) => break e,
        }
        assert!(made < 1_000_000, "no bound on empty files");
    };
    assert_eq!(err, Errno::Nospc);
    assert!(made > 100 && made < BUDGET / 256, "{made} empty files");
    // Symlinks and directories are counted too; removing files makes room.
    assert_eq!(vfs.mkdir(t, "d"), Err(Errno::Nospc));
    assert_eq!(vfs.symlink("f0", t, "l"), Err(Errno::Nospc));
    for i in 0..10 {
        vfs.unlink(t, &format!("f{i}")).unwrap();
    }
    vfs.mkdir(t, "d").unwrap();
    vfs.symlink("f10", t, "l").unwrap();
}

// ---- The same operations on a writable host grant and on /tmp ----------------------------

/// What a call returned, without what legitimately differs between two file systems
/// (device and inode numbers, times, directory sizes and link counts).
fn norm_stat(r: FsResult<Stat>) -> String {
    match r {
        Ok(s) if s.filetype == Some(FileType::Directory) => "Ok(dir)".to_owned(),
        Ok(s) => format!("Ok({:?} size={} nlink={})", s.filetype, s.size, s.nlink),
        Err(e) => format!("Err({e:?})"),
    }
}

fn norm_list(r: FsResult<Vec<DirEntry>>) -> String {
    match r {
        Ok(l) => format!(
            "{:?}",
            l.iter()
                .map(|e| (e.next, e.name.as_str(), e.filetype))
                .collect::<Vec<_>>()
        ),
        Err(e) => format!("Err({e:?})"),
    }
}

/// Records every call's normalised result, so two runs can be compared line by line.
struct Log<'a> {
    vfs: &'a Vfs,
    lines: Vec<String>,
    /// Handles by the test's own numbering (identical in both runs).
    handles: Vec<Option<Handle>>,
}

impl Log<'_> {
    fn rec(&mut self, what: impl std::fmt::Display, r: impl std::fmt::Debug) {
        self.lines.push(format!("{what}: {r:?}"));
    }

    fn open(&mut self, dir: Handle, path: &str, o: OpenOptions) -> Option<Handle> {
        let r = self.vfs.open(dir, path, o);
        self.rec(format!("open {path} {o:?}"), r.map(|_| ()));
        self.handles.push(r.ok());
        r.ok()
    }

    fn stat(&mut self, dir: Handle, path: &str, follow: bool) {
        let r = norm_stat(self.vfs.stat(dir, path, follow));
        self.lines.push(format!("stat {path} {follow}: {r}"));
    }

    fn list(&mut self, dir: Handle, path: &str) {
        let r = self.vfs.open(dir, path, dir_opts());
        let l = r.and_then(|h| {
            let l = self.vfs.readdir(h, 0, usize::MAX);
            self.vfs.close(h).unwrap();
            l
        });
        self.lines.push(format!("list {path}: {}", norm_list(l)));
    }

    fn read_all(&mut self, h: Handle) {
        let mut buf = vec![0u8; 4096];
        let r = self.vfs.pread(h, &mut buf, 0).map(|n| buf[..n].to_vec());
        self.rec("pread", r);
    }
}

/// A fixed tour of every operation, including the error cases the host answers.
fn tour(vfs: &Vfs, d: Handle) -> Vec<String> {
    let mut l = Log {
        vfs,
        lines: Vec::new(),
        handles: Vec::new(),
    };
    let v = l.vfs;
    let excl = OpenOptions {
        exclusive: true,
        ..create()
    };
    let append = OpenOptions {
        append: true,
        ..rw()
    };
    let trunc = OpenOptions {
        truncate: true,
        ..rw()
    };
    let nofollow = OpenOptions {
        follow: false,
        ..ro()
    };
    // Files: create, write, positions, append, truncate, allocate.
    let h = l.open(d, "a.txt", create()).unwrap();
    l.rec("write", v.write(h, b"hello "));
    l.rec("write", v.write(h, b"world"));
    l.rec("pos", v.seek(h, 0, Whence::Cur));
    l.rec("pwrite", v.pwrite(h, b"W", 6));
    l.rec("pos", v.seek(h, 0, Whence::Cur));
    l.rec("seek end", v.seek(h, -3, Whence::End));
    l.rec("seek neg", v.seek(h, -30, Whence::End));
    l.read_all(h);
    l.rec("info", v.handle_info(h));
    l.open(d, "a.txt", excl);
    l.rec("set_append", v.set_append(h, true));
    l.rec("seek", v.seek(h, 0, Whence::Set));
    l.rec("write", v.write(h, b"!"));
    l.rec("pos", v.seek(h, 0, Whence::Cur));
    let ap = l.open(d, "a.txt", append).unwrap();
    l.rec("write", v.write(ap, b"?"));
    l.read_all(h);
    l.rec("pwrite far", v.pwrite(ap, b"Z", 20));
    l.read_all(h);
    l.rec("truncate", v.truncate(h, 5));
    l.rec("fstat", norm_stat(v.fstat(h)));
    l.rec("allocate", v.allocate(h, 10, 10));
    l.rec("fstat", norm_stat(v.fstat(h)));
    l.rec("allocate", v.allocate(h, 0, 1));
    l.rec("allocate overflow", v.allocate(h, u64::MAX, 2));
    l.rec("fstat", norm_stat(v.fstat(h)));
    l.read_all(h);
    let t = l.open(d, "a.txt", trunc).unwrap();
    l.rec("fstat", norm_stat(v.fstat(t)));
    l.rec("sync", v.sync(t, true));
    l.rec("sync", v.sync(t, false));
    l.rec("write past end", v.pwrite(t, b"end", 100));
    l.read_all(t);
    l.rec("seek end", v.seek(t, 0, Whence::End));
    for x in [h, ap, t] {
        l.rec("close", v.close(x));
    }
    let r = l.open(d, "a.txt", ro()).unwrap();
    l.rec("write ro", v.write(r, b"x"));
    l.rec("truncate ro", v.truncate(r, 0));
    l.rec("allocate ro", v.allocate(r, 0, 1));
    let mut buf = [0u8; 4];
    l.rec("read", v.read(r, &mut buf));
    l.rec("close", v.close(r));
    let wo = l
        .open(
            d,
            "a.txt",
            OpenOptions {
                write: true,
                follow: true,
                ..Default::default()
            },
        )
        .unwrap();
    l.rec("read wo", v.read(wo, &mut buf));
    l.rec("close", v.close(wo));
    l.open(d, "missing", ro());
    l.open(d, "missing/x", create());
    l.open(d, "new-dir/", create());
    // Directories.
    l.rec("mkdir", v.mkdir(d, "sub"));
    l.rec("mkdir again", v.mkdir(d, "sub"));
    l.rec("mkdir slash", v.mkdir(d, "sub/deeper/"));
    l.rec("mkdir over file", v.mkdir(d, "a.txt"));
    l.rec("mkdir missing parent", v.mkdir(d, "nope/x"));
    l.rec("mkdir dot", v.mkdir(d, "sub/."));
    l.rec("rmdir nonempty", v.rmdir(d, "sub"));
    l.rec("rmdir file", v.rmdir(d, "a.txt"));
    l.rec("rmdir missing", v.rmdir(d, "missing"));
    l.rec("rmdir dot", v.rmdir(d, "sub/."));
    l.rec("rmdir dotdot", v.rmdir(d, "sub/.."));
    l.rec("rmdir", v.rmdir(d, "sub/deeper"));
    l.open(d, "sub", create());
    l.open(d, "sub", rw());
    l.open(d, "sub", trunc);
    l.open(d, "sub", excl);
    l.open(d, "a.txt", dir_opts());
    l.open(d, "a.txt/x", ro());
    l.stat(d, "a.txt/", true);
    l.stat(d, "a.txt/..", true);
    let sub = l.open(d, "sub", ro()).unwrap();
    l.rec("info dir", v.handle_info(sub));
    l.rec("read dir", v.read(sub, &mut buf));
    l.rec("write dir", v.write(sub, b"x"));
    l.rec("seek dir", v.seek(sub, 0, Whence::Set));
    l.rec("truncate dir", v.truncate(sub, 0));
    l.rec("fstat dir", norm_stat(v.fstat(sub)));
    l.rec("sync dir", v.sync(sub, false));
    let f = l.open(d, "a.txt", ro()).unwrap();
    l.rec("readdir file", norm_list(v.readdir(f, 0, 10)));
    l.open(f, "x", ro());
    l.rec("close", v.close(f));
    // Renames.
    l.rec("rename", v.rename(d, "a.txt", d, "sub/b.txt"));
    l.rec("rename back", v.rename(sub, "b.txt", d, "c.txt"));
    l.rec("rename missing", v.rename(d, "missing", d, "x"));
    l.rec("rename onto itself", v.rename(d, "c.txt", d, "c.txt"));
    l.rec("mkdir", v.mkdir(d, "e1"));
    l.rec("mkdir", v.mkdir(d, "e2"));
    l.rec("mkdir", v.mkdir(d, "e2/inner"));
    l.rec("rename dir onto file", v.rename(d, "e1", d, "c.txt"));
    l.rec("rename file onto dir", v.rename(d, "c.txt", d, "e1"));
    l.rec("rename onto nonempty", v.rename(d, "e1", d, "e2"));
    l.rec("rename into itself", v.rename(d, "e2", d, "e2/inner/x"));
    l.rec("rename onto empty dir", v.rename(d, "e2", d, "e1"));
    l.stat(d, "e1/inner", true);
    l.stat(d, "e2", true);
    l.rec("rename file slash", v.rename(d, "c.txt/", d, "moved"));
    l.rec("rename to slash", v.rename(d, "c.txt", d, "moved/"));
    l.rec("rename dir slash", v.rename(d, "e1/", d, "e3/"));
    l.rec(
        "copy",
        v.open(d, "c2.txt", create()).and_then(|h| v.close(h)),
    );
    l.rec("rename replace file", v.rename(d, "c2.txt", d, "c3.txt"));
    let h = l.open(d, "c.txt", create()).unwrap();
    l.rec("write", v.write(h, b"content"));
    l.rec("rename replace", v.rename(d, "c3.txt", d, "c.txt"));
    l.read_all(h);
    l.rec("close", v.close(h));
    let h = l.open(d, "c.txt", rw()).unwrap();
    l.rec("write", v.write(h, b"content of c"));
    l.rec("close", v.close(h));
    // Symlinks.
    l.rec("symlink", v.symlink("c.txt", d, "l"));
    l.rec("readlink", v.readlink(d, "l"));
    l.rec("readlink file", v.readlink(d, "c.txt"));
    l.rec("readlink missing", v.readlink(d, "missing"));
    l.stat(d, "l", false);
    l.stat(d, "l", true);
    l.open(d, "l", nofollow);
    let h = l.open(d, "l", ro()).unwrap();
    l.read_all(h);
    l.rec("close", v.close(h));
    l.rec("symlink again", v.symlink("x", d, "l"));
    l.rec("symlink dangling", v.symlink("nowhere", d, "dangling"));
    l.stat(d, "dangling", true);
    l.stat(d, "dangling", false);
    l.open(d, "dangling", ro());
    l.rec("symlink abs", v.symlink("/etc/passwd", d, "abs"));
    l.rec("symlink up", v.symlink("../secret", d, "up"));
    l.stat(d, "up", true);
    l.open(d, "up", ro());
    l.rec("symlink parent", v.symlink("..", d, "parent"));
    l.stat(d, "parent/x", true);
    l.stat(d, "parent/..", true);
    l.open(d, "parent/new.txt", create());
    l.rec("symlink up in sub", v.symlink("../c.txt", sub, "upc"));
    l.stat(sub, "upc", true);
    l.rec("symlink to dir", v.symlink("sub", d, "lsub"));
    l.stat(d, "lsub/upc", true);
    l.stat(d, "lsub/..", true);
    l.open(d, "lsub/../c.txt", ro());
    l.rec("symlink loop a", v.symlink("loop-b", d, "loop-a"));
    l.rec("symlink loop b", v.symlink("loop-a", d, "loop-b"));
    l.stat(d, "loop-a", true);
    l.open(d, "loop-a", ro());
    l.rec("unlink slash on link", v.unlink(d, "lsub/"));
    l.stat(d, "lsub", false);
    // Hard links.
    l.rec("link", v.link(d, "c.txt", d, "hard", false));
    l.stat(d, "c.txt", true);
    l.rec("link follow", v.link(d, "l", d, "hard-follow", true));
    l.stat(d, "c.txt", true);
    l.rec("link nofollow", v.link(d, "l", d, "hard-l", false));
    l.stat(d, "hard-l", false);
    l.rec("link exists", v.link(d, "c.txt", d, "hard", false));
    l.rec("link dir", v.link(d, "sub", d, "hard-dir", false));
    l.rec("link missing", v.link(d, "missing", d, "x", false));
    l.rec("link to slash", v.link(d, "c.txt", d, "hard2/", false));
    l.rec("link from slash", v.link(d, "c.txt/", d, "hard3", false));
    l.rec(
        "link onto file slash",
        v.link(d, "c.txt", d, "hard/", false),
    );
    // Times (values only; the host's own times are not compared).
    let at = 1_600_000_000_123_456_789u64;
    l.rec(
        "set_times_at",
        v.set_times_at(d, "c.txt", true, SetTime::At(at), SetTime::At(at + 1)),
    );
    let st = v.stat(d, "c.txt", true).unwrap();
    l.rec("times", (st.atim, st.mtim));
    let h = l.open(d, "c.txt", rw()).unwrap();
    l.rec("set_times", v.set_times(h, SetTime::Omit, SetTime::At(at)));
    let st = v.fstat(h).unwrap();
    l.rec("times", (st.atim, st.mtim));
    l.rec("set_times now", v.set_times(h, SetTime::Now, SetTime::Omit));
    l.rec("now is later", v.fstat(h).unwrap().atim > at);
    l.rec("close", v.close(h));
    l.rec(
        "set_times dir",
        v.set_times(sub, SetTime::At(at), SetTime::At(at)),
    );
    l.rec("dir mtime", v.stat(d, "sub", true).unwrap().mtim);
    l.rec(
        "set_times link",
        v.set_times_at(d, "l", false, SetTime::At(at), SetTime::At(at)),
    );
    l.rec("link mtime", v.stat(d, "l", false).unwrap().mtim);
    l.rec(
        "set_times missing",
        v.set_times_at(d, "missing", true, SetTime::Now, SetTime::Now),
    );
    // Removal.
    l.rec("unlink", v.unlink(d, "hard"));
    l.rec("unlink link", v.unlink(d, "l"));
    l.rec("unlink dir", v.unlink(d, "sub"));
    l.rec("unlink missing", v.unlink(d, "missing"));
    l.rec("unlink file slash", v.unlink(d, "c.txt/"));
    l.rec("unlink dir slash", v.unlink(d, "sub/"));
    l.rec("unlink dot", v.unlink(d, "."));
    l.stat(d, "c.txt", true);
    // An open file outlives its name.
    let h = l.open(d, "doomed", create()).unwrap();
    l.rec("write", v.write(h, b"still here"));
    l.rec("unlink open", v.unlink(d, "doomed"));
    l.read_all(h);
    l.rec("fstat unlinked", norm_stat(v.fstat(h)));
    l.rec("close", v.close(h));
    l.rec("close twice", v.close(h));
    // Listings, whole and by cookie.
    l.list(d, ".");
    l.list(d, "sub");
    l.list(d, "e1");
    l.list(d, "lsub");
    let mut cookie = 0;
    loop {
        let batch = v.readdir(d, cookie, 2).unwrap();
        let Some(last) = batch.last() else { break };
        cookie = last.next;
        l.rec("batch", norm_list(Ok(batch)));
    }
    l.rec("readdir past end", norm_list(v.readdir(d, u64::MAX, 10)));
    l.rec("readdir zero", norm_list(v.readdir(d, 0, 0)));
    // `..` of the mount leads into the namespace.
    l.stat(d, "..", true);
    l.list(d, "..");
    l.rec("close sub", v.close(sub));
    l.lines
}

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[(self.next() % of.len() as u64) as usize]
    }
}

/// Random operations over a handful of names, so the two file systems meet each other's
/// corner cases: every result and the final tree must be the same.
fn random_ops(vfs: &Vfs, d: Handle, seed: u64) -> Vec<String> {
    const NAMES: &[&str] = &[
        "a",
        "b",
        "c",
        "x/",
        "d",
        "d/a",
        "d/b",
        "d/e",
        "d/e/a",
        "d/../a",
        "l",
        "d/l",
        "a/",
        "d/e/",
        "./d",
        "l/a",
        "ll",
        "d/e/../../b",
    ];
    let mut rng = Rng(seed);
    let mut l = Log {
        vfs,
        lines: Vec::new(),
        handles: Vec::new(),
    };
    let v = l.vfs;
    let mut open: Vec<Handle> = Vec::new();
    for _ in 0..400 {
        let a = rng.pick(NAMES);
        let b = rng.pick(NAMES);
        match rng.next() % 13 {
            0 => {
                let o = match rng.next() % 4 {
                    0 => OpenOptions {
                        exclusive: true,
                        ..create()
                    },
                    1 => OpenOptions {
                        truncate: true,
                        ..create()
                    },
                    2 => rw(),
                    _ => create(),
                };
                if let Some(h) = l.open(d, a, o) {
                    open.push(h);
                }
            }
            1 => l.rec(format!("mkdir {a}"), v.mkdir(d, a)),
            2 => l.rec(format!("rmdir {a}"), v.rmdir(d, a)),
            3 => l.rec(format!("unlink {a}"), v.unlink(d, a)),
            4 => {
                // As for `link` below: with two wrong names, either error may come first.
                let r = v.rename(d, a, d, b).map_err(|_| "error");
                l.rec(format!("rename {a} {b}"), r);
            }
            5 => {
                // Targets ending in `/` make loops that cap-std reports in its own way.
                let b = b.trim_end_matches('/');
                l.rec(format!("symlink {b} {a}"), v.symlink(b, d, a));
            }
            6 => {
                let follow = rng.next().is_multiple_of(2);
                // When both names are wrong, which one is reported first differs (cap-std
                // resolves lazily, in its own order): only success is compared; the tour
                // compares the errnos of single mistakes.
                let r = v.link(d, a, d, b, follow).map_err(|_| "error");
                l.rec(format!("link {a} {b} {follow}"), r);
            }
            7 => l.stat(d, a, rng.next().is_multiple_of(2)),
            8 => l.list(d, a),
            9 if !open.is_empty() => {
                let h = open[(rng.next() % open.len() as u64) as usize];
                let data = vec![b'0' + (rng.next() % 10) as u8; (rng.next() % 300) as usize];
                l.rec("write", v.write(h, &data));
                l.read_all(h);
            }
            10 if !open.is_empty() => {
                let i = (rng.next() % open.len() as u64) as usize;
                let h = open.swap_remove(i);
                l.rec("close", v.close(h));
            }
            11 if !open.is_empty() => {
                let h = open[(rng.next() % open.len() as u64) as usize];
                l.rec("truncate", v.truncate(h, rng.next() % 50));
                l.rec("fstat", norm_stat(v.fstat(h)));
            }
            _ => l.rec(format!("readlink {a}"), v.readlink(d, a)),
        }
    }
    for name in ["a", "b", "c", "d", "d/e", "l", "ll"] {
        l.stat(d, name, false);
        l.list(d, name);
    }
    for h in open {
        l.rec("close", v.close(h));
    }
    l.lines
}

/// Runs `ops` on a writable host grant at `/out` and on `/tmp`, and compares every line.
fn same_on_host_and_tmp(ops: impl Fn(&Vfs, Handle) -> Vec<String>) {
    let host = tempfile::tempdir().unwrap();
    let vfs = VfsBuilder::new()
        .grant_dir(host.path(), "/out", Mode::ReadWrite)
        .unwrap()
        .tmp(true)
        .build()
        .unwrap();
    let out = vfs.open(root(&vfs), "out", dir_opts()).unwrap();
    let tmp = vfs.open(root(&vfs), "tmp", dir_opts()).unwrap();
    let on_host = ops(&vfs, out);
    let on_tmp = ops(&vfs, tmp);
    assert!(on_host.len() > 50, "the script ran");
    for (i, (h, t)) in on_host.iter().zip(&on_tmp).enumerate() {
        assert_eq!(
            t,
            h,
            "step {i}: /tmp (left) differs from a host grant (right); before:\n{}",
            on_host[i.saturating_sub(40)..i].join("\n")
        );
    }
    assert_eq!(on_tmp.len(), on_host.len());
}

#[test]
fn tmp_answers_every_operation_as_a_writable_host_grant() {
    same_on_host_and_tmp(tour);
}

#[test]
fn random_operations_give_the_same_results_on_tmp_and_a_host_grant() {
    for seed in 1..=40u64 {
        same_on_host_and_tmp(|vfs, d| random_ops(vfs, d, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    }
}
