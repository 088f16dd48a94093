//! A fast path for decoding the index and the manifest: a direct CBOR reader for the subset
//! Wasmer's writer produces (definite lengths; integers, byte and text strings, arrays,
//! maps, booleans, null, f32/f64). Anything else — indefinite lengths, tags, other simple
//! values, half floats, invalid UTF-8, truncation, deep nesting — makes it give up, and the
//! caller falls back to ciborium, which then decides (and reports errors). So for every
//! input the result is exactly ciborium's; this only skips serde's visitor machinery, which
//! dominated the cost of opening a container. [`Reader`] also reads item by item (map and
//! array heads, borrowed text), so the index and the manifest decode straight into their
//! typed structures with no `Value` tree in between.

use ciborium::Value;
use ciborium::value::Integer;

/// Nesting deeper than this goes to ciborium (whose limit the caller sets).
pub(crate) const MAX_DEPTH: usize = 64;

/// Decodes one item from the front of `bytes`: `Some((value, bytes used))`, or `None` when
/// the input is outside the fast subset (including any malformed input).
pub(crate) fn decode(bytes: &[u8]) -> Option<(Value, usize)> {
    let mut r = Reader::new(bytes);
    let v = r.value(0)?;
    Some((v, r.pos))
}

/// Reads the fast subset item by item. Every method returns `None` (and may have consumed
/// part of the input) when what is there is not what was asked for, or outside the subset.
/// Depths follow [`decode`]'s: an item nested deeper than `MAX_DEPTH` is declined.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    /// The next head byte, not consumed.
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The major type of the next item, not consumed.
    pub(crate) fn peek_major(&self) -> Option<u8> {
        self.peek().map(|h| h >> 5)
    }

    /// Consumes a `null` if one is next.
    pub(crate) fn null(&mut self) -> bool {
        let null = self.peek() == Some(0xf6);
        if null {
            self.pos += 1;
        }
        null
    }

    /// A definite-length item of major type `major`: its length (checked to fit the input).
    fn sized(&mut self, major: u8) -> Option<usize> {
        let head = self.peek()?;
        if head >> 5 != major {
            return None;
        }
        self.pos += 1;
        self.len(head & 0x1f)
    }

    /// A map head: the number of entries.
    pub(crate) fn map(&mut self, depth: usize) -> Option<usize> {
        (depth <= MAX_DEPTH).then_some(())?;
        self.sized(5)
    }

    /// An array head: the number of items.
    pub(crate) fn array(&mut self, depth: usize) -> Option<usize> {
        (depth <= MAX_DEPTH).then_some(())?;
        self.sized(4)
    }

    /// A text string, borrowed.
    pub(crate) fn text(&mut self, depth: usize) -> Option<&'a str> {
        (depth <= MAX_DEPTH).then_some(())?;
        let n = self.sized(3)?;
        utf8(self.take(n)?)
    }

    /// A text string if one is next (consumed only then).
    pub(crate) fn peek_text(&mut self, depth: usize) -> Option<&'a str> {
        let at = self.pos;
        let text = self.text(depth);
        if text.is_none() {
            self.pos = at;
        }
        text
    }

    /// A byte string, borrowed.
    pub(crate) fn bytes(&mut self, depth: usize) -> Option<&'a [u8]> {
        (depth <= MAX_DEPTH).then_some(())?;
        let n = self.sized(2)?;
        self.take(n)
    }

    /// An unsigned integer.
    pub(crate) fn uint(&mut self, depth: usize) -> Option<u64> {
        (depth <= MAX_DEPTH).then_some(())?;
        let head = self.peek()?;
        if head >> 5 != 0 {
            return None;
        }
        self.pos += 1;
        self.argument(head & 0x1f)
    }

    /// A boolean.
    pub(crate) fn bool(&mut self, depth: usize) -> Option<bool> {
        (depth <= MAX_DEPTH).then_some(())?;
        let b = match self.peek()? {
            0xf4 => false,
            0xf5 => true,
            _ => return None,
        };
        self.pos += 1;
        Some(b)
    }

    /// The argument of a head byte (`info` = its low 5 bits); `None` for indefinite/reserved.
    fn argument(&mut self, info: u8) -> Option<u64> {
        Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        })
    }

    /// A length that must fit in what is left (so no allocation exceeds the input).
    fn len(&mut self, info: u8) -> Option<usize> {
        let n = usize::try_from(self.argument(info)?).ok()?;
        (n <= self.bytes.len() - self.pos).then_some(n)
    }

    /// Any item of the subset, as a `Value`.
    pub(crate) fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let head = *self.bytes.get(self.pos)?;
        self.pos += 1;
        let (major, info) = (head >> 5, head & 0x1f);
        Some(match major {
            0 => Value::Integer(Integer::from(self.argument(info)?)),
            1 => {
                let n = self.argument(info)?;
                Value::Integer(Integer::try_from(-1i128 - i128::from(n)).ok()?)
            }
            2 => {
                let n = self.len(info)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            3 => {
                let n = self.len(info)?;
                Value::Text(utf8(self.take(n)?)?.to_owned())
            }
            4 => {
                let n = self.len(info)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let n = self.len(info)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.value(depth + 1)?;
                    let v = self.value(depth + 1)?;
                    entries.push((k, v));
                }
                Value::Map(entries)
            }
            7 => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                26 => Value::Float(f64::from(f32::from_be_bytes(
                    self.take(4)?.try_into().ok()?,
                ))),
                27 => Value::Float(f64::from_be_bytes(self.take(8)?.try_into().ok()?)),
                _ => return None,
            },
            // Tags (ciborium turns some into integers) and anything else: not here.
            _ => return None,
        })
    }
}

/// `bytes` as UTF-8, checked word by word first: names, keys and URLs are ASCII, and
/// `from_utf8`'s general validation cost more than the rest of decoding them.
fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ciborium_decode(bytes: &[u8]) -> Option<(Value, usize)> {
        let mut r = bytes;
        let v: Value = ciborium::de::from_reader_with_recursion_limit(&mut r, 64).ok()?;
        Some((v, bytes.len() - r.len()))
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(|n| Value::Integer(n.into())),
            any::<i64>().prop_map(|n| Value::Integer(n.into())),
            any::<f64>().prop_map(Value::Float),
            any::<f32>().prop_map(|f| Value::Float(f64::from(f))),
            ".{0,40}".prop_map(Value::Text),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((inner.clone(), inner), 0..8).prop_map(Value::Map),
            ]
        })
    }

    proptest! {
        /// Whatever ciborium wrote, the fast path decodes to what ciborium reads — or declines.
        #[test]
        fn agrees_with_ciborium_on_encoded_values(v in value(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut bytes = Vec::new();
            ciborium::into_writer(&v, &mut bytes).unwrap();
            bytes.extend(tail);
            let slow = ciborium_decode(&bytes);
            if let Some(fast) = decode(&bytes) {
                prop_assert_eq!(Some(fast), slow);
            }
        }

        /// On arbitrary bytes it never disagrees with ciborium when it answers.
        #[test]
        fn agrees_with_ciborium_on_noise(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(fast) = decode(&bytes) {
                prop_assert_eq!(Some(fast), ciborium_decode(&bytes));
            }
        }
    }

    #[test]
    fn declines_what_it_does_not_model() {
        for bytes in [
            &[0x9f, 0xff][..],
            &[0xc2, 0x41, 0x01],
            &[0xf7],
            &[0xf9, 0x3c, 0x00],
            &[0x62, 0xff, 0xfe],
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert_eq!(decode(bytes), None, "{bytes:x?}");
        }
        let deep = [vec![0x81; 100], vec![0x00]].concat();
        assert_eq!(decode(&deep), None);
    }
}
