//! The `infer` protocol (docs/onnx-infer.md), independent of any backend: requests (JSON or
//! `.npy`) are decoded and checked against the model's [`Signature`] into [`Tensor`]s, and
//! output tensors are encoded as the JSON response. Every malformed request is an
//! [`Error::Request`] naming the input and the element path (`x[1][2]`); nothing here panics.

use std::fmt;
use std::io::{self, Read, Write};

use half::f16;
use serde_json::{Map, Value};

use crate::Error;

/// Element types of the protocol, spelled as NumPy spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// `float16`
    Float16,
    /// `int64`
    Int64,
    /// `int32`
    Int32,
    /// `int8`
    Int8,
    /// `uint8`
    Uint8,
    /// `bool`
    Bool,
}

impl DType {
    /// Every supported dtype.
    pub const ALL: [DType; 8] = [
        DType::Float32,
        DType::Float64,
        DType::Float16,
        DType::Int64,
        DType::Int32,
        DType::Int8,
        DType::Uint8,
        DType::Bool,
    ];

    /// The NumPy name (`float32`, …).
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Float16 => "float16",
            DType::Int64 => "int64",
            DType::Int32 => "int32",
            DType::Int8 => "int8",
            DType::Uint8 => "uint8",
            DType::Bool => "bool",
        }
    }

    /// Parses a NumPy name.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Bytes per element (as stored in `.npy`).
    pub fn size(self) -> usize {
        match self {
            DType::Float64 | DType::Int64 => 8,
            DType::Float32 | DType::Int32 => 4,
            DType::Float16 => 2,
            DType::Int8 | DType::Uint8 | DType::Bool => 1,
        }
    }

    /// The little-endian `.npy` descr kind and size, e.g. (`'f'`, 4).
    fn npy_kind(self) -> char {
        match self {
            DType::Float32 | DType::Float64 | DType::Float16 => 'f',
            DType::Int64 | DType::Int32 | DType::Int8 => 'i',
            DType::Uint8 => 'u',
            DType::Bool => 'b',
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tensor's elements, flat in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs, reason = "one variant per DType, named alike")]
pub enum Data {
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    Float16(Vec<f16>),
    Int64(Vec<i64>),
    Int32(Vec<i32>),
    Int8(Vec<i8>),
    Uint8(Vec<u8>),
    Bool(Vec<bool>),
}

impl Data {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Data::Float32(_) => DType::Float32,
            Data::Float64(_) => DType::Float64,
            Data::Float16(_) => DType::Float16,
            Data::Int64(_) => DType::Int64,
            Data::Int32(_) => DType::Int32,
            Data::Int8(_) => DType::Int8,
            Data::Uint8(_) => DType::Uint8,
            Data::Bool(_) => DType::Bool,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Data::Float32(v) => v.len(),
            Data::Float64(v) => v.len(),
            Data::Float16(v) => v.len(),
            Data::Int64(v) => v.len(),
            Data::Int32(v) => v.len(),
            Data::Int8(v) => v.len(),
            Data::Uint8(v) => v.len(),
            Data::Bool(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn clear(&mut self) {
        match self {
            Data::Float32(v) => v.clear(),
            Data::Float64(v) => v.clear(),
            Data::Float16(v) => v.clear(),
            Data::Int64(v) => v.clear(),
            Data::Int32(v) => v.clear(),
            Data::Int8(v) => v.clear(),
            Data::Uint8(v) => v.clear(),
            Data::Bool(v) => v.clear(),
        }
    }

    fn with_capacity(dtype: DType, n: usize) -> Data {
        match dtype {
            DType::Float32 => Data::Float32(Vec::with_capacity(n)),
            DType::Float64 => Data::Float64(Vec::with_capacity(n)),
            DType::Float16 => Data::Float16(Vec::with_capacity(n)),
            DType::Int64 => Data::Int64(Vec::with_capacity(n)),
            DType::Int32 => Data::Int32(Vec::with_capacity(n)),
            DType::Int8 => Data::Int8(Vec::with_capacity(n)),
            DType::Uint8 => Data::Uint8(Vec::with_capacity(n)),
            DType::Bool => Data::Bool(Vec::with_capacity(n)),
        }
    }
}

/// A tensor: shape and flat row-major data (`shape` product == `data.len()`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Elements.
    pub data: Data,
}

impl Tensor {
    /// A tensor, checking that the shape matches the number of elements.
    pub fn new(shape: Vec<usize>, data: Data) -> Result<Tensor, Error> {
        if element_count(&shape) != Some(data.len()) {
            return Err(Error::Backend(format!(
                "tensor of shape {} has {} elements",
                fmt_shape(&shape),
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }
}

/// One dimension of a model's input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A dynamic size, with its symbol name if the model gives one (`N`), else empty.
    Dynamic(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Dynamic(s) if s.is_empty() => f.write_str("?"),
            Dim::Dynamic(s) => f.write_str(s),
        }
    }
}

/// A model input or output as the model declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions, or `None` when the model leaves the rank unknown.
    pub shape: Option<Vec<Dim>>,
}

/// A model's inputs and outputs, in model order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signature {
    /// Inputs.
    pub inputs: Vec<TensorInfo>,
    /// Outputs.
    pub outputs: Vec<TensorInfo>,
}

fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

fn fmt_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

fn fmt_dims(dims: &[Dim]) -> String {
    let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

fn req(msg: String) -> Error {
    Error::Request(msg)
}

/// Bytes of the request's own text quoted back in an error; a longer text is cut (at a
/// character boundary) and its size stated.
const QUOTE_MAX: usize = 64;

/// The first `max` bytes of `s` (fewer, to end on a character boundary).
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s` in backticks for an error, cut to a readable length: `` `aaaa…` (52428800 bytes) ``.
fn quote(s: &str) -> String {
    if s.len() <= QUOTE_MAX {
        format!("`{s}`")
    } else {
        format!("`{}…` ({} bytes)", cut(s, QUOTE_MAX), s.len())
    }
}

/// `s` as a JSON string for an error, cut as [`quote`] does.
fn quote_json(s: &str) -> String {
    let q = Value::from(cut(s, QUOTE_MAX)).to_string();
    if s.len() <= QUOTE_MAX {
        q
    } else {
        format!("{q}… ({} bytes)", s.len())
    }
}

/// `s` cut after [`QUOTE_MAX`] bytes (marked `…`, with its size).
fn short(s: &str) -> String {
    if s.len() <= QUOTE_MAX {
        s.to_owned()
    } else {
        format!("{}… ({} bytes)", cut(s, QUOTE_MAX), s.len())
    }
}

/// A JSON value's compact text for an error, cut after [`QUOTE_MAX`] bytes.
fn show(v: &Value) -> String {
    if let Value::String(s) = v {
        return quote_json(s);
    }
    ellipsis(v.to_string())
}

/// A value's text cut after [`QUOTE_MAX`] bytes (marked `…`).
fn ellipsis(mut text: String) -> String {
    if text.len() >= QUOTE_MAX {
        text = cut(&text, QUOTE_MAX).to_owned();
        text.push('…');
    }
    text
}

/// Reads a whole request (all of `reader`), refusing one larger than `limit` bytes (read
/// no further than one byte past it). A read that fails with [`io::ErrorKind::TimedOut`]
/// (the host's time limit passed while it blocked) is [`Error::TimedOut`].
pub fn read_limited(reader: &mut dyn Read, limit: Option<u64>) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    match limit {
        Some(limit) => {
            reader
                .take(limit.saturating_add(1))
                .read_to_end(&mut buf)
                .map_err(read_error)?;
            if buf.len() as u64 > limit {
                return Err(req(format!(
                    "the request is larger than the memory limit of {limit} bytes"
                )));
            }
        }
        None => {
            reader.read_to_end(&mut buf).map_err(read_error)?;
        }
    }
    Ok(buf)
}

/// A failed read of the request: [`Error::TimedOut`] for a read the time limit ended.
pub fn read_error(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::TimedOut {
        Error::TimedOut
    } else {
        Error::Io(format!("reading the request: {e}"))
    }
}

/// Decodes a request (JSON, or `.npy` when it starts with `\x93NUMPY`) into one tensor per
/// model input, in model order. `limit` bounds the bytes of all decoded tensors together.
pub fn decode_request(
    bytes: &[u8],
    sig: &Signature,
    limit: Option<u64>,
) -> Result<Vec<Tensor>, Error> {
    if bytes.starts_with(NPY_MAGIC) {
        return decode_npy_request(bytes, sig, limit);
    }
    if let Some(tensors) = fast::decode(bytes, sig, limit) {
        return Ok(tensors);
    }
    exact::decode(bytes, sig, limit)
}

/// The `serde_json::Value` path, kept as the reference the streaming paths are tested
/// against (it needs memory many times the request's size, so requests never take it).
#[cfg(test)]
fn decode_json_value(
    bytes: &[u8],
    sig: &Signature,
    limit: Option<u64>,
) -> Result<Vec<Tensor>, Error> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| req(format!("the request is not valid JSON: {e}")))?;
    decode_json_request(value, sig, limit)
}

/// Decodes a parsed JSON request.
pub fn decode_json_request(
    value: Value,
    sig: &Signature,
    limit: Option<u64>,
) -> Result<Vec<Tensor>, Error> {
    let Value::Object(mut map) = value else {
        return Err(req(format!(
            "the request must be a JSON object keyed by input name ({}), found {}",
            input_names(sig),
            kind(&value)
        )));
    };
    for key in map.keys() {
        if !sig.inputs.iter().any(|i| &i.name == key) {
            return Err(req(format!(
                "unknown input {} (the model's inputs: {})",
                quote(key),
                input_names(sig)
            )));
        }
    }
    let mut tensors = Vec::with_capacity(sig.inputs.len());
    let mut total: u64 = 0;
    for info in &sig.inputs {
        let value = map
            .remove(&info.name)
            .ok_or_else(|| req(format!("missing input `{}`", info.name)))?;
        let tensor = decode_json_tensor(value, info, limit)?;
        total = total.saturating_add((tensor.data.len() * info.dtype.size()) as u64);
        check_limit(total, limit)?;
        tensors.push(tensor);
    }
    Ok(tensors)
}

fn check_limit(bytes: u64, limit: Option<u64>) -> Result<(), Error> {
    match limit {
        Some(limit) if bytes > limit => Err(req(format!(
            "the request's tensors need {bytes} bytes, over the memory limit of {limit} bytes"
        ))),
        _ => Ok(()),
    }
}

fn input_names(sig: &Signature) -> String {
    let names: Vec<&str> = sig.inputs.iter().map(|i| i.name.as_str()).collect();
    names.join(", ")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks a request shape against the model's declared dims.
pub fn check_shape(info: &TensorInfo, shape: &[usize]) -> Result<(), Error> {
    let Some(dims) = &info.shape else {
        return Ok(());
    };
    if dims.len() != shape.len() {
        return Err(req(format!(
            "input `{}`: expected rank {} (model shape {}), got rank {} (shape {})",
            info.name,
            dims.len(),
            fmt_dims(dims),
            shape.len(),
            fmt_shape(shape)
        )));
    }
    for (i, (dim, &got)) in dims.iter().zip(shape).enumerate() {
        if let Dim::Fixed(want) = dim
            && *want != got
        {
            return Err(req(format!(
                "input `{}`: dimension {i} must be {want} (model shape {}), got {got} (shape {})",
                info.name,
                fmt_dims(dims),
                fmt_shape(shape)
            )));
        }
    }
    Ok(())
}

fn decode_json_tensor(
    value: Value,
    info: &TensorInfo,
    limit: Option<u64>,
) -> Result<Tensor, Error> {
    match value {
        Value::Object(obj) => decode_explicit(obj, info, limit),
        value => decode_nested(&value, info, limit),
    }
}

/// `{"shape":[..],"dtype":"..","data":[..flat..]}`.
fn decode_explicit(
    mut obj: Map<String, Value>,
    info: &TensorInfo,
    limit: Option<u64>,
) -> Result<Tensor, Error> {
    let name = &info.name;
    for key in obj.keys() {
        if !matches!(key.as_str(), "shape" | "dtype" | "data") {
            return Err(req(format!(
                "input `{name}`: unknown key {} (a tensor object has shape, dtype, data)",
                quote(key)
            )));
        }
    }
    if let Some(dtype) = obj.remove("dtype") {
        let Value::String(dtype) = dtype else {
            return Err(req(format!(
                "input `{name}`: dtype must be a string, found {}",
                kind(&dtype)
            )));
        };
        let Some(dtype) = DType::from_name(&dtype) else {
            return Err(req(format!(
                "input `{name}`: unknown dtype {} (known: {})",
                quote(&dtype),
                DType::ALL.map(DType::name).join(", ")
            )));
        };
        if dtype != info.dtype {
            return Err(req(format!(
                "input `{name}`: wrong dtype {dtype}, the model takes {}",
                info.dtype
            )));
        }
    }
    let shape =
        match obj.remove("shape") {
            None => return Err(req(format!("input `{name}`: missing `shape`"))),
            Some(Value::Array(dims)) => {
                let mut shape = Vec::with_capacity(dims.len());
                for (i, d) in dims.iter().enumerate() {
                    let d = d.as_u64().and_then(|d| usize::try_from(d).ok()).ok_or_else(|| {
                    req(format!(
                        "input `{name}`: shape[{i}] must be a non-negative integer, found {}",
                        show(d)
                    ))
                })?;
                    shape.push(d);
                }
                shape
            }
            Some(other) => {
                return Err(req(format!(
                    "input `{name}`: shape must be an array of integers, found {}",
                    kind(&other)
                )));
            }
        };
    check_shape(info, &shape)?;
    let count = element_count(&shape).ok_or_else(|| {
        req(format!(
            "input `{name}`: shape {} is too large",
            fmt_shape(&shape)
        ))
    })?;
    check_limit(
        (count as u64).saturating_mul(info.dtype.size() as u64),
        limit,
    )?;
    let data = match obj.remove("data") {
        None => return Err(req(format!("input `{name}`: missing `data`"))),
        Some(Value::Array(data)) => data,
        Some(other) => {
            return Err(req(format!(
                "input `{name}`: data must be a flat array, found {}",
                kind(&other)
            )));
        }
    };
    if data.len() != count {
        return Err(req(format!(
            "input `{name}`: shape {} needs {count} elements, data has {}",
            fmt_shape(&shape),
            data.len()
        )));
    }
    let mut out = Data::with_capacity(info.dtype, count);
    for (i, v) in data.iter().enumerate() {
        push_scalar(&mut out, v)
            .map_err(|e| req(format!("input `{name}`: {name}.data[{i}]: {e}")))?;
    }
    Ok(Tensor { shape, data: out })
}

/// Nested arrays (or a bare scalar for rank 0); the dtype is the model's.
fn decode_nested(value: &Value, info: &TensorInfo, limit: Option<u64>) -> Result<Tensor, Error> {
    let name = &info.name;
    let mut shape = Vec::new();
    let mut v = value;
    while let Value::Array(items) = v {
        shape.push(items.len());
        match items.first() {
            Some(first) => v = first,
            None => break,
        }
    }
    check_shape(info, &shape)?;
    // The JSON is already in memory, so the count cannot overflow; still bound the tensor.
    let count = element_count(&shape).unwrap_or(usize::MAX);
    check_limit(
        (count as u64).saturating_mul(info.dtype.size() as u64),
        limit,
    )?;
    let mut out = Data::with_capacity(info.dtype, count);
    let mut path = Vec::with_capacity(shape.len());
    fill_nested(value, &shape, &mut path, &mut out).map_err(|(path, e)| {
        let mut p = name.clone();
        for i in path {
            p.push_str(&format!("[{i}]"));
        }
        req(format!("input `{name}`: {p}: {e}"))
    })?;
    Ok(Tensor { shape, data: out })
}

fn fill_nested(
    v: &Value,
    shape: &[usize],
    path: &mut Vec<usize>,
    out: &mut Data,
) -> Result<(), (Vec<usize>, String)> {
    let depth = path.len();
    if depth == shape.len() {
        if let Value::Array(_) = v {
            return Err((
                path.clone(),
                "expected a number, found an array (ragged nesting)".into(),
            ));
        }
        return push_scalar(out, v).map_err(|e| (path.clone(), e));
    }
    let Value::Array(items) = v else {
        return Err((
            path.clone(),
            format!(
                "expected an array of {} elements, found {} (ragged nesting)",
                shape[depth],
                kind(v)
            ),
        ));
    };
    if items.len() != shape[depth] {
        return Err((
            path.clone(),
            format!(
                "ragged array: {} elements where the first row at this depth has {}",
                items.len(),
                shape[depth]
            ),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        path.push(i);
        fill_nested(item, shape, path, out)?;
        path.pop();
    }
    Ok(())
}

/// A JSON float: a number, or the strings `NaN`, `Infinity`, `-Infinity`.
fn json_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{n} is not a representable number")),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(format!(
                "expected a number, found the string {} (only \"NaN\", \"Infinity\", \"-Infinity\" are accepted)",
                quote_json(s)
            )),
        },
        other => Err(format!("expected a number, found {}", kind(other))),
    }
}

/// A JSON integer within `[min, max]`.
fn json_int(v: &Value, dtype: DType, min: i64, max: i64) -> Result<i64, String> {
    let range = || format!("out of range for {dtype} ({min}..={max})");
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i < min || i > max {
                    return Err(format!("{i} is {}", range()));
                }
                Ok(i)
            } else if n.is_u64() {
                Err(format!("{n} is {}", range()))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() != 0.0 {
                    return Err(format!("{n} is not an integer (the input is {dtype})"));
                }
                // Integral floats (`3.0`, `1e3`) are accepted when exactly in range.
                if f < min as f64 || f >= (max as f64) + 1.0 {
                    return Err(format!("{n} is {}", range()));
                }
                Ok(f as i64)
            }
        }
        Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            Err(format!("{s} is not allowed for {dtype}"))
        }
        other => Err(format!("expected an integer, found {}", kind(other))),
    }
}

fn push_scalar(out: &mut Data, v: &Value) -> Result<(), String> {
    match out {
        Data::Float32(o) => {
            let f = json_float(v)?;
            let x = f as f32;
            if f.is_finite() && !x.is_finite() {
                return Err(format!("{f} is out of range for float32"));
            }
            o.push(x);
        }
        Data::Float64(o) => o.push(json_float(v)?),
        Data::Float16(o) => {
            let f = json_float(v)?;
            let x = f16::from_f64(f);
            if f.is_finite() && !x.is_finite() {
                return Err(format!("{f} is out of range for float16"));
            }
            o.push(x);
        }
        Data::Int64(o) => o.push(json_int(v, DType::Int64, i64::MIN, i64::MAX)?),
        Data::Int32(o) => {
            let i = json_int(v, DType::Int32, i32::MIN.into(), i32::MAX.into())?;
            o.push(i32::try_from(i).map_err(|e| e.to_string())?);
        }
        Data::Int8(o) => {
            let i = json_int(v, DType::Int8, i8::MIN.into(), i8::MAX.into())?;
            o.push(i8::try_from(i).map_err(|e| e.to_string())?);
        }
        Data::Uint8(o) => {
            let i = json_int(v, DType::Uint8, 0, u8::MAX.into())?;
            o.push(u8::try_from(i).map_err(|e| e.to_string())?);
        }
        Data::Bool(o) => match v {
            Value::Bool(b) => o.push(*b),
            Value::Number(n) if n.as_u64() == Some(0) => o.push(false),
            Value::Number(n) if n.as_u64() == Some(1) => o.push(true),
            Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
                return Err(format!("{s} is not allowed for bool"));
            }
            other => {
                return Err(format!(
                    "expected true, false, 0 or 1 for bool, found {}",
                    match other {
                        Value::Number(n) => n.to_string(),
                        other => kind(other).to_string(),
                    }
                ));
            }
        },
    }
    Ok(())
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Decodes a `.npy` request for a single-input model.
fn decode_npy_request(
    bytes: &[u8],
    sig: &Signature,
    limit: Option<u64>,
) -> Result<Vec<Tensor>, Error> {
    let [info] = sig.inputs.as_slice() else {
        return Err(req(format!(
            "a .npy request carries one tensor, but this model has {} inputs ({}); send JSON",
            sig.inputs.len(),
            input_names(sig)
        )));
    };
    let tensor = decode_npy(bytes, info, limit)?;
    Ok(vec![tensor])
}

/// Decodes one `.npy` (format v1, v2 or v3; little-endian; C order) for the input `info`.
pub fn decode_npy(bytes: &[u8], info: &TensorInfo, limit: Option<u64>) -> Result<Tensor, Error> {
    let name = &info.name;
    let bad = |m: String| req(format!("input `{name}`: bad .npy: {m}"));
    if bytes.len() < 10 || !bytes.starts_with(NPY_MAGIC) {
        return Err(bad("truncated header".into()));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (
            usize::from(u16::from_le_bytes([bytes[8], bytes[9]])),
            10usize,
        ),
        2 | 3 => {
            let Some(b) = bytes.get(8..12) else {
                return Err(bad("truncated header".into()));
            };
            let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (usize::try_from(n).map_err(|e| bad(e.to_string()))?, 12)
        }
        v => return Err(bad(format!("unsupported format version {v}"))),
    };
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad(format!("header of {header_len} bytes runs past the end")))?;
    let header =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not UTF-8".into()))?;
    if major < 3 && !header.is_ascii() {
        return Err(bad(
            "header is not ASCII (only format 3 allows UTF-8)".into()
        ));
    }
    let header = NpyHeader::parse(header).map_err(bad)?;
    if header.fortran_order {
        return Err(bad(
            "fortran_order is True; save C-ordered arrays (numpy.ascontiguousarray)".into(),
        ));
    }
    let dtype = npy_dtype(&header.descr).map_err(bad)?;
    if dtype != info.dtype {
        return Err(req(format!(
            "input `{name}`: wrong dtype {dtype} in the .npy, the model takes {}",
            info.dtype
        )));
    }
    check_shape(info, &header.shape)?;
    let count =
        element_count(&header.shape).and_then(|c| c.checked_mul(dtype.size()).map(|b| (c, b)));
    let Some((count, nbytes)) = count else {
        return Err(bad(format!(
            "shape {} is too large",
            fmt_shape(&header.shape)
        )));
    };
    check_limit(nbytes as u64, limit)?;
    let body = &bytes[end..];
    if body.len() != nbytes {
        return Err(bad(format!(
            "shape {} of {dtype} needs {nbytes} bytes of data, found {}",
            fmt_shape(&header.shape),
            body.len()
        )));
    }
    let data = decode_le(body, dtype, count).map_err(bad)?;
    Ok(Tensor {
        shape: header.shape,
        data,
    })
}

fn npy_dtype(descr_text: &str) -> Result<DType, String> {
    let descr = short(descr_text);
    let mut chars = descr_text.chars();
    let order = chars.next().ok_or("empty descr")?;
    let rest: String = chars.collect();
    let split = rest.char_indices().nth(1).map_or(rest.len(), |(i, _)| i);
    let (kind, size) = rest.split_at(split);
    let size: usize = size
        .parse()
        .map_err(|_| format!("unsupported dtype descr '{descr}'"))?;
    let dtype = DType::ALL
        .into_iter()
        .find(|d| d.npy_kind().to_string() == kind && d.size() == size)
        .ok_or_else(|| format!("unsupported dtype descr '{descr}'"))?;
    match order {
        '<' => Ok(dtype),
        '|' | '=' if size == 1 => Ok(dtype),
        '>' if size == 1 => Ok(dtype),
        '>' => Err(format!(
            "big-endian dtype '{descr}' is not supported; save little-endian ('<')"
        )),
        _ => Err(format!("unsupported dtype descr '{descr}'")),
    }
}

fn decode_le(body: &[u8], dtype: DType, count: usize) -> Result<Data, String> {
    fn chunks<const N: usize, T>(body: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
        body.chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                f(a)
            })
            .collect()
    }
    let data = match dtype {
        DType::Float32 => Data::Float32(chunks(body, f32::from_le_bytes)),
        DType::Float64 => Data::Float64(chunks(body, f64::from_le_bytes)),
        DType::Float16 => Data::Float16(chunks(body, f16::from_le_bytes)),
        DType::Int64 => Data::Int64(chunks(body, i64::from_le_bytes)),
        DType::Int32 => Data::Int32(chunks(body, i32::from_le_bytes)),
        DType::Int8 => Data::Int8(body.iter().map(|&b| b as i8).collect()),
        DType::Uint8 => Data::Uint8(body.to_vec()),
        DType::Bool => {
            let mut v = Vec::with_capacity(count);
            for (i, &b) in body.iter().enumerate() {
                match b {
                    0 => v.push(false),
                    1 => v.push(true),
                    b => return Err(format!("bool element {i} is {b}, not 0 or 1")),
                }
            }
            Data::Bool(v)
        }
    };
    debug_assert_eq!(data.len(), count);
    Ok(data)
}

/// The dict literal of a `.npy` header: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }`.
#[derive(Debug)]
struct NpyHeader {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

impl NpyHeader {
    fn parse(text: &str) -> Result<NpyHeader, String> {
        let mut p = PyLit {
            s: text.as_bytes(),
            i: 0,
        };
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        p.expect(b'{')?;
        loop {
            p.ws();
            if p.eat(b'}') {
                break;
            }
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            match key.as_str() {
                "descr" => {
                    descr = Some(p.string().map_err(|_| {
                        "descr must be a string (structured dtypes are not supported)".to_string()
                    })?)
                }
                "fortran_order" => fortran = Some(p.boolean()?),
                "shape" => shape = Some(p.tuple()?),
                other => return Err(format!("unexpected header key '{}'", short(other))),
            }
            p.ws();
            if !p.eat(b',') {
                p.ws();
                p.expect(b'}')?;
                break;
            }
        }
        Ok(NpyHeader {
            descr: descr.ok_or("header lacks 'descr'")?,
            fortran_order: fortran.ok_or("header lacks 'fortran_order'")?,
            shape: shape.ok_or("header lacks 'shape'")?,
        })
    }
}

struct PyLit<'a> {
    s: &'a [u8],
    i: usize,
}

impl PyLit<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "header: expected '{}' at byte {}",
                c as char, self.i
            ))
        }
    }
    fn string(&mut self) -> Result<String, String> {
        let q = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("header: expected a string at byte {}", self.i)),
        };
        self.i += 1;
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            if c == q {
                let s = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                return Ok(s);
            }
            self.i += 1;
        }
        Err("header: unterminated string".into())
    }
    fn boolean(&mut self) -> Result<bool, String> {
        let rest = &self.s[self.i..];
        if rest.starts_with(b"True") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"False") {
            self.i += 5;
            Ok(false)
        } else {
            Err(format!("header: expected True or False at byte {}", self.i))
        }
    }
    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            // Python 2 era headers may write `3L`.
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let d: usize = digits
                .parse()
                .map_err(|_| format!("header: bad shape dimension at byte {start}"))?;
            self.eat(b'L');
            dims.push(d);
            self.ws();
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

/// Writes `{"outputs":{name:{"shape":[..],"dtype":"..","data":[..]}}}` and a newline.
/// Outputs are written in the order given (the model's output order).
pub fn write_response(w: &mut dyn Write, outputs: &[(&str, &Tensor)]) -> io::Result<()> {
    w.write_all(b"{\"outputs\":{")?;
    for (i, (name, t)) in outputs.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, name)?;
        w.write_all(b":{\"shape\":")?;
        serde_json::to_writer(&mut *w, &t.shape)?;
        write!(w, ",\"dtype\":\"{}\",\"data\":[", t.dtype())?;
        write_data(w, &t.data)?;
        w.write_all(b"]}")?;
    }
    w.write_all(b"}}\n")
}

/// Writes `{"error":"…"}` and a newline.
pub fn write_error(w: &mut dyn Write, message: &str) -> io::Result<()> {
    w.write_all(b"{\"error\":")?;
    serde_json::to_writer(&mut *w, message)?;
    w.write_all(b"}\n")
}

fn write_data(w: &mut dyn Write, data: &Data) -> io::Result<()> {
    fn each<T: Copy>(
        w: &mut dyn Write,
        v: &[T],
        f: impl Fn(&mut dyn Write, T) -> io::Result<()>,
    ) -> io::Result<()> {
        for (i, &x) in v.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            f(w, x)?;
        }
        Ok(())
    }
    fn float(w: &mut dyn Write, x: f32) -> io::Result<()> {
        if x.is_finite() {
            // serde_json writes f32 with ryu's shortest round-trip form.
            serde_json::to_writer(w, &x).map_err(io::Error::other)
        } else {
            w.write_all(non_finite(f64::from(x)))
        }
    }
    match data {
        Data::Float32(v) => each(w, v, float),
        Data::Float16(v) => each(w, v, |w, x| float(w, x.to_f32())),
        Data::Float64(v) => each(w, v, |w, x| {
            if x.is_finite() {
                serde_json::to_writer(w, &x).map_err(io::Error::other)
            } else {
                w.write_all(non_finite(x))
            }
        }),
        Data::Int64(v) => each(w, v, |w, x| write!(w, "{x}")),
        Data::Int32(v) => each(w, v, |w, x| write!(w, "{x}")),
        Data::Int8(v) => each(w, v, |w, x| write!(w, "{x}")),
        Data::Uint8(v) => each(w, v, |w, x| write!(w, "{x}")),
        Data::Bool(v) => each(w, v, |w, x| w.write_all(if x { b"true" } else { b"false" })),
    }
}

fn non_finite(x: f64) -> &'static [u8] {
    if x.is_nan() {
        b"\"NaN\""
    } else if x > 0.0 {
        b"\"Infinity\""
    } else {
        b"\"-Infinity\""
    }
}

/// The `--describe` document: `{"inputs":[{"name","dtype","shape"}],"outputs":[…]}`; dynamic
/// dims are their symbol (`"N"`) or `"?"`, an unknown rank is `null`.
pub fn describe(sig: &Signature) -> Value {
    let list = |infos: &[TensorInfo]| -> Value {
        Value::Array(
            infos
                .iter()
                .map(|i| {
                    let shape = match &i.shape {
                        None => Value::Null,
                        Some(dims) => Value::Array(
                            dims.iter()
                                .map(|d| match d {
                                    Dim::Fixed(n) => Value::from(*n),
                                    d => Value::from(d.to_string()),
                                })
                                .collect(),
                        ),
                    };
                    serde_json::json!({"name": i.name, "dtype": i.dtype.name(), "shape": shape})
                })
                .collect(),
        )
    };
    serde_json::json!({"inputs": list(&sig.inputs), "outputs": list(&sig.outputs)})
}

pub(crate) mod exact;
pub(crate) mod fast;
#[cfg(test)]
mod tests;
