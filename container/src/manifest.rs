//! The CBOR manifest as typed structs that keep what they do not know.
//!
//! Every struct here remembers the keys it was decoded from (in their original order) and
//! any key it does not model, so `Manifest::from_cbor(b)?.to_cbor()? == b` for every
//! manifest written by Wasmer's tools (definite-length CBOR, shortest integers and floats,
//! as ciborium writes). Structs built from scratch are encoded the way Wasmer's `webc`
//! crate encodes them: fields in declaration order, optional fields omitted unless Wasmer
//! writes them as `null`.
//!
//! Decoding reads the CBOR straight into the typed structs (the private `Direct` trait): known fields never
//! pass through a `Value` tree, only the entries no field models become `Value`s. Input
//! outside the subset Wasmer writes, and every input with a schema error, is decoded again
//! the general way (CBOR → `Value` → structs), which settles unusual encodings and names
//! the error's location; both ways give the same result wherever the direct one answers.

use ciborium::Value;
use indexmap::IndexMap;

use crate::cbor::Reader;
use crate::error::{Error, Result};

pub use crate::well_known::{
    KIND_ELF, KIND_ONNX, KIND_TENSORFLOW_SAVED_MODEL, KIND_WASM, RUNNER_EMSCRIPTEN, RUNNER_ONNX,
    RUNNER_POSIX, RUNNER_TENSORFLOW, RUNNER_WASI, RUNNER_WASM4, RUNNER_WCGI,
};

/// Keys a map had, in order, plus the entries no typed field claimed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extra {
    /// The original entries, in order, by position: a key can repeat and need not equal
    /// itself (a NaN float), so entries are never matched by comparing keys.
    order: Order,
    unknown: Vec<(Value, Value)>,
    /// Decoded from CBOR: fields absent from the original stay absent when re-encoded.
    decoded: bool,
}

impl Extra {
    /// Entries this crate does not model, in their original order.
    pub fn unknown(&self) -> &[(Value, Value)] {
        &self.unknown
    }

    /// An unknown entry by text key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.unknown
            .iter()
            .find(|(k, _)| is_key(k, key))
            .map(|(_, v)| v)
    }

    /// Sets (or adds) an entry no typed field models.
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.unknown.iter_mut().find(|(k, _)| is_key(k, key)) {
            Some(slot) => slot.1 = value,
            None => self.unknown.push((Value::Text(key.into()), value)),
        }
    }
}

/// The order of a decoded map's entries.
#[derive(Debug, Clone, PartialEq)]
enum Order {
    /// Typed fields only, each once, in declaration order (what Wasmer writes): bit `i`
    /// set when the struct's `i`-th field was there. Costs no allocation.
    Fields(u32),
    /// Anything else, entry by entry.
    Listed(Vec<Slot>),
}

impl Default for Order {
    fn default() -> Self {
        Order::Fields(0)
    }
}

impl Order {
    /// The entries in order, given the struct's keys in declaration order.
    fn slots(&self, keys: &[&'static str]) -> Vec<Slot> {
        match self {
            Order::Fields(mask) => fields_of(*mask, keys),
            Order::Listed(slots) => slots.clone(),
        }
    }
}

fn fields_of(mask: u32, keys: &[&'static str]) -> Vec<Slot> {
    keys.iter()
        .enumerate()
        .filter(|&(i, _)| i < 32 && mask & (1 << i) != 0)
        .map(|(_, &k)| Slot::Field(k))
        .collect()
}

/// Builds an [`Order`] entry by entry, staying [`Order::Fields`] while it can.
struct OrderBuilder {
    keys: &'static [&'static str],
    mask: u32,
    last: Option<usize>,
    listed: Option<Vec<Slot>>,
}

impl OrderBuilder {
    fn new(keys: &'static [&'static str]) -> Self {
        OrderBuilder {
            keys,
            mask: 0,
            last: None,
            listed: None,
        }
    }

    /// The typed field `key` (one of `keys`).
    fn field(&mut self, key: &'static str) {
        let i = self.keys.iter().position(|k| *k == key);
        match i {
            Some(i) if self.listed.is_none() && i < 32 && self.last.is_none_or(|l| l < i) => {
                self.mask |= 1 << i;
                self.last = Some(i);
            }
            _ => self.listed().push(Slot::Field(key)),
        }
    }

    /// `unknown[index]`.
    fn unknown(&mut self, index: usize) {
        self.listed().push(Slot::Unknown(index));
    }

    fn listed(&mut self) -> &mut Vec<Slot> {
        let (mask, keys) = (self.mask, self.keys);
        self.listed.get_or_insert_with(|| fields_of(mask, keys))
    }

    fn finish(self) -> Order {
        match self.listed {
            Some(slots) => Order::Listed(slots),
            None => Order::Fields(self.mask),
        }
    }
}

/// One entry of a decoded map.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    /// Claimed by the typed field with this key.
    Field(&'static str),
    /// `unknown[i]`.
    Unknown(usize),
}

fn is_key(k: &Value, key: &str) -> bool {
    matches!(k, Value::Text(t) if t == key)
}

/// Where in the manifest a value sits, e.g. `commands.hello.annotations.wasi.atom`.
/// Built on the stack while decoding and formatted only when an error is reported.
#[derive(Debug, Clone, Copy)]
enum Loc<'a> {
    Root,
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Root => Ok(()),
            Loc::Key(Loc::Root, k) => f.write_str(k),
            Loc::Key(p, k) => write!(f, "{p}.{k}"),
            Loc::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

fn err(loc: &Loc<'_>, reason: impl Into<String>) -> Error {
    Error::manifest(loc.to_string(), reason)
}

/// Decoding helper: takes typed fields out of a map and keeps the rest. Values are taken
/// out in place, so the keys keep their original order without being copied.
struct Fields<'a> {
    loc: &'a Loc<'a>,
    /// Key, value (taken out by a typed field) and the field that took it.
    entries: Vec<(Value, Option<Value>, Option<&'static str>)>,
}

impl<'a> Fields<'a> {
    fn new(v: Value, loc: &'a Loc<'a>) -> Result<Self> {
        match v {
            Value::Map(entries) => Ok(Fields {
                loc,
                entries: entries
                    .into_iter()
                    .map(|(k, v)| (k, Some(v), None))
                    .collect(),
            }),
            other => Err(err(
                loc,
                format!("expected a map, found {}", type_name(&other)),
            )),
        }
    }

    fn raw(&mut self, key: &'static str) -> Option<Value> {
        let (_, value, field) = self
            .entries
            .iter_mut()
            .find(|(k, v, _)| v.is_some() && is_key(k, key))?;
        *field = Some(key);
        value.take()
    }

    /// An optional field; `null` reads as absent.
    fn opt<T: FromValue>(&mut self, key: &'static str) -> Result<Option<T>> {
        match self.raw(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::from_value(v, &Loc::Key(self.loc, key)).map(Some),
        }
    }

    fn req<T: FromValue>(&mut self, key: &'static str) -> Result<T> {
        self.opt(key)?
            .ok_or_else(|| err(&Loc::Key(self.loc, key), "missing required field"))
    }

    fn finish(self, keys: &'static [&'static str]) -> Extra {
        let mut order = OrderBuilder::new(keys);
        let mut unknown = Vec::new();
        for (k, v, field) in self.entries {
            match (v, field) {
                (_, Some(field)) => order.field(field),
                (Some(v), None) => {
                    order.unknown(unknown.len());
                    unknown.push((k, v));
                }
                (None, None) => {}
            }
        }
        Extra {
            order: order.finish(),
            unknown,
            decoded: true,
        }
    }
}

/// Encoding helper: typed fields in declaration order, merged with the original order.
struct Out {
    known: Vec<(&'static str, Option<Value>, bool)>,
}

impl Out {
    fn new() -> Self {
        Out { known: Vec::new() }
    }

    /// A field; `None` is omitted unless `null_when_none` (or the key was in the original).
    fn field(mut self, key: &'static str, value: Option<Value>, null_when_none: bool) -> Self {
        self.known.push((key, value, null_when_none));
        self
    }

    fn finish(self, extra: &Extra) -> Value {
        let mut known = self.known;
        let mut out = Vec::with_capacity(known.len() + extra.unknown.len());
        // By position, not by key: a key may repeat (Wasmer accepts maps with repeated unknown
        // keys, see `repeated_keys_keep_their_own_values`) or not equal itself (NaN).
        let mut placed = vec![false; extra.unknown.len()];
        let keys: Vec<&'static str> = known.iter().map(|(name, _, _)| *name).collect();
        for slot in &extra.order.slots(&keys) {
            match slot {
                Slot::Field(key) => {
                    if let Some(i) = known.iter().position(|(name, _, _)| name == key) {
                        let (name, value, _) = known.remove(i);
                        out.push((Value::Text(name.into()), value.unwrap_or(Value::Null)));
                    }
                }
                Slot::Unknown(i) => {
                    if let Some((k, v)) = extra.unknown.get(*i) {
                        out.push((k.clone(), v.clone()));
                        placed[*i] = true;
                    }
                }
            }
        }
        for (name, value, null_when_none) in known {
            match value {
                Some(v) => out.push((Value::Text(name.into()), v)),
                None if null_when_none && !extra.decoded => {
                    out.push((Value::Text(name.into()), Value::Null));
                }
                None => {}
            }
        }
        // Entries added after decoding come last.
        for ((k, v), done) in extra.unknown.iter().zip(placed) {
            if !done {
                out.push((k.clone(), v.clone()));
            }
        }
        Value::Map(out)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "an integer",
        Value::Bytes(_) => "a byte string",
        Value::Float(_) => "a float",
        Value::Text(_) => "text",
        Value::Bool(_) => "a bool",
        Value::Null => "null",
        Value::Tag(..) => "a tagged value",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        _ => "an unknown CBOR value",
    }
}

/// Conversion from a CBOR value, reporting `loc` on error.
trait FromValue: Sized {
    fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self>;
}

/// Conversion to a CBOR value.
trait ToValue {
    fn to_value(&self) -> Value;
}

impl FromValue for String {
    fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self> {
        match v {
            Value::Text(s) => Ok(s),
            other => Err(err(
                loc,
                format!("expected text, found {}", type_name(&other)),
            )),
        }
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl FromValue for bool {
    fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(err(
                loc,
                format!("expected a bool, found {}", type_name(&other)),
            )),
        }
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromValue for Value {
    fn from_value(v: Value, _loc: &Loc<'_>) -> Result<Self> {
        Ok(v)
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_value(v, &Loc::Index(loc, i)))
                .collect(),
            other => Err(err(
                loc,
                format!("expected an array, found {}", type_name(&other)),
            )),
        }
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::Array(self.iter().map(ToValue::to_value).collect())
    }
}

impl<T: FromValue> FromValue for IndexMap<String, T> {
    fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self> {
        let Value::Map(entries) = v else {
            return Err(err(loc, format!("expected a map, found {}", type_name(&v))));
        };
        let mut out = IndexMap::with_capacity(entries.len());
        for (k, v) in entries {
            let Value::Text(k) = k else {
                return Err(err(
                    loc,
                    format!("expected text keys, found {}", type_name(&k)),
                ));
            };
            let item = T::from_value(v, &Loc::Key(loc, &k))?;
            if out.insert(k.clone(), item).is_some() {
                return Err(err(loc, format!("duplicate key {k:?}")));
            }
        }
        Ok(out)
    }
}

impl<T: ToValue> ToValue for IndexMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (Value::Text(k.clone()), v.to_value()))
                .collect(),
        )
    }
}

/// Decoding straight from CBOR (the subset [`Reader`] reads), with no `Value` tree for
/// typed fields. `None` when the input is outside that subset or does not fit the schema:
/// the caller then decodes it the general way, which also names the error's location.
/// Wherever it answers, it answers exactly what [`FromValue`] gives for the same bytes.
trait Direct: Sized {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self>;
}

impl Direct for String {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        r.text(depth).map(str::to_owned)
    }
}

impl Direct for bool {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        r.bool(depth)
    }
}

impl Direct for Value {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        r.value(depth)
    }
}

impl<T: Direct> Direct for Vec<T> {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        let n = r.array(depth)?;
        // `n` is at most the bytes left, and every item takes at least one.
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::direct(r, depth + 1)?);
        }
        Some(out)
    }
}

impl<T: Direct> Direct for IndexMap<String, T> {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        let n = r.map(depth)?;
        let mut out = IndexMap::with_capacity(n);
        for _ in 0..n {
            let k = r.text(depth + 1)?;
            let v = T::direct(r, depth + 1)?;
            // A repeated key is an error: the general way reports it.
            if out.insert(k.to_owned(), v).is_some() {
                return None;
            }
        }
        Some(out)
    }
}

/// A field's value at `depth`: `Some(None)` for `null` (read as absent), `None` to decline.
fn direct_field<T: Direct>(r: &mut Reader<'_>, depth: usize) -> Option<Option<T>> {
    if depth > crate::cbor::MAX_DEPTH {
        return None;
    }
    if r.null() {
        return Some(None);
    }
    T::direct(r, depth).map(Some)
}

/// The entries of a map no typed field claims (`key` already read when it is text).
fn direct_unknown(
    r: &mut Reader<'_>,
    depth: usize,
    key: Option<&str>,
    order: &mut OrderBuilder,
    unknown: &mut Vec<(Value, Value)>,
) -> Option<()> {
    let k = match key {
        Some(k) => Value::Text(k.to_owned()),
        None => r.value(depth)?,
    };
    let v = r.value(depth)?;
    order.unknown(unknown.len());
    unknown.push((k, v));
    Some(())
}

fn opt<T: ToValue>(v: &Option<T>) -> Option<Value> {
    v.as_ref().map(ToValue::to_value)
}

/// Declares a struct with typed fields + [`Extra`], and its CBOR conversions.
/// Field spec: `rust_name: Type = "cbor-key" (req | opt | null)`.
macro_rules! cbor_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $key:literal $mode:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: cbor_struct!(@ty $mode $ty), )*
            /// Keys this crate does not model, and the original key order.
            pub extra: Extra,
        }

        impl $name {
            /// The CBOR keys of the typed fields, in declaration order.
            const CBOR_KEYS: &'static [&'static str] = &[$( $key ),*];
        }

        impl FromValue for $name {
            fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self> {
                let mut f = Fields::new(v, loc)?;
                $( let $field = cbor_struct!(@get f $mode $key); )*
                Ok($name { $( $field, )* extra: f.finish(Self::CBOR_KEYS) })
            }
        }

        impl Direct for $name {
            fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
                let n = r.map(depth)?;
                let mut order = OrderBuilder::new(Self::CBOR_KEYS);
                let mut unknown = Vec::new();
                // `None`: not seen yet; `Some(None)`: `null` (absent).
                $( let mut $field = None; )*
                for _ in 0..n {
                    let key = r.peek_text(depth + 1);
                    match key {
                        $( Some($key) if $field.is_none() => {
                            $field = Some(direct_field(r, depth + 1)?);
                            order.field($key);
                        } )*
                        _ => direct_unknown(r, depth + 1, key, &mut order, &mut unknown)?,
                    }
                }
                Some($name {
                    $( $field: cbor_struct!(@direct $field $mode), )*
                    extra: Extra { order: order.finish(), unknown, decoded: true },
                })
            }
        }

        impl ToValue for $name {
            fn to_value(&self) -> Value {
                Out::new()
                    $( .field($key, cbor_struct!(@put self.$field, $mode), cbor_struct!(@null $mode)) )*
                    .finish(&self.extra)
            }
        }
    };
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@ty null $ty:ty) => { Option<$ty> };
    (@get $f:ident req $key:literal) => { $f.req($key)? };
    (@get $f:ident opt $key:literal) => { $f.opt($key)? };
    (@get $f:ident null $key:literal) => { $f.opt($key)? };
    (@put $e:expr, req) => { Some($e.to_value()) };
    (@put $e:expr, opt) => { opt(&$e) };
    (@put $e:expr, null) => { opt(&$e) };
    (@direct $f:ident req) => { $f.flatten()? };
    (@direct $f:ident opt) => { $f.flatten() };
    (@direct $f:ident null) => { $f.flatten() };
    (@null req) => { false };
    (@null opt) => { false };
    (@null null) => { true };
}

cbor_struct! {
    /// `package.wapm`: package metadata.
    pub struct Wapm {
        /// `namespace/name`.
        name: String = "name" opt,
        /// Semver version.
        version: String = "version" opt,
        /// One-line description.
        description: String = "description" opt,
        /// SPDX license expression.
        license: String = "license" opt,
        /// License file in a volume.
        license_file: VolumePath = "license-file" opt,
        /// README in a volume.
        readme: VolumePath = "readme" opt,
        /// Source repository URL.
        repository: String = "repository" opt,
        /// Homepage URL.
        homepage: String = "homepage" opt,
        /// Private package (only written when true).
        private: bool = "private" opt,
    }
}

cbor_struct! {
    /// A path inside a named volume.
    pub struct VolumePath {
        /// Volume name.
        volume: String = "volume" req,
        /// Path inside the volume.
        path: String = "path" req,
    }
}

cbor_struct! {
    /// One `package.fs` entry: mount a volume (or a directory of it) at a guest path.
    pub struct FsMapping {
        /// Alias of the dependency (in `use`) whose volume this is; `None` = this package.
        from: String = "from" null,
        /// Volume name.
        volume_name: String = "volume_name" req,
        /// v2: directory inside the volume to mount (read alias: `original_path`).
        host_path: String = "host_path" opt,
        /// Where the guest sees it.
        mount_path: String = "mount_path" req,
    }
}

impl FsMapping {
    /// The directory inside the volume to mount: `host_path`, or the legacy alias
    /// `original_path` (kept in `extra` so the manifest still round-trips exactly).
    pub fn source_path(&self) -> Option<&str> {
        self.host_path
            .as_deref()
            .or_else(|| match self.extra.get("original_path") {
                Some(Value::Text(t)) => Some(t.as_str()),
                _ => None,
            })
    }
}

cbor_struct! {
    /// An atom's manifest entry.
    pub struct AtomMeta {
        /// Kind URL, e.g. `https://webc.org/kind/wasm`.
        kind: String = "kind" req,
        /// `sha256:` + base64 of the atom's SHA-256.
        signature: String = "signature" req,
        /// Free-form annotations (e.g. `wasm.features`).
        annotations: Value = "annotations" opt,
    }
}

cbor_struct! {
    /// A command: which runner runs it, with what annotations.
    pub struct Command {
        /// Runner URI, e.g. `https://webc.org/runner/wasi`.
        runner: String = "runner" req,
        /// Annotations (mandatory in the format, may be empty).
        annotations: CommandAnnotations = "annotations" req,
    }
}

cbor_struct! {
    /// A command's annotations: the well-known ones typed, the rest kept in `extra`.
    pub struct CommandAnnotations {
        /// `atom`: which atom runs.
        atom: AtomAnnotation = "atom" opt,
        /// `wasi`: WASI runner settings.
        wasi: Wasi = "wasi" opt,
        /// `wcgi`: WCGI settings.
        wcgi: Wcgi = "wcgi" opt,
        /// `emscripten`: Emscripten runner settings.
        emscripten: Emscripten = "emscripten" opt,
        /// `posix`: POSIX runner settings (this host's; `docs/posix.md`).
        posix: Posix = "posix" opt,
    }
}

cbor_struct! {
    /// The `posix` command annotation: how the POSIX runner starts a native program.
    pub struct Posix {
        /// One atom per architecture (each with a `posix` atom annotation naming its
        /// `arch`); the host runs the one built for the machine it is on.
        atoms: Vec<String> = "atoms" opt,
        /// The program needs the host's system libraries (`/usr`, `/lib*`,
        /// `/etc/ld.so.cache`), which it only gets if the user also grants them.
        host_libs: bool = "host-libs" opt,
        /// `K=V` environment entries.
        env: Vec<String> = "env" opt,
        /// Arguments placed before the user's.
        main_args: Vec<String> = "main-args" opt,
        /// Working directory (a guest path).
        cwd: String = "cwd" opt,
        /// `argv[0]`.
        exec_name: String = "exec-name" opt,
    }
}

cbor_struct! {
    /// The `posix` annotation of an atom of kind `https://webc.org/kind/elf`.
    pub struct PosixAtom {
        /// The architecture, as Rust names it: `x86_64`, `aarch64`, `riscv64`, …
        arch: String = "arch" req,
        /// The operating system (`linux`).
        os: String = "os" opt,
        /// The C library it was linked for: `musl`, `glibc`, `static`, …
        libc: String = "libc" opt,
    }
}

impl PosixAtom {
    /// The `posix` entry of an atom's annotations (`None` when absent).
    ///
    /// # Errors
    /// A `posix` entry that is not a map with a text `arch`.
    pub fn from_annotations(annotations: Option<&Value>) -> Result<Option<PosixAtom>> {
        let Some(Value::Map(entries)) = annotations else {
            return Ok(None);
        };
        let Some((_, v)) = entries
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == "posix"))
        else {
            return Ok(None);
        };
        let loc = Loc::Key(&Loc::Key(&Loc::Root, "annotations"), "posix");
        PosixAtom::from_value(v.clone(), &loc).map(Some)
    }
}

cbor_struct! {
    /// The `atom` command annotation.
    pub struct AtomAnnotation {
        /// Atom name.
        name: String = "name" req,
        /// Alias (from `use`) of the package holding the atom.
        dependency: String = "dependency" opt,
    }
}

cbor_struct! {
    /// The `wasi` command annotation.
    pub struct Wasi {
        /// Atom name (deprecated but required; `dep:atom` form allowed).
        atom: String = "atom" req,
        /// Package of the atom.
        package: String = "package" opt,
        /// `K=V` environment entries.
        env: Vec<String> = "env" opt,
        /// Arguments placed before the user's.
        main_args: Vec<String> = "main-args" opt,
        /// Unused by current Wasmer.
        mount_atom_in_volume: String = "mount-atom-in-volume" opt,
        /// Working directory.
        cwd: String = "cwd" opt,
        /// `argv[0]`.
        exec_name: String = "exec-name" opt,
    }
}

cbor_struct! {
    /// The `wcgi` command annotation.
    pub struct Wcgi {
        /// CGI dialect, e.g. `rfc-3875`.
        dialect: String = "dialect" opt,
    }
}

cbor_struct! {
    /// The `emscripten` command annotation.
    pub struct Emscripten {
        /// Atom name.
        atom: String = "atom" null,
        /// Package of the atom.
        package: String = "package" null,
        /// `K=V` environment entries.
        env: Vec<String> = "env" null,
        /// Arguments placed before the user's.
        main_args: Vec<String> = "main-args" null,
        /// Unused.
        mount_atom_in_volume: String = "mount-atom-in-volume" opt,
    }
}

cbor_struct! {
    /// A `bindings` entry.
    pub struct Binding {
        /// Binding name (`library-bindings`).
        name: String = "name" req,
        /// `wit@<version>` or `wai@<version>`.
        kind: String = "kind" req,
        /// Binding-specific data.
        annotations: Value = "annotations" null,
    }
}

cbor_struct! {
    /// Package-level annotations: `wapm` and `fs` typed, others kept.
    pub struct PackageAnnotations {
        /// Package metadata.
        wapm: Wapm = "wapm" opt,
        /// File-system mappings.
        fs: Vec<FsMapping> = "fs" opt,
    }
}

/// A `use` entry: a URL, a `namespace/name@version` requirement, or an embedded manifest.
#[derive(Debug, Clone, PartialEq)]
pub enum Dependency {
    /// URL or `ns/name@versionreq`.
    Text(String),
    /// An embedded manifest.
    Manifest(Box<Manifest>),
}

impl FromValue for Dependency {
    fn from_value(v: Value, loc: &Loc<'_>) -> Result<Self> {
        match v {
            Value::Text(s) => Ok(Dependency::Text(s)),
            v @ Value::Map(_) => Ok(Dependency::Manifest(Box::new(Manifest::from_value(
                v, loc,
            )?))),
            other => Err(err(
                loc,
                format!("expected text or a manifest, found {}", type_name(&other)),
            )),
        }
    }
}

impl Direct for Dependency {
    fn direct(r: &mut Reader<'_>, depth: usize) -> Option<Self> {
        match r.peek_major()? {
            3 => String::direct(r, depth).map(Dependency::Text),
            5 => Manifest::direct(r, depth).map(|m| Dependency::Manifest(Box::new(m))),
            _ => None,
        }
    }
}

impl ToValue for Dependency {
    fn to_value(&self) -> Value {
        match self {
            Dependency::Text(s) => Value::Text(s.clone()),
            Dependency::Manifest(m) => m.to_value(),
        }
    }
}

cbor_struct! {
    /// The manifest of a container.
    pub struct Manifest {
        /// Dependencies by alias.
        use_map: IndexMap<String, Dependency> = "use" opt,
        /// Package annotations.
        package: PackageAnnotations = "package" opt,
        /// Atoms by name, in manifest order.
        atoms: IndexMap<String, AtomMeta> = "atoms" opt,
        /// Commands by name, in manifest order.
        commands: IndexMap<String, Command> = "commands" opt,
        /// Bindings.
        bindings: Vec<Binding> = "bindings" opt,
        /// Default command.
        entrypoint: String = "entrypoint" opt,
    }
}

impl Manifest {
    /// Decodes a manifest from CBOR.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self> {
        Self::from_cbor_at(bytes, 0)
    }

    pub(crate) fn from_cbor_at(bytes: &[u8], offset: u64) -> Result<Self> {
        match decode_direct(bytes) {
            Some(m) => Ok(m),
            None => decode_general(bytes, "manifest", offset, &Loc::Root),
        }
    }

    /// Encodes the manifest as CBOR (byte-identical to the input for decoded manifests).
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing a `Value` into a `Vec` cannot fail.
        let _ = ciborium::into_writer(&self.to_value(), &mut out);
        out
    }

    /// `package.wapm.name`, if any.
    pub fn package_name(&self) -> Option<&str> {
        self.package.as_ref()?.wapm.as_ref()?.name.as_deref()
    }

    /// `package.wapm.version`, if any.
    pub fn package_version(&self) -> Option<&str> {
        self.package.as_ref()?.wapm.as_ref()?.version.as_deref()
    }

    /// `package.fs`, or an empty slice.
    pub fn fs(&self) -> &[FsMapping] {
        self.package
            .as_ref()
            .and_then(|p| p.fs.as_deref())
            .unwrap_or_default()
    }

    /// Commands (empty map if none).
    pub fn commands(&self) -> impl Iterator<Item = (&String, &Command)> {
        self.commands.iter().flatten()
    }

    /// A command by name.
    pub fn command(&self, name: &str) -> Option<&Command> {
        self.commands.as_ref()?.get(name)
    }

    /// Atoms (empty map if none).
    pub fn atoms(&self) -> impl Iterator<Item = (&String, &AtomMeta)> {
        self.atoms.iter().flatten()
    }

    /// The command Wasmer runs by default: `entrypoint`, else the only command.
    pub fn default_command(&self) -> Option<&str> {
        if let Some(e) = &self.entrypoint {
            return Some(e);
        }
        let mut it = self.commands();
        match (it.next(), it.next()) {
            (Some((name, _)), None) => Some(name),
            _ => None,
        }
    }

    /// The atom a command runs on architecture `arch` when it lists one per architecture
    /// (`posix.atoms`): `None` when it does not, else the first listed atom whose `posix`
    /// annotation names `arch` (and `linux` or no OS), or an error naming what it has.
    pub fn platform_atom(
        &self,
        command: &str,
        arch: &str,
    ) -> Option<std::result::Result<String, String>> {
        let listed = self
            .command(command)?
            .annotations
            .posix
            .as_ref()?
            .atoms
            .as_ref()?;
        let mut seen = Vec::new();
        for name in listed {
            let meta = self.atoms.as_ref().and_then(|m| m.get(name));
            let posix = meta.and_then(|m| {
                PosixAtom::from_annotations(m.annotations.as_ref())
                    .ok()
                    .flatten()
            });
            match posix {
                Some(p) if p.arch == arch && p.os.as_deref().is_none_or(|os| os == "linux") => {
                    return Some(Ok(name.clone()));
                }
                Some(p) => seen.push(format!(
                    "{name} ({}-{})",
                    p.arch,
                    p.os.as_deref().unwrap_or("linux")
                )),
                None if meta.is_none() => seen.push(format!("{name} (not in the package)")),
                None => seen.push(format!("{name} (no posix.arch annotation)")),
            }
        }
        Some(Err(format!(
            "command {command:?} has no atom for this machine ({arch}-linux); it lists {}",
            if seen.is_empty() {
                "none".to_owned()
            } else {
                seen.join(", ")
            }
        )))
    }

    /// The atom a command runs, resolved as Wasmer does: the `atom` annotation, else the
    /// deprecated `wasi.atom` / `emscripten.atom` (`dep:name` → `name`), else — for the WASI
    /// and WCGI runners — the command's own name; if that atom does not exist and the
    /// command has no annotations at all, the first atom ("legacy hack").
    pub fn command_atom(&self, command: &str) -> Option<String> {
        let cmd = self.command(command)?;
        let a = &cmd.annotations;
        if let Some(atom) = &a.atom {
            return Some(atom.name.clone());
        }
        let deprecated = a
            .wasi
            .as_ref()
            .map(|w| w.atom.clone())
            .or_else(|| a.emscripten.as_ref().and_then(|e| e.atom.clone()));
        if let Some(name) = deprecated {
            return Some(match name.split_once(':') {
                Some((_, atom)) => atom.to_owned(),
                None => name,
            });
        }
        if cmd.runner.starts_with(RUNNER_WASI) || cmd.runner.starts_with(RUNNER_WCGI) {
            let has_atom = self.atoms.as_ref().is_some_and(|m| m.contains_key(command));
            let no_annotations =
                a == &CommandAnnotations {
                    extra: a.extra.clone(),
                    ..Default::default()
                } && a.extra.unknown().is_empty();
            if !has_atom && no_annotations {
                return self.atoms().next().map(|(n, _)| n.clone());
            }
            return Some(command.to_owned());
        }
        None
    }
}

impl CommandAnnotations {
    /// Any annotation by key (typed ones re-encoded), e.g. `permissions`.
    pub fn get(&self, key: &str) -> Option<Value> {
        match key {
            "atom" => opt(&self.atom),
            "wasi" => opt(&self.wasi),
            "wcgi" => opt(&self.wcgi),
            "emscripten" => opt(&self.emscripten),
            "posix" => opt(&self.posix),
            other => self.extra.get(other).cloned(),
        }
    }

    /// All annotations as one CBOR map.
    pub fn to_cbor_value(&self) -> Value {
        self.to_value()
    }

    /// Decodes a command's annotation map on its own (what a runner receives), with the
    /// same typed structs as [`Manifest::from_cbor`]: `wasi`, `emscripten`, `wcgi` and
    /// `atom` typed, everything else kept. Empty bytes are no annotations. Errors name the
    /// location from `annotations`, e.g. `annotations.wasi.main-args[0]`.
    pub fn from_cbor(bytes: &[u8]) -> Result<CommandAnnotations> {
        if bytes.is_empty() {
            return Ok(CommandAnnotations::default());
        }
        match decode_direct(bytes) {
            Some(a) => Ok(a),
            None => decode_general(
                bytes,
                "command annotations",
                0,
                &Loc::Key(&Loc::Root, "annotations"),
            ),
        }
    }

    /// Encodes the annotations as CBOR (byte-identical to the input for decoded ones).
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing a `Value` into a `Vec` cannot fail.
        let _ = ciborium::into_writer(&self.to_value(), &mut out);
        out
    }
}

/// `bytes` as exactly one item decoded straight into `T`, or `None` to take the general way.
fn decode_direct<T: Direct>(bytes: &[u8]) -> Option<T> {
    let mut r = Reader::new(bytes);
    let value = T::direct(&mut r, 0)?;
    (r.position() == bytes.len()).then_some(value)
}

/// `bytes` (at file offset `offset`) as exactly one item decoded the general way: any CBOR
/// ciborium reads, unusual encodings settled, every error named (`what` is the item, `loc`
/// where its value sits).
fn decode_general<T: FromValue>(bytes: &[u8], what: &str, offset: u64, loc: &Loc<'_>) -> Result<T> {
    let (value, used) = crate::container::decode_one_cbor(bytes, what, offset)?;
    if used != bytes.len() as u64 {
        return Err(Error::malformed(
            what,
            offset + used,
            format!(
                "{} bytes after the {what}'s CBOR item",
                bytes.len() as u64 - used
            ),
        ));
    }
    T::from_value(value, loc)
}

/// For the fuzzers and the corpus replay: decodes `bytes` as a manifest both ways and
/// panics where they disagree — the direct way answering differently from the general
/// way, accepting what it refuses, or declining well-formed input in its subset.
pub(crate) fn check_direct_decoding(bytes: &[u8]) {
    let direct = decode_direct::<Manifest>(bytes);
    let general = decode_general::<Manifest>(bytes, "manifest", 0, &Loc::Root);
    match (direct, general) {
        // Debug, not `==`: a NaN in an unknown value does not equal itself.
        (Some(d), Ok(g)) => assert_eq!(
            format!("{d:?}"),
            format!("{g:?}"),
            "direct and general manifest decoding disagree"
        ),
        (Some(_), Err(e)) => panic!("direct manifest decoding accepts what is refused: {e}"),
        (None, Ok(_)) => assert!(
            crate::cbor::decode(bytes).is_none_or(|(_, used)| used != bytes.len()),
            "direct manifest decoding declines a well-formed manifest in its subset"
        ),
        (None, Err(_)) => {}
    }
}

/// Formats an atom signature as the manifest stores it: `sha256:` + base64(digest).
pub fn atom_signature(sha256: &[u8; 32]) -> String {
    use base64::Engine as _;
    format!(
        "sha256:{}",
        base64::engine::general_purpose::STANDARD.encode(sha256)
    )
}

/// Parses a manifest atom signature back into its digest.
pub fn parse_atom_signature(signature: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    let b64 = signature.strip_prefix("sha256:")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).unwrap_or_default();
        out
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    /// Found by the fuzzer: a decoded `fs` mapping without `from` was re-encoded with
    /// `"from": null` added, so the manifest no longer round-tripped.
    #[test]
    fn absent_nullable_fields_stay_absent() {
        let mapping = Value::Map(vec![
            (text("volume_name"), text("/assets")),
            (text("mount_path"), text("/assets")),
        ]);
        let emscripten = Value::Map(vec![]);
        let manifest = Value::Map(vec![
            (
                text("package"),
                Value::Map(vec![(text("fs"), Value::Array(vec![mapping]))]),
            ),
            (
                text("commands"),
                Value::Map(vec![(
                    text("run"),
                    Value::Map(vec![
                        (text("runner"), text("x")),
                        (
                            text("annotations"),
                            Value::Map(vec![(text("emscripten"), emscripten)]),
                        ),
                    ]),
                )]),
            ),
        ]);
        let bytes = cbor(&manifest);
        let decoded = Manifest::from_cbor(&bytes).map(|m| m.to_cbor()).ok();
        assert_eq!(decoded, Some(bytes));
        // Built from scratch, Wasmer's encoding still writes `"from": null`.
        let fresh = FsMapping {
            volume_name: "/a".into(),
            mount_path: "/a".into(),
            ..Default::default()
        };
        let Value::Map(entries) = fresh.to_value() else {
            panic!("not a map")
        };
        assert_eq!(entries.first(), Some(&(text("from"), Value::Null)));
    }

    /// Found by the fuzzer (`fuzz/regressions/reader/manifest-roundtrip-duplicate-unknown-key.webc`):
    /// a mutation renamed both `main-args` and `exec-name` to `mait-args`, and the second
    /// entry of that repeated unknown key was re-encoded with the first one's value. Wasmer
    /// accepts such maps (serde ignores unknown keys, repeated or not), so every entry must
    /// come back, in place, with its own value.
    #[test]
    fn encodings_ciborium_reads_two_ways_settle_on_one() {
        // A top-level unknown key whose value is bignum tag 2 over an empty
        // indefinite-length byte string (`c2 5f ff`): ciborium keeps it as a tag, writes it
        // as `c2 40`, and reads that back as the integer 0. Decoding must settle on the
        // latter, so that encoding is stable across a round trip.
        let bytes = [0xa1, 0x61, b'x', 0xc2, 0x5f, 0xff];
        let m = Manifest::from_cbor(&bytes).unwrap();
        let encoded = m.to_cbor();
        let again = Manifest::from_cbor(&encoded).unwrap();
        assert_eq!(again.to_cbor(), encoded);
        assert_eq!(encoded, [0xa1, 0x61, b'x', 0x00]);
    }

    #[test]
    fn repeated_keys_keep_their_own_values() {
        let wasi = Value::Map(vec![
            (text("atom"), text("hello")),
            (
                text("mait-args"),
                Value::Array(vec![text("--from-manifest")]),
            ),
            (text("cwd"), text("/assets")),
            (text("mait-args"), text("hello-bin")),
            // A typed key twice: the first is the field, the second is kept as unknown.
            (text("cwd"), text("/other")),
            (text("mait-args"), Value::Null),
        ]);
        let manifest = Value::Map(vec![
            (text("x"), Value::Integer(1.into())),
            (
                text("commands"),
                Value::Map(vec![(
                    text("hello"),
                    Value::Map(vec![
                        (text("runner"), text(RUNNER_WASI)),
                        (text("annotations"), Value::Map(vec![(text("wasi"), wasi)])),
                    ]),
                )]),
            ),
            (text("x"), Value::Integer(2.into())),
        ]);
        let bytes = cbor(&manifest);
        let m = Manifest::from_cbor(&bytes).ok();
        assert_eq!(m.as_ref().map(Manifest::to_cbor), Some(bytes));
        let wasi = m
            .as_ref()
            .and_then(|m| m.command("hello"))
            .and_then(|c| c.annotations.wasi.clone());
        assert_eq!(
            wasi.as_ref().and_then(|w| w.cwd.as_deref()),
            Some("/assets")
        );
        assert_eq!(
            wasi.as_ref().map(|w| w.extra.unknown().len()),
            Some(4),
            "{wasi:?}"
        );
    }

    /// Entries are placed by position, not found by key: a NaN key (which ciborium writes
    /// and reads back exactly) does not equal itself and used to move to the end.
    #[test]
    fn unknown_nan_key_keeps_its_place() {
        let manifest = Value::Map(vec![
            (Value::Float(f64::NAN), Value::Integer(1.into())),
            (text("entrypoint"), text("x")),
            (Value::Float(f64::NAN), Value::Integer(2.into())),
        ]);
        let bytes = cbor(&manifest);
        let decoded = Manifest::from_cbor(&bytes).map(|m| m.to_cbor()).ok();
        assert_eq!(decoded, Some(bytes));
    }

    /// A command's annotations decode on their own with the manifest's typed structs.
    #[test]
    fn command_annotations_decode_on_their_own() {
        assert_eq!(
            CommandAnnotations::from_cbor(&[]).ok(),
            Some(CommandAnnotations::default())
        );
        let wasi = Value::Map(vec![
            (text("atom"), text("hello")),
            (text("main-args"), Value::Array(vec![text("--x")])),
            (text("cwd"), text("/app")),
        ]);
        let annotations = Value::Map(vec![
            (text("wasi"), wasi),
            (
                text("wcgi"),
                Value::Map(vec![(text("dialect"), text("rfc-3875"))]),
            ),
            (text("permissions"), Value::Map(vec![])),
        ]);
        let bytes = cbor(&annotations);
        let a = CommandAnnotations::from_cbor(&bytes).unwrap();
        let w = a.wasi.as_ref().unwrap();
        assert_eq!(w.atom, "hello");
        assert_eq!(w.main_args.as_deref(), Some(&["--x".to_owned()][..]));
        assert_eq!(w.cwd.as_deref(), Some("/app"));
        assert_eq!(
            a.wcgi.as_ref().and_then(|w| w.dialect.as_deref()),
            Some("rfc-3875")
        );
        assert_eq!(a.get("permissions"), Some(Value::Map(vec![])));
        assert_eq!(a.to_cbor(), bytes);

        // The same bytes inside a manifest decode to the same struct.
        let manifest = Value::Map(vec![(
            text("commands"),
            Value::Map(vec![(
                text("run"),
                Value::Map(vec![
                    (text("runner"), text(RUNNER_WASI)),
                    (text("annotations"), annotations),
                ]),
            )]),
        )]);
        let m = Manifest::from_cbor(&cbor(&manifest)).unwrap();
        assert_eq!(m.command("run").map(|c| &c.annotations), Some(&a));
    }

    #[test]
    fn command_annotation_errors_name_their_location() {
        let bad = |v: Value| match CommandAnnotations::from_cbor(&cbor(&v)) {
            Err(Error::Manifest { location, reason }) => (location, reason),
            other => panic!("{other:?}"),
        };
        let (location, _) = bad(Value::Map(vec![(
            text("wasi"),
            Value::Map(vec![
                (text("atom"), text("a")),
                (
                    text("main-args"),
                    Value::Array(vec![Value::Integer(1.into())]),
                ),
            ]),
        )]));
        assert_eq!(location, "annotations.wasi.main-args[0]");
        let (location, reason) = bad(Value::Map(vec![(text("wasi"), Value::Map(vec![]))]));
        assert_eq!(location, "annotations.wasi.atom");
        assert_eq!(reason, "missing required field");
        let (location, _) = bad(Value::Map(vec![(
            text("emscripten"),
            Value::Map(vec![(text("env"), text("not a list"))]),
        )]));
        assert_eq!(location, "annotations.emscripten.env");
        let (location, _) = bad(text("not a map"));
        assert_eq!(location, "annotations");
        // Not CBOR, or more than one item: an error, never a panic.
        assert!(CommandAnnotations::from_cbor(&[0xff]).is_err());
        assert!(CommandAnnotations::from_cbor(&[0xa0, 0x00]).is_err());
        assert!(CommandAnnotations::from_cbor(&[0xa1, 0x61]).is_err());
    }

    /// Maps whose keys are mostly the schema's, with values of every shape: the direct
    /// decoder agrees with the general one on each (and reads the fixtures' manifests).
    fn schema_like() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        const KEYS: &[&str] = &[
            "use",
            "package",
            "atoms",
            "commands",
            "bindings",
            "entrypoint",
            "wapm",
            "fs",
            "name",
            "version",
            "readme",
            "private",
            "volume",
            "path",
            "from",
            "volume_name",
            "mount_path",
            "host_path",
            "kind",
            "signature",
            "annotations",
            "runner",
            "atom",
            "wasi",
            "wcgi",
            "emscripten",
            "env",
            "main-args",
            "cwd",
            "dialect",
            "hello",
            "x",
        ];
        let leaf = prop_oneof![
            proptest::sample::select(KEYS).prop_map(text),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            any::<i64>().prop_map(|n| Value::Integer(n.into())),
            any::<f32>().prop_map(|f| Value::Float(f64::from(f))),
        ];
        leaf.prop_recursive(6, 96, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(
                    (proptest::sample::select(KEYS).prop_map(text), inner),
                    0..6
                )
                .prop_map(Value::Map),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn direct_decoding_agrees_with_the_general_way(v in schema_like()) {
            let bytes = cbor(&v);
            check_direct_decoding(&bytes);
            if let Value::Map(_) = v {
                let inner = Value::Map(vec![(text("commands"), Value::Map(vec![(
                    text("c"),
                    Value::Map(vec![(text("runner"), text("r")), (text("annotations"), v)]),
                )]))]);
                check_direct_decoding(&cbor(&inner));
            }
        }
    }

    #[test]
    fn fixture_manifests_decode_directly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for name in ["sample-v1.webc", "sample-v2.webc", "sample-v3.webc"] {
            let c = crate::Container::open(dir.join(name)).unwrap();
            let bytes = c.manifest_bytes();
            let direct = decode_direct::<Manifest>(&bytes);
            assert_eq!(direct.as_ref(), Some(c.manifest()), "{name}");
            assert_eq!(direct.map(|m| m.to_cbor()), Some(bytes.to_vec()), "{name}");
            check_direct_decoding(&bytes);
        }
    }

    /// Fields out of declaration order keep their order; a field set after decoding an
    /// in-order map comes after the original ones.
    #[test]
    fn field_order_is_kept_compactly_or_listed() {
        let reversed = Value::Map(vec![(text("cwd"), text("/a")), (text("atom"), text("x"))]);
        let bytes = cbor(&reversed);
        let w = decode_direct::<Wasi>(&bytes).unwrap();
        assert!(matches!(w.extra.order, Order::Listed(_)));
        assert_eq!(cbor(&w.to_value()), bytes);
        let in_order = Value::Map(vec![(text("atom"), text("x")), (text("cwd"), text("/a"))]);
        let mut w = decode_direct::<Wasi>(&cbor(&in_order)).unwrap();
        assert_eq!(w.extra.order, Order::Fields(0b10_0001));
        w.env = Some(vec!["A=1".into()]);
        let Value::Map(entries) = w.to_value() else {
            panic!("not a map")
        };
        let keys: Vec<&Value> = entries.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [&text("atom"), &text("cwd"), &text("env")]);
    }

    /// Errors name where in the manifest the problem is.
    #[test]
    fn errors_name_their_location() {
        let wasi = Value::Map(vec![(
            text("main-args"),
            Value::Array(vec![text("a"), Value::Integer(1.into())]),
        )]);
        let cmd = |wasi: Value| {
            Value::Map(vec![(
                text("commands"),
                Value::Map(vec![(
                    text("hello"),
                    Value::Map(vec![
                        (text("runner"), text("x")),
                        (text("annotations"), Value::Map(vec![(text("wasi"), wasi)])),
                    ]),
                )]),
            )])
        };
        let missing = Manifest::from_cbor(&cbor(&cmd(Value::Map(vec![]))));
        match missing {
            Err(Error::Manifest { location, reason }) => {
                assert_eq!(location, "commands.hello.annotations.wasi.atom");
                assert_eq!(reason, "missing required field");
            }
            other => panic!("{other:?}"),
        }
        let mut with_atom = wasi.clone();
        if let Value::Map(m) = &mut with_atom {
            m.push((text("atom"), text("a")));
        }
        match Manifest::from_cbor(&cbor(&cmd(with_atom))) {
            Err(Error::Manifest { location, .. }) => {
                assert_eq!(location, "commands.hello.annotations.wasi.main-args[1]")
            }
            other => panic!("{other:?}"),
        }
        match Manifest::from_cbor(&cbor(&text("not a map"))) {
            Err(Error::Manifest { location, .. }) => assert_eq!(location, ""),
            other => panic!("{other:?}"),
        }
    }
}
