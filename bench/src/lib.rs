//! Benchmark data for `webc-bench`: the fixtures, and a generated ~1 GiB v3 package of
//! 100 000+ files (plus the same tree as an uncompressed tar), written once into
//! `target/bench-data/` with `webc_container`'s writer and reused while its parameters
//! stay the same. The benchmarks themselves live in `benches/reader.rs`; `run.sh` runs
//! them and prints the comparison table.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use webc_container::write::{Directory, Entry, Writer};
use webc_container::{Container, Version};

/// Files in the big package's one large directory.
pub const MANY_FILES: usize = 100_000;
/// Mean size of those files: 100 000 × 10 737 B ≈ 1 GiB.
pub const MEAN_SIZE: usize = 10_737;
/// The 1 MiB file, as in the fixtures.
pub const BIG_FILE: &str = "/big.bin";
/// A small file two levels down, as in the fixtures (`/nested/a.txt`).
pub const SMALL_FILE: &str = "/nested/a.txt";
/// Name of the volume holding the tree (as in the v3 fixtures).
pub const VOLUME: &str = "/assets";

/// Bump when the generated layout changes, so stale data is regenerated.
const LAYOUT_VERSION: u32 = 1;

/// `bench` crate → the workspace's `target/bench-data`.
pub fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench-data")
}

/// `container/tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../container/tests/fixtures")
        .join(name)
}

/// Path of a fixture volume file for the given version: v3 keeps the tree in volume
/// `/assets` at the root, v1/v2 in volume `atom` under `/assets`.
pub fn fixture_location(version: Version, path: &str) -> (&'static str, String) {
    match version {
        Version::V3 => (VOLUME, path.to_owned()),
        Version::V1 | Version::V2 => ("atom", format!("/assets{path}")),
    }
}

/// The generated package and its tar twin.
#[derive(Debug, Clone)]
pub struct BigPackage {
    /// The v3 container.
    pub webc: PathBuf,
    /// The same `/assets` tree as an uncompressed tar (entries under `assets/`).
    pub tar: PathBuf,
    /// Paths (inside the volume) of the files in the big directory.
    pub many: Vec<String>,
}

/// Deterministic pseudo-random bytes (xorshift64*), so the data is the same every run.
fn pool(len: usize) -> Bytes {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

fn many_name(i: usize) -> String {
    format!("/many/f{i:06}")
}

/// The tree: `/many/` with [`MANY_FILES`] files of 5 000..16 474 bytes, `/big.bin`
/// (1 MiB), `/nested/a.txt`, and a chain of nested directories with a few files each.
fn tree() -> webc_container::Result<Directory> {
    const MTIME: u64 = 1_700_000_000;
    let data = pool(32 << 20);
    let mut d = Directory {
        modified: MTIME,
        ..Default::default()
    };
    let file = |content: Bytes| Entry::File {
        data: content,
        modified: MTIME,
    };
    for i in 0..MANY_FILES {
        let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20;
        let size = 5_000 + (h % 11_474) as usize;
        let start = (h as usize * 64) % (data.len() - size);
        d.insert(&many_name(i), file(data.slice(start..start + size)), MTIME)?;
    }
    d.insert(BIG_FILE, file(data.slice(..1 << 20)), MTIME)?;
    d.insert(SMALL_FILE, file(Bytes::from_static(b"nested a\n")), MTIME)?;
    let mut dir = String::from("/nested/deep");
    for level in 0..8 {
        dir.push_str(&format!("/d{level}"));
        for f in 0..4 {
            let content = data.slice(f * 100..f * 100 + 100);
            d.insert(&format!("{dir}/file{f}.txt"), file(content), MTIME)?;
        }
    }
    Ok(d)
}

fn stamp(dir: &Path) -> PathBuf {
    dir.join(format!("big-v3.layout-{LAYOUT_VERSION}.done"))
}

/// Generates (once) and returns the big package. Takes ~20 s and ~3 GiB of memory the
/// first time.
pub fn big_package() -> std::io::Result<BigPackage> {
    let dir = data_dir();
    let pkg = BigPackage {
        webc: dir.join("big-v3.webc"),
        tar: dir.join("big-assets.tar"),
        many: (0..MANY_FILES).map(many_name).collect(),
    };
    if stamp(&dir).exists() && pkg.webc.exists() && pkg.tar.exists() {
        return Ok(pkg);
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!("generating {} (once) ...", pkg.webc.display());
    let sample = Container::open(fixture("sample-v3.webc")).map_err(std::io::Error::other)?;
    let mut writer = Writer::from_container(&sample).map_err(std::io::Error::other)?;
    let assets = tree().map_err(std::io::Error::other)?;
    write_tar(&assets, &pkg.tar)?;
    writer.volumes.insert(VOLUME.to_owned(), assets);
    writer
        .write_to(Version::V3, &pkg.webc)
        .map_err(std::io::Error::other)?;
    File::create(stamp(&dir))?;
    Ok(pkg)
}

/// Writes `root` as an uncompressed tar with entries under `assets/`.
pub fn write_tar(root: &Directory, path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension("tar.tmp");
    let mut builder = tar::Builder::new(BufWriter::new(File::create(&tmp)?));
    let mut stack = vec![("assets".to_owned(), root)];
    while let Some((prefix, dir)) = stack.pop() {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        header.set_mtime(dir.modified);
        builder.append_data(&mut header, format!("{prefix}/"), std::io::empty())?;
        for (name, entry) in &dir.entries {
            let path = format!("{prefix}/{name}");
            match entry {
                Entry::Dir(sub) => stack.push((path, sub)),
                Entry::File { data, modified } => {
                    let mut header = tar::Header::new_gnu();
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(0o644);
                    header.set_size(data.len() as u64);
                    header.set_mtime(*modified);
                    builder.append_data(&mut header, &path, &data[..])?;
                }
                Entry::Symlink { target, modified } => {
                    let mut header = tar::Header::new_gnu();
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    header.set_size(0);
                    header.set_mtime(*modified);
                    builder.append_link(&mut header, &path, target)?;
                }
            }
        }
    }
    builder.into_inner()?.flush()?;
    std::fs::rename(tmp, path)
}

/// The `/assets` tree of a fixture as a tar in `target/bench-data/`, for the small-scale
/// time-to-first-byte comparison.
pub fn fixture_tar(name: &str) -> std::io::Result<PathBuf> {
    let out = data_dir().join(format!("{name}.assets.tar"));
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(data_dir())?;
    let c = Container::open(fixture(name)).map_err(std::io::Error::other)?;
    let v = c.volume(VOLUME).map_err(std::io::Error::other)?;
    let dir = webc_container::write::directory_of(&v).map_err(std::io::Error::other)?;
    write_tar(&dir, &out)?;
    Ok(out)
}
