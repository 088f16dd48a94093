//! The precise path for JSON requests: whatever the fast path defers (malformed JSON, an
//! unknown, repeated or escaped key, ragged arrays, a bad element, a tensor over the limit,
//! an integral float for an integer input…) is decoded here, once more from the bytes, with
//! the error the `serde_json::Value` decoder (`decode_json_request`) would give for the same
//! request — but streaming: no `Value` tree is built, so a request costs its own bytes plus
//! at most the limit's worth of tensor data, never a multiple of its size. Elements are kept
//! only while the request can still succeed: once the shape is known to be wrong, an element
//! is bad, or the tensors outgrow the limit, the rest of the request is only checked for the
//! first error. Errors are chosen in the `Value` decoder's order: invalid JSON first (the
//! whole request is parsed), then an unknown key, then inputs in model order (missing,
//! shape, limit, elements in document order, a wrong array length before anything inside
//! that array). A key given twice — an input, or `shape`/`dtype`/`data` in a tensor object
//! — is an error naming it (the `Value` decoder would silently keep the last one).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{
    DType, Data, Dim, Signature, Tensor, TensorInfo, check_limit, check_shape, cut, element_count,
    ellipsis, fmt_shape, input_names, kind, push_scalar, quote, quote_json, req,
};
use crate::Error;

/// The most dimensions an explicit `shape` may list (ONNX models use far fewer).
const MAX_RANK: usize = 64;

/// Bytes of an offending value quoted in an error.
const PREVIEW: usize = super::QUOTE_MAX;

/// Decodes a JSON request into one tensor per model input (model order), or the error the
/// `Value` decoder gives for it (plus duplicate keys, which it cannot see). A first pass
/// keeps no element at all: most requests that come here are bad, and are refused at the
/// cost of reading them; only a good one is read again to keep its tensors.
pub(crate) fn decode(
    bytes: &[u8],
    sig: &Signature,
    limit: Option<u64>,
) -> Result<Vec<Tensor>, Error> {
    pass(bytes, sig, limit, false)?;
    pass(bytes, sig, limit, true)
}

/// One pass over the request; with `keep` false no tensor is returned.
fn pass(
    bytes: &[u8],
    sig: &Signature,
    limit: Option<u64>,
    keep: bool,
) -> Result<Vec<Tensor>, Error> {
    let mut budget = Budget {
        limit,
        left: limit,
        failed: !keep,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = Top {
        sig,
        budget: &mut budget,
    }
    .deserialize(&mut de)
    .and_then(|top| de.end().map(|()| top))
    .map_err(|e| req(format!("the request is not valid JSON: {e}")))?;
    let slots = match top {
        Parsed::NotObject(kind) => {
            return Err(req(format!(
                "the request must be a JSON object keyed by input name ({}), found {kind}",
                input_names(sig)
            )));
        }
        Parsed::Object {
            unknown: Some(key), ..
        } => {
            return Err(req(format!(
                "unknown input {key} (the model's inputs: {})",
                input_names(sig)
            )));
        }
        Parsed::Object {
            duplicate: Some(key),
            ..
        } => {
            return Err(req(format!("input {key} appears twice in the request")));
        }
        Parsed::Object { slots, .. } => slots,
    };
    let mut tensors = Vec::with_capacity(sig.inputs.len());
    let mut total: u64 = 0;
    for (info, slot) in sig.inputs.iter().zip(slots) {
        let decoded = slot.ok_or_else(|| req(format!("missing input `{}`", info.name)))??;
        total =
            total.saturating_add((decoded.count as u64).saturating_mul(info.dtype.size() as u64));
        check_limit(total, limit)?;
        if !keep {
            continue;
        }
        if !decoded.complete {
            // Only a request over the limit loses elements; the check above catches it.
            return Err(req(format!(
                "the request's tensors need more than the memory limit of {} bytes",
                limit.unwrap_or(0)
            )));
        }
        tensors.push(Tensor {
            shape: decoded.shape,
            data: decoded.data,
        });
    }
    Ok(tensors)
}

/// Bytes of tensor data still allowed, shared by all inputs of a request.
struct Budget {
    /// The request's limit.
    limit: Option<u64>,
    left: Option<u64>,
    /// Some input is already known to fail: no element needs keeping any more.
    failed: bool,
}

/// One input, decoded: its data is `complete` unless elements were dropped for the limit.
struct Decoded {
    shape: Vec<usize>,
    data: Data,
    count: usize,
    complete: bool,
}

/// Where one tensor's elements go: kept while the request can succeed, else only checked.
struct Sink<'b> {
    data: Data,
    /// A one-element buffer for elements that are checked but not kept.
    scratch: Data,
    keeping: bool,
    complete: bool,
    /// At most this many elements can be right (an explicit tensor's shape, once known).
    max_len: Option<usize>,
    size: u64,
    budget: &'b mut Budget,
}

impl<'b> Sink<'b> {
    fn new(dtype: DType, budget: &'b mut Budget) -> Sink<'b> {
        Sink {
            data: Data::with_capacity(dtype, 0),
            scratch: Data::with_capacity(dtype, 1),
            keeping: true,
            complete: true,
            max_len: None,
            size: dtype.size() as u64,
            budget,
        }
    }

    /// Converts one element (as the `Value` decoder does), keeping it if it may be needed.
    fn push(&mut self, v: &Value) -> Result<(), String> {
        if self.keeping && self.budget.failed {
            self.drop_data();
        }
        if self.keeping && self.max_len.is_some_and(|m| self.data.len() >= m) {
            self.fail();
        }
        if self.keeping {
            if self.budget.take(self.size) {
                let r = push_scalar(&mut self.data, v);
                if r.is_err() {
                    self.fail();
                }
                return r;
            }
            self.drop_data();
        }
        let r = push_scalar(&mut self.scratch, v);
        self.scratch.clear();
        if r.is_err() {
            self.fail();
        }
        r
    }

    /// The request is known to fail: keep nothing more, anywhere.
    fn fail(&mut self) {
        self.budget.failed = true;
        self.drop_data();
    }

    fn drop_data(&mut self) {
        self.keeping = false;
        self.complete = false;
        self.data = Data::with_capacity(self.data.dtype(), 0);
    }
}

impl Budget {
    fn take(&mut self, bytes: u64) -> bool {
        match &mut self.left {
            None => true,
            Some(left) if *left >= bytes => {
                *left -= bytes;
                true
            }
            Some(_) => false,
        }
    }
}

/// `kind()` of the `Value` decoder, for the value a visitor saw.
const NULL: &str = "null";
const BOOLEAN: &str = "a boolean";
const NUMBER: &str = "a number";
const STRING: &str = "a string";
const ARRAY: &str = "an array";
const OBJECT: &str = "an object";

/// A JSON value skipped entirely (with the same syntax and nesting checks as parsing it).
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A JSON value as its compact text (as `Value`'s `Display` writes it), cut after
/// [`PREVIEW`] characters; the rest is skipped.
struct Preview<'a> {
    out: &'a mut String,
}

impl Preview<'_> {
    fn put(&mut self, s: &str) {
        if self.out.len() < PREVIEW {
            self.out.push_str(s);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Preview<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Preview<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.put(&Value::from(v).to_string());
        Ok(())
    }
    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        self.put(&Value::from(v).to_string());
        Ok(())
    }
    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.put(&Value::from(v).to_string());
        Ok(())
    }
    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        self.put(&Value::from(v).to_string());
        Ok(())
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        let cut = cut(v, PREVIEW);
        self.put(&Value::from(cut).to_string());
        Ok(())
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.put("null");
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.put("[");
        let mut first = true;
        loop {
            // A comma only if another element follows: taken back otherwise.
            let mark = self.out.len();
            if !first {
                self.put(",");
            }
            if seq
                .next_element_seed(Preview {
                    out: &mut *self.out,
                })?
                .is_none()
            {
                self.out.truncate(mark);
                break;
            }
            first = false;
        }
        self.put("]");
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.put("{");
        let mut first = true;
        loop {
            let mark = self.out.len();
            if !first {
                self.put(",");
            }
            if map
                .next_key_seed(Preview {
                    out: &mut *self.out,
                })?
                .is_none()
            {
                self.out.truncate(mark);
                break;
            }
            self.put(":");
            map.next_value_seed(Preview {
                out: &mut *self.out,
            })?;
            first = false;
        }
        self.put("}");
        Ok(())
    }
}

/// A map key, borrowed from the request when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(Key)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// The request as far as the top level goes.
enum Parsed {
    NotObject(&'static str),
    Object {
        /// The first unknown key, quoted for an error.
        unknown: Option<String>,
        /// The first input given twice, quoted for an error.
        duplicate: Option<String>,
        /// Per model input: absent, or its decoding.
        slots: Vec<Option<Result<Decoded, Error>>>,
    },
}

struct Top<'s, 'b> {
    sig: &'s Signature,
    budget: &'b mut Budget,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request object")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Parsed, E> {
        Ok(Parsed::NotObject(BOOLEAN))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Parsed, E> {
        Ok(Parsed::NotObject(NUMBER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Parsed, E> {
        Ok(Parsed::NotObject(NUMBER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Parsed, E> {
        Ok(Parsed::NotObject(NUMBER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Parsed, E> {
        Ok(Parsed::NotObject(STRING))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Parsed, E> {
        Ok(Parsed::NotObject(NULL))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Parsed, A::Error> {
        Skip.visit_seq(seq)?;
        Ok(Parsed::NotObject(ARRAY))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut slots: Vec<Option<Result<Decoded, Error>>> =
            self.sig.inputs.iter().map(|_| None).collect();
        let (mut unknown, mut duplicate) = (None, None);
        while let Some(key) = map.next_key_seed(Key)? {
            let Some(i) = self.sig.inputs.iter().position(|x| x.name == key) else {
                unknown.get_or_insert_with(|| quote(&key));
                self.budget.failed = true;
                map.next_value_seed(Skip)?;
                continue;
            };
            if slots[i].is_some() {
                duplicate.get_or_insert_with(|| quote(&key));
                self.budget.failed = true;
                map.next_value_seed(Skip)?;
                continue;
            }
            let info = &self.sig.inputs[i];
            let got = map.next_value_seed(TensorSeed {
                info,
                budget: &mut *self.budget,
            })?;
            if got.is_err() {
                self.budget.failed = true;
            }
            slots[i] = Some(got);
        }
        Ok(Parsed::Object {
            unknown,
            duplicate,
            slots,
        })
    }
}

/// An element error: its path of indices below the input, and the message.
type ElemError = (Vec<usize>, String);

/// One input's value: nested arrays, a rank-0 scalar, or an explicit tensor object.
struct TensorSeed<'s, 'b> {
    info: &'s TensorInfo,
    budget: &'b mut Budget,
}

impl<'de> DeserializeSeed<'de> for TensorSeed<'_, '_> {
    type Value = Result<Decoded, Error>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let info = self.info;
        let mut nest = Nest {
            sink: Sink::new(info.dtype, self.budget),
            info,
            chain: Vec::new(),
            rank: None,
            path: Vec::new(),
        };
        let got = d.deserialize_any(Node {
            nest: &mut nest,
            depth: 0,
            first: true,
        })?;
        Ok(match got {
            Got::Explicit(result) => result,
            Got::Nested(err) => nest.finish(err),
        })
    }
}

/// Decoding state of one input given as nested arrays.
struct Nest<'s, 'b> {
    sink: Sink<'b>,
    info: &'s TensorInfo,
    /// The lengths of the arrays on the first-element chain (`x`, `x[0]`, `x[0][0]`…), which
    /// make the shape, by depth; known once that array has ended.
    chain: Vec<Option<usize>>,
    /// The rank, once the first-element chain has reached a non-array (or an empty array).
    rank: Option<usize>,
    /// Indices from the input down to the current value.
    path: Vec<usize>,
}

impl Nest<'_, '_> {
    /// The first-element chain ends at `rank`: a shape of the wrong rank cannot succeed.
    fn set_rank(&mut self, rank: usize) {
        self.rank = Some(rank);
        if self.info.shape.as_ref().is_some_and(|d| d.len() != rank) {
            self.sink.fail();
        }
    }

    /// The first-element chain's array at `depth` has `n` elements.
    fn set_dim(&mut self, depth: usize, n: usize) {
        if self.chain.len() <= depth {
            self.chain.resize(depth + 1, None);
        }
        self.chain[depth] = Some(n);
        if let Some(dims) = &self.info.shape
            && let Some(Dim::Fixed(want)) = dims.get(depth)
            && *want != n
        {
            self.sink.fail();
        }
    }

    fn error(&mut self, msg: String) -> Option<ElemError> {
        self.sink.fail();
        Some((self.path.clone(), msg))
    }

    /// A non-array value at `depth`: a leaf element, or a ragged nesting.
    fn scalar(&mut self, depth: usize, first: bool, v: &Value) -> Option<ElemError> {
        if first {
            self.set_rank(depth);
        }
        let rank = self.rank.unwrap_or(depth);
        if depth < rank {
            let want = self.chain.get(depth).copied().flatten().unwrap_or(0);
            return self.error(format!(
                "expected an array of {want} elements, found {} (ragged nesting)",
                kind(v)
            ));
        }
        match self.sink.push(v) {
            Ok(()) => None,
            Err(e) => Some((self.path.clone(), e)),
        }
    }

    /// The shape, then the limit, then the first element error: as the `Value` decoder.
    fn finish(self, err: Option<ElemError>) -> Result<Decoded, Error> {
        let info = self.info;
        let name = &info.name;
        let rank = self.rank.unwrap_or(0);
        let shape: Vec<usize> = (0..rank)
            .map(|d| self.chain.get(d).copied().flatten().unwrap_or(0))
            .collect();
        check_shape(info, &shape)?;
        let count = element_count(&shape).unwrap_or(usize::MAX);
        check_limit(
            (count as u64).saturating_mul(info.dtype.size() as u64),
            self.sink.budget.limit,
        )?;
        if let Some((path, e)) = err {
            let mut p = name.clone();
            for i in path {
                p.push_str(&format!("[{i}]"));
            }
            return Err(req(format!("input `{name}`: {p}: {e}")));
        }
        Ok(Decoded {
            shape,
            count,
            complete: self.sink.complete,
            data: self.sink.data,
        })
    }
}

/// What a value at the top of an input turned out to be.
enum Got {
    /// Nested arrays or a scalar, with the first element error.
    Nested(Option<ElemError>),
    /// A tensor object, decoded.
    Explicit(Result<Decoded, Error>),
}

/// A value `depth` arrays deep in a nested input; `first` when it is on the first-element
/// chain (all its indices 0).
struct Node<'n, 's, 'b> {
    nest: &'n mut Nest<'s, 'b>,
    depth: usize,
    first: bool,
}

impl Node<'_, '_, '_> {
    fn scalar<E>(self, v: Value) -> Result<Got, E> {
        Ok(Got::Nested(self.nest.scalar(self.depth, self.first, &v)))
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = Got;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Got, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = Got;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tensor")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Got, E> {
        self.scalar(Value::from(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Got, E> {
        self.scalar(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Got, E> {
        self.scalar(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Got, E> {
        self.scalar(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Got, E> {
        self.scalar(Value::from(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Got, E> {
        self.scalar(Value::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Got, A::Error> {
        if self.depth == 0 {
            let info = self.nest.info;
            return explicit(map, info, &mut self.nest.sink).map(Got::Explicit);
        }
        Skip.visit_map(map)?;
        self.scalar(Value::Object(Map::new()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Got, A::Error> {
        let Node { nest, depth, first } = self;
        let rank = nest.rank;
        if let Some(rank) = rank
            && !first
            && depth >= rank
        {
            // Where the first row has a number: not looked into.
            Skip.visit_seq(seq)?;
            let err = nest.error("expected a number, found an array (ragged nesting)".into());
            return Ok(Got::Nested(err));
        }
        let mut n = 0usize;
        let mut err = None;
        loop {
            nest.path.push(n);
            let item = seq.next_element_seed(Node {
                nest: &mut *nest,
                depth: depth + 1,
                first: first && n == 0,
            });
            nest.path.pop();
            let Some(got) = item? else { break };
            if let Got::Nested(e) = got
                && err.is_none()
            {
                err = e;
            }
            n += 1;
        }
        if first {
            if n == 0 {
                nest.set_rank(depth + 1);
            }
            nest.set_dim(depth, n);
        } else {
            let want = nest.chain.get(depth).copied().flatten().unwrap_or(0);
            if n != want {
                // The array's own length is checked before anything inside it.
                err = nest.error(format!(
                    "ragged array: {n} elements where the first row at this depth has {want}"
                ));
            }
        }
        Ok(Got::Nested(err))
    }
}

/// What a tensor object's `shape` held.
enum ShapeValue {
    NotArray(&'static str),
    Dims {
        /// The first [`MAX_RANK`] dimensions.
        dims: Vec<usize>,
        rank: usize,
        /// The first element that is not a dimension: index and its text.
        bad: Option<(usize, String)>,
    },
}

/// What a tensor object's `data` held.
enum DataValue {
    NotArray(&'static str),
    Flat {
        len: usize,
        /// The first bad element: index and message.
        bad: Option<(usize, String)>,
    },
}

/// `{"shape":[..],"dtype":"..","data":[..flat..]}` in any key order.
fn explicit<'de, A: MapAccess<'de>>(
    mut map: A,
    info: &TensorInfo,
    sink: &mut Sink<'_>,
) -> Result<Result<Decoded, Error>, A::Error> {
    let name = &info.name;
    let (mut unknown, mut duplicate) = (None, None);
    let (mut dtype, mut shape, mut data) = (None, None, None);
    while let Some(key) = map.next_key_seed(Key)? {
        let seen = match key.as_ref() {
            "dtype" => dtype.is_some(),
            "shape" => shape.is_some(),
            "data" => data.is_some(),
            _ => {
                unknown.get_or_insert_with(|| quote(&key));
                sink.fail();
                map.next_value_seed(Skip)?;
                continue;
            }
        };
        if seen {
            duplicate.get_or_insert_with(|| quote(&key));
            sink.fail();
            map.next_value_seed(Skip)?;
            continue;
        }
        match key.as_ref() {
            "dtype" => {
                let got = map.next_value_seed(DtypeSeed { info })?;
                if got.is_err() {
                    sink.fail();
                }
                dtype = Some(got);
            }
            "shape" => {
                let got = map.next_value_seed(ShapeSeed)?;
                match shape_of(&got, info, sink.budget.limit) {
                    Ok(count) => sink.max_len = Some(count),
                    Err(_) => sink.fail(),
                }
                shape = Some(got);
            }
            _ => data = Some(map.next_value_seed(DataSeed { sink: &mut *sink })?),
        }
    }
    let result = (|| {
        if let Some(key) = unknown {
            return Err(req(format!(
                "input `{name}`: unknown key {key} (a tensor object has shape, dtype, data)"
            )));
        }
        if let Some(key) = duplicate {
            return Err(req(format!(
                "input `{name}`: key {key} appears twice in the tensor object"
            )));
        }
        if let Some(Err(e)) = dtype {
            return Err(e);
        }
        let Some(shape) = shape else {
            return Err(req(format!("input `{name}`: missing `shape`")));
        };
        let count = shape_of(&shape, info, sink.budget.limit)?;
        let ShapeValue::Dims { dims, .. } = shape else {
            return Err(req(format!("input `{name}`: shape is not an array")));
        };
        let (len, bad) = match data {
            None => return Err(req(format!("input `{name}`: missing `data`"))),
            Some(DataValue::NotArray(kind)) => {
                return Err(req(format!(
                    "input `{name}`: data must be a flat array, found {kind}"
                )));
            }
            Some(DataValue::Flat { len, bad }) => (len, bad),
        };
        if len != count {
            return Err(req(format!(
                "input `{name}`: shape {} needs {count} elements, data has {len}",
                fmt_shape(&dims)
            )));
        }
        if let Some((i, e)) = bad {
            return Err(req(format!("input `{name}`: {name}.data[{i}]: {e}")));
        }
        Ok((dims, count))
    })();
    Ok(result.map(|(shape, count)| Decoded {
        shape,
        count,
        complete: sink.complete,
        data: std::mem::replace(&mut sink.data, Data::with_capacity(info.dtype, 0)),
    }))
}

/// A tensor object's shape checked as the `Value` decoder checks it (up to the limit):
/// its element count.
fn shape_of(shape: &ShapeValue, info: &TensorInfo, limit: Option<u64>) -> Result<usize, Error> {
    let name = &info.name;
    let dims = match shape {
        ShapeValue::NotArray(kind) => {
            return Err(req(format!(
                "input `{name}`: shape must be an array of integers, found {kind}"
            )));
        }
        ShapeValue::Dims {
            bad: Some((i, d)), ..
        } => {
            return Err(req(format!(
                "input `{name}`: shape[{i}] must be a non-negative integer, found {d}"
            )));
        }
        ShapeValue::Dims { rank, .. } if *rank > MAX_RANK => {
            return Err(req(format!(
                "input `{name}`: shape has {rank} dimensions, more than the {MAX_RANK} supported"
            )));
        }
        ShapeValue::Dims { dims, .. } => dims,
    };
    check_shape(info, dims)?;
    let count = element_count(dims).ok_or_else(|| {
        req(format!(
            "input `{name}`: shape {} is too large",
            fmt_shape(dims)
        ))
    })?;
    check_limit(
        (count as u64).saturating_mul(info.dtype.size() as u64),
        limit,
    )?;
    Ok(count)
}

/// A tensor object's `dtype`: the model's, or the `Value` decoder's error.
struct DtypeSeed<'s> {
    info: &'s TensorInfo,
}

impl<'de> DeserializeSeed<'de> for DtypeSeed<'_> {
    type Value = Result<(), Error>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl DtypeSeed<'_> {
    fn not_string(&self, kind: &str) -> Result<(), Error> {
        Err(req(format!(
            "input `{}`: dtype must be a string, found {kind}",
            self.info.name
        )))
    }
}

impl<'de> Visitor<'de> for DtypeSeed<'_> {
    type Value = Result<(), Error>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dtype")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let name = &self.info.name;
        let Some(dtype) = DType::from_name(v) else {
            return Ok(Err(req(format!(
                "input `{name}`: unknown dtype {} (known: {})",
                quote(v),
                DType::ALL.map(DType::name).join(", ")
            ))));
        };
        if dtype != self.info.dtype {
            return Ok(Err(req(format!(
                "input `{name}`: wrong dtype {dtype}, the model takes {}",
                self.info.dtype
            ))));
        }
        Ok(Ok(()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(self.not_string(BOOLEAN))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(self.not_string(NUMBER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(self.not_string(NUMBER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(self.not_string(NUMBER))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.not_string(NULL))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq)?;
        Ok(self.not_string(ARRAY))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map)?;
        Ok(self.not_string(OBJECT))
    }
}

/// A tensor object's `shape`.
struct ShapeSeed;

impl<'de> DeserializeSeed<'de> for ShapeSeed {
    type Value = ShapeValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ShapeValue, D::Error> {
        d.deserialize_any(self)
    }
}

/// One element of `shape`: a dimension, or its text.
struct DimSeed;

impl<'de> DeserializeSeed<'de> for DimSeed {
    type Value = Result<usize, String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // A u64 is a dimension; anything else is quoted in the error.
        struct Probe;
        impl<'de> Visitor<'de> for Probe {
            type Value = Result<usize, String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dimension")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(usize::try_from(v).map_err(|_| v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Err(Value::from(v).to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Err(Value::from(v).to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Err(Value::from(v).to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Err("null".into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Err(quote_json(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let mut out = String::new();
                Preview { out: &mut out }.visit_seq(seq)?;
                Ok(Err(ellipsis(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let mut out = String::new();
                Preview { out: &mut out }.visit_map(map)?;
                Ok(Err(ellipsis(out)))
            }
        }
        d.deserialize_any(Probe)
    }
}

impl<'de> Visitor<'de> for ShapeSeed {
    type Value = ShapeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a shape")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ShapeValue, A::Error> {
        let (mut dims, mut rank, mut bad) = (Vec::new(), 0usize, None);
        while let Some(d) = seq.next_element_seed(DimSeed)? {
            match d {
                Ok(d) if dims.len() < MAX_RANK => dims.push(d),
                Ok(_) => {}
                Err(text) => {
                    bad.get_or_insert((rank, text));
                }
            }
            rank += 1;
        }
        Ok(ShapeValue::Dims { dims, rank, bad })
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ShapeValue, E> {
        Ok(ShapeValue::NotArray(BOOLEAN))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ShapeValue, E> {
        Ok(ShapeValue::NotArray(NUMBER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ShapeValue, E> {
        Ok(ShapeValue::NotArray(NUMBER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ShapeValue, E> {
        Ok(ShapeValue::NotArray(NUMBER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<ShapeValue, E> {
        Ok(ShapeValue::NotArray(STRING))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ShapeValue, E> {
        Ok(ShapeValue::NotArray(NULL))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ShapeValue, A::Error> {
        Skip.visit_map(map)?;
        Ok(ShapeValue::NotArray(OBJECT))
    }
}

/// A tensor object's `data`.
struct DataSeed<'a, 'b> {
    sink: &'a mut Sink<'b>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = DataValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<DataValue, D::Error> {
        d.deserialize_any(self)
    }
}

/// One element of `data`.
struct ElemSeed<'a, 'b> {
    sink: &'a mut Sink<'b>,
    /// An earlier element was bad: only its syntax matters now.
    skip: bool,
}

impl ElemSeed<'_, '_> {
    fn push(self, v: Value) -> Result<(), String> {
        if self.skip {
            return Ok(());
        }
        self.sink.push(&v)
    }
}

impl<'de> DeserializeSeed<'de> for ElemSeed<'_, '_> {
    type Value = Result<(), String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElemSeed<'_, '_> {
    type Value = Result<(), String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.push(Value::from(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.push(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.push(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.push(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.push(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.push(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq)?;
        Ok(self.push(Value::Array(Vec::new())))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map)?;
        Ok(self.push(Value::Object(Map::new())))
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_> {
    type Value = DataValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a flat array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DataValue, A::Error> {
        let (mut len, mut bad) = (0usize, None);
        while let Some(r) = seq.next_element_seed(ElemSeed {
            sink: &mut *self.sink,
            skip: bad.is_some(),
        })? {
            if let Err(e) = r {
                bad.get_or_insert((len, e));
            }
            len += 1;
        }
        Ok(DataValue::Flat { len, bad })
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<DataValue, E> {
        self.sink.fail();
        Ok(DataValue::NotArray(BOOLEAN))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<DataValue, E> {
        self.sink.fail();
        Ok(DataValue::NotArray(NUMBER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<DataValue, E> {
        self.sink.fail();
        Ok(DataValue::NotArray(NUMBER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<DataValue, E> {
        self.sink.fail();
        Ok(DataValue::NotArray(NUMBER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<DataValue, E> {
        self.sink.fail();
        Ok(DataValue::NotArray(STRING))
    }
    fn visit_unit<E: de::Error>(self) -> Result<DataValue, E> {
        self.sink.fail();
        Ok(DataValue::NotArray(NULL))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DataValue, A::Error> {
        self.sink.fail();
        Skip.visit_map(map)?;
        Ok(DataValue::NotArray(OBJECT))
    }
}
