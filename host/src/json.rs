//! CBOR → JSON, for showing manifest values (annotations, unknown keys) as JSON.
//!
//! JSON cannot hold everything CBOR can, so a few values get a tagged object whose single
//! key starts with `$` (documented in `docs/inspect-json.md`):
//!
//! | CBOR | JSON |
//! |---|---|
//! | byte string | `{"$bytes": "<lower-case hex>"}` |
//! | integer outside `i64`/`u64` | `{"$int": "<decimal>"}` |
//! | NaN / ±infinity | `{"$float": "NaN" \| "Infinity" \| "-Infinity"}` |
//! | tag N | `{"$tag": N, "value": …}` |
//! | map with a non-text key, a duplicate key, or a key starting with `$` | `{"$map": [[key, value], …]}` |
//!
//! Every other map becomes a JSON object with its keys in CBOR order, so a JSON object
//! with a `$`-key is always one of the forms above and never a manifest map.

use ciborium::Value;
use serde_json::{Map, Value as Json};

/// Converts a CBOR value to JSON (see the module docs for the non-JSON cases).
pub fn cbor_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Text(s) => Json::String(s.clone()),
        Value::Bytes(b) => tagged("$bytes", Json::String(hex::encode(b))),
        Value::Integer(i) => {
            let i = i128::from(*i);
            if let Ok(v) = i64::try_from(i) {
                Json::from(v)
            } else if let Ok(v) = u64::try_from(i) {
                Json::from(v)
            } else {
                tagged("$int", Json::String(i.to_string()))
            }
        }
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => {
                let s = if f.is_nan() {
                    "NaN"
                } else if *f > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                tagged("$float", Json::String(s.into()))
            }
        },
        Value::Tag(tag, inner) => {
            let mut m = Map::new();
            m.insert("$tag".into(), Json::from(*tag));
            m.insert("value".into(), cbor_to_json(inner));
            Json::Object(m)
        }
        Value::Array(items) => Json::Array(items.iter().map(cbor_to_json).collect()),
        Value::Map(entries) => map_to_json(entries),
        // `ciborium::Value` is non-exhaustive; show anything new as its debug form
        // rather than dropping it.
        other => tagged("$unknown", Json::String(format!("{other:?}"))),
    }
}

fn map_to_json(entries: &[(Value, Value)]) -> Json {
    let mut object = Map::with_capacity(entries.len());
    for (k, v) in entries {
        match k {
            Value::Text(key) if !key.starts_with('$') && !object.contains_key(key) => {
                object.insert(key.clone(), cbor_to_json(v));
            }
            _ => {
                let pairs = entries
                    .iter()
                    .map(|(k, v)| Json::Array(vec![cbor_to_json(k), cbor_to_json(v)]))
                    .collect();
                return tagged("$map", Json::Array(pairs));
            }
        }
    }
    Json::Object(object)
}

fn tagged(key: &str, value: Json) -> Json {
    let mut m = Map::with_capacity(1);
    m.insert(key.into(), value);
    Json::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn plain_values_map_directly() {
        let v = Value::Map(vec![
            (t("b"), Value::Bool(true)),
            (
                t("a"),
                Value::Array(vec![Value::Integer(1.into()), Value::Null]),
            ),
            (t("f"), Value::Float(1.5)),
            (t("neg"), Value::Integer((-7).into())),
            (t("big"), Value::Integer(u64::MAX.into())),
        ]);
        let j = cbor_to_json(&v);
        assert_eq!(
            j,
            json!({"b": true, "a": [1, null], "f": 1.5, "neg": -7, "big": u64::MAX})
        );
        // Key order is the CBOR order.
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a", "f", "neg", "big"]);
    }

    #[test]
    fn non_json_values_are_tagged() {
        assert_eq!(
            cbor_to_json(&Value::Bytes(vec![0xde, 0xad])),
            json!({"$bytes": "dead"})
        );
        let min = ciborium::value::Integer::try_from(-(1i128 << 64)).unwrap();
        assert_eq!(
            cbor_to_json(&Value::Integer(min)),
            json!({"$int": "-18446744073709551616"})
        );
        assert_eq!(
            cbor_to_json(&Value::Float(f64::NEG_INFINITY)),
            json!({"$float": "-Infinity"})
        );
        assert_eq!(
            cbor_to_json(&Value::Float(f64::NAN)),
            json!({"$float": "NaN"})
        );
        assert_eq!(
            cbor_to_json(&Value::Tag(42, Box::new(t("x")))),
            json!({"$tag": 42, "value": "x"})
        );
    }

    #[test]
    fn odd_maps_become_pair_lists() {
        let int_key = Value::Map(vec![(Value::Integer(1.into()), t("one"))]);
        assert_eq!(cbor_to_json(&int_key), json!({"$map": [[1, "one"]]}));
        let dup = Value::Map(vec![(t("a"), t("x")), (t("a"), t("y"))]);
        assert_eq!(
            cbor_to_json(&dup),
            json!({"$map": [["a", "x"], ["a", "y"]]})
        );
        let dollar = Value::Map(vec![(t("$bytes"), t("not bytes"))]);
        assert_eq!(
            cbor_to_json(&dollar),
            json!({"$map": [["$bytes", "not bytes"]]})
        );
    }
}
