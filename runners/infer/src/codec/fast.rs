//! The fast path for JSON requests: numbers go straight from the parser into the tensor's
//! flat buffer, with no `serde_json::Value` tree in between (building and dropping that tree
//! was most of a request's decoding time). It accepts only requests it can decode exactly as
//! the `Value` path would; anything else — malformed JSON, an unknown or repeated key, ragged
//! or empty arrays, a number out of range, a tensor over the limit, an escaped key — makes it
//! give up, and the caller decodes the request again on the `Value` path, which names the
//! problem precisely. So the two paths never disagree: both succeed with the same tensors, or
//! the fast one defers.

use std::fmt;

use half::f16;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{
    DType, Data, Dim, Signature, Tensor, TensorInfo, check_limit, check_shape, element_count,
};

/// Decodes a JSON request into one tensor per model input (model order), or `None` when the
/// request needs the `Value` path.
pub(crate) fn decode(bytes: &[u8], sig: &Signature, limit: Option<u64>) -> Option<Vec<Tensor>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let tensors = Request {
        sig,
        limit,
        len: bytes.len(),
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    let total = tensors.iter().try_fold(0u64, |acc, t| {
        acc.checked_add((t.data.len() as u64).checked_mul(t.data.dtype().size() as u64)?)
    })?;
    check_limit(total, limit).ok()?;
    Some(tensors)
}

/// The error that sends a request to the `Value` path (its text is never shown).
fn defer<E: de::Error>() -> E {
    E::custom("not on the fast path")
}

/// The request object: input name → tensor.
struct Request<'s> {
    sig: &'s Signature,
    limit: Option<u64>,
    /// The request's length in bytes.
    len: usize,
}

impl<'de> DeserializeSeed<'de> for Request<'_> {
    type Value = Vec<Tensor>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Request<'_> {
    type Value = Vec<Tensor>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots: Vec<Option<Tensor>> = self.sig.inputs.iter().map(|_| None).collect();
        // A key with escapes cannot be borrowed: an error, so the `Value` path takes it.
        while let Some(key) = map.next_key::<&'de str>()? {
            let i = self
                .sig
                .inputs
                .iter()
                .position(|input| input.name == key)
                .ok_or_else(defer)?;
            if slots[i].is_some() {
                return Err(defer());
            }
            let info = &self.sig.inputs[i];
            slots[i] = Some(map.next_value_seed(TensorSeed {
                info,
                max: max_elements(self.limit, info.dtype),
                len: self.len,
            })?);
        }
        slots
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(defer)
    }
}

/// Elements of `dtype` that fit in `limit` bytes.
fn max_elements(limit: Option<u64>, dtype: DType) -> usize {
    limit.map_or(usize::MAX, |l| {
        usize::try_from(l / dtype.size() as u64).unwrap_or(usize::MAX)
    })
}

/// One input's value: nested arrays, a rank-0 scalar, or an explicit tensor object.
struct TensorSeed<'s> {
    info: &'s TensorInfo,
    max: usize,
    /// The request's length in bytes.
    len: usize,
}

impl<'de> DeserializeSeed<'de> for TensorSeed<'_> {
    type Value = Tensor;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tensor, D::Error> {
        // When the model fixes every dimension, the element count is known: no regrowth. (At
        // most one element per two bytes of request: a model's shape alone allocates nothing.)
        let expected = self.info.shape.as_ref().and_then(|dims| {
            dims.iter()
                .try_fold(1usize, |n, d| match d {
                    Dim::Fixed(d) => n.checked_mul(*d),
                    Dim::Dynamic(_) => None,
                })
                .filter(|&n| n <= self.max && n <= self.len / 2 + 1)
        });
        let mut state = State::new(self.info.dtype, self.max, expected.unwrap_or(0));
        // A nesting that cannot match the model's shape defers as soon as that shows, before
        // more elements are decoded.
        state.model = self.info.shape.as_ref().map(|dims| {
            dims.iter()
                .map(|d| match d {
                    Dim::Fixed(n) => Some(*n),
                    Dim::Dynamic(_) => None,
                })
                .collect()
        });
        let explicit = d.deserialize_any(Slot {
            state: &mut state,
            depth: 0,
            top: true,
        })?;
        let shape = match explicit {
            Some(shape) => shape,
            None => state.nested_shape().ok_or_else(defer)?,
        };
        if check_shape(self.info, &shape).is_err()
            || element_count(&shape) != Some(state.data.len())
        {
            return Err(defer());
        }
        Ok(Tensor {
            shape,
            data: state.data,
        })
    }
}

/// What has been decoded of one tensor so far.
struct State {
    data: Data,
    /// The length of the arrays at each nesting depth (all must agree).
    lengths: Vec<Option<usize>>,
    /// The depth at which numbers are found (all must agree).
    leaf: Option<usize>,
    max: usize,
    /// For nested arrays: the model's dimensions (`None` where dynamic), when it has a rank.
    model: Option<Vec<Option<usize>>>,
}

impl State {
    fn new(dtype: DType, max: usize, capacity: usize) -> State {
        State {
            data: Data::with_capacity(dtype, capacity),
            lengths: Vec::new(),
            leaf: None,
            max,
            model: None,
        }
    }

    /// The shape of a regular nesting: arrays at depths `0..leaf`, numbers at `leaf`.
    fn nested_shape(&self) -> Option<Vec<usize>> {
        let leaf = self.leaf?;
        if self.lengths.len() != leaf {
            return None;
        }
        self.lengths.iter().copied().collect()
    }

    fn array<'de, A: SeqAccess<'de>>(&mut self, depth: usize, mut seq: A) -> Result<(), A::Error> {
        if self.leaf.is_some_and(|leaf| depth >= leaf)
            || self.model.as_ref().is_some_and(|dims| depth >= dims.len())
        {
            return Err(defer());
        }
        let mut n = 0usize;
        while seq
            .next_element_seed(Slot {
                state: self,
                depth: depth + 1,
                top: false,
            })?
            .is_some()
        {
            n += 1;
        }
        if n == 0 {
            return Err(defer());
        }
        if self.lengths.len() <= depth {
            self.lengths.resize(depth + 1, None);
        }
        match self.lengths[depth] {
            None => {
                if let Some(dims) = &self.model
                    && let Some(Some(want)) = dims.get(depth)
                    && *want != n
                {
                    return Err(defer());
                }
                self.lengths[depth] = Some(n);
            }
            Some(m) if m == n => {}
            Some(_) => return Err(defer()),
        }
        Ok(())
    }

    fn number<E: de::Error>(&mut self, depth: usize, x: Scalar) -> Result<(), E> {
        match self.leaf {
            None if self.model.as_ref().is_some_and(|dims| dims.len() != depth) => {
                return Err(defer());
            }
            None => self.leaf = Some(depth),
            Some(leaf) if leaf == depth => {}
            Some(_) => return Err(defer()),
        }
        self.push(x).ok_or_else(defer)
    }

    /// Appends one element exactly as the `Value` path converts it, or `None`.
    fn push(&mut self, x: Scalar) -> Option<()> {
        if self.data.len() >= self.max {
            return None;
        }
        match &mut self.data {
            Data::Float32(o) => {
                let f = x.float()?;
                let y = f as f32;
                if f.is_finite() && !y.is_finite() {
                    return None;
                }
                o.push(y);
            }
            Data::Float64(o) => o.push(x.float()?),
            Data::Float16(o) => {
                let f = x.float()?;
                let y = f16::from_f64(f);
                if f.is_finite() && !y.is_finite() {
                    return None;
                }
                o.push(y);
            }
            Data::Int64(o) => o.push(x.int()?),
            Data::Int32(o) => o.push(i32::try_from(x.int()?).ok()?),
            Data::Int8(o) => o.push(i8::try_from(x.int()?).ok()?),
            Data::Uint8(o) => o.push(u8::try_from(x.int()?).ok()?),
            Data::Bool(o) => o.push(match x {
                Scalar::Bool(b) => b,
                Scalar::Unsigned(0) => false,
                Scalar::Unsigned(1) => true,
                _ => return None,
            }),
        }
        Some(())
    }
}

/// A JSON scalar as the parser reports it.
#[derive(Clone, Copy)]
enum Scalar {
    Float(f64),
    Signed(i64),
    Unsigned(u64),
    Bool(bool),
    /// `"NaN"`, `"Infinity"`, `"-Infinity"`.
    NonFinite(f64),
}

impl Scalar {
    /// As `serde_json::Number::as_f64` (plus the non-finite strings).
    fn float(self) -> Option<f64> {
        match self {
            Scalar::Float(f) | Scalar::NonFinite(f) => Some(f),
            Scalar::Signed(i) => Some(i as f64),
            Scalar::Unsigned(u) => Some(u as f64),
            Scalar::Bool(_) => None,
        }
    }

    /// An integer literal that fits `i64` (integral floats such as `3.0` defer).
    fn int(self) -> Option<i64> {
        match self {
            Scalar::Signed(i) => Some(i),
            Scalar::Unsigned(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }
}

/// A value at `depth` arrays deep: an array, a number, or (at the top) a tensor object.
/// Yields the shape for an explicit tensor object, `None` otherwise.
struct Slot<'a> {
    state: &'a mut State,
    depth: usize,
    top: bool,
}

impl Slot<'_> {
    /// A number (or boolean) in this slot: never a tensor object, so no shape.
    fn number<E: de::Error>(self, x: Scalar) -> Result<Option<Vec<usize>>, E> {
        self.state.number(self.depth, x).map(|()| None)
    }
}

impl<'de> DeserializeSeed<'de> for Slot<'_> {
    type Value = Option<Vec<usize>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Slot<'_> {
    type Value = Option<Vec<usize>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tensor")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.state.array(self.depth, seq)?;
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if !self.top {
            return Err(defer());
        }
        explicit(self.state, map).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.number(Scalar::Float(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.number(Scalar::Signed(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.number(Scalar::Unsigned(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.number(Scalar::Bool(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let f = match v {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => return Err(defer()),
        };
        self.number(Scalar::NonFinite(f))
    }
}

/// `{"shape":[..],"dtype":"..","data":[..flat..]}` in any key order; returns the shape. The
/// data is decoded as the model's dtype; a `dtype` naming another one defers.
fn explicit<'de, A: MapAccess<'de>>(state: &mut State, mut map: A) -> Result<Vec<usize>, A::Error> {
    // The data is flat: the nesting checks of the model's shape do not apply, but a `shape`
    // given before the data is checked against the model at once.
    let model = state.model.take();
    let (mut shape, mut dtype, mut data) = (None, false, false);
    while let Some(key) = map.next_key::<&'de str>()? {
        match key {
            "shape" if shape.is_none() => {
                let dims = map.next_value_seed(Dims)?;
                if let Some(want) = &model
                    && (want.len() != dims.len()
                        || want
                            .iter()
                            .zip(&dims)
                            .any(|(w, d)| w.is_some_and(|w| w != *d)))
                {
                    return Err(defer());
                }
                // A shape over the limit defers before its data is read; otherwise no more
                // elements than the shape holds.
                let count = element_count(&dims).ok_or_else(defer)?;
                if count > state.max {
                    return Err(defer());
                }
                state.max = count;
                shape = Some(dims);
            }
            "dtype" if !dtype => {
                let name: &'de str = map.next_value()?;
                if DType::from_name(name) != Some(state.data.dtype()) {
                    return Err(defer());
                }
                dtype = true;
            }
            "data" if !data => {
                map.next_value_seed(Flat { state: &mut *state })?;
                data = true;
            }
            _ => return Err(defer()),
        }
    }
    match shape {
        Some(shape) if data => Ok(shape),
        _ => Err(defer()),
    }
}

/// The flat `data` array of an explicit tensor: numbers only.
struct Flat<'a> {
    state: &'a mut State,
}

impl<'de> DeserializeSeed<'de> for Flat<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Flat<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a flat array of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // With `top: false` a slot refuses tensor objects, so it never yields a shape.
        while seq
            .next_element_seed(Slot {
                state: &mut *self.state,
                depth: 1,
                top: false,
            })?
            .is_some()
        {}
        // A nested array inside `data` sets `lengths[1]`: `data` must be flat.
        if self.state.lengths.len() > 1 {
            return Err(defer());
        }
        Ok(())
    }
}

/// The most dimensions the fast path reads from an explicit `shape` (more defer).
const MAX_DIMS: usize = 64;

/// An explicit tensor's `shape`: a short array of dimensions.
struct Dims;

impl<'de> DeserializeSeed<'de> for Dims {
    type Value = Vec<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<usize>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Dims {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a shape")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<usize>, A::Error> {
        let mut dims = Vec::new();
        while let Some(d) = seq.next_element::<u64>()? {
            if dims.len() == MAX_DIMS {
                return Err(defer());
            }
            dims.push(usize::try_from(d).map_err(|_| defer())?);
        }
        Ok(dims)
    }
}
