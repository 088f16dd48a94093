//! The harness of the `infer_request` fuzz target (fuzz/fuzz_targets/infer_request.rs),
//! public so that the committed seeds and corpus replay on stable Rust in the normal tests
//! (`tests/fuzz_corpus.rs`). It needs no backend: the request codec has none.

use crate::codec::{self, DType, Dim, Signature, Tensor, TensorInfo};

fn input(name: &str, dtype: DType, shape: Option<&[Option<usize>]>) -> TensorInfo {
    TensorInfo {
        name: name.into(),
        dtype,
        shape: shape.map(|dims| {
            dims.iter()
                .map(|d| d.map_or_else(|| Dim::Dynamic("N".into()), Dim::Fixed))
                .collect()
        }),
    }
}

/// The model signatures a fuzz input can pick (its first byte, modulo their number).
fn signature(selector: u8) -> Signature {
    let inputs = match selector % 6 {
        0 => vec![input("x", DType::Float32, Some(&[None, Some(4)]))],
        1 => vec![
            input("ids", DType::Int64, Some(&[None])),
            input("mask", DType::Bool, Some(&[None])),
        ],
        2 => vec![input("x", DType::Float64, Some(&[]))],
        3 => vec![input("x", DType::Uint8, None)],
        4 => vec![input("x", DType::Float16, Some(&[Some(2), None, Some(3)]))],
        _ => vec![
            input("a", DType::Int8, Some(&[None])),
            input("b", DType::Int32, Some(&[Some(2)])),
        ],
    };
    Signature {
        inputs,
        outputs: Vec::new(),
    }
}

/// Decodes `data[1..]` as a request for the model `data[0]` picks, with the memory limit
/// the second byte picks, and panics where the codec contradicts itself: a request decoded
/// that does not fit the model or the limit, the fast path and the exact path disagreeing,
/// or a decoded request whose response does not decode back to the same tensors.
pub fn exercise(data: &[u8]) {
    let [selector, limit_selector, request @ ..] = data else {
        return;
    };
    let sig = signature(*selector);
    let limit = match limit_selector % 3 {
        0 => None,
        1 => Some(64),
        _ => Some(1 << 16),
    };
    let decoded = codec::decode_request(request, &sig, limit);
    if !request.starts_with(b"\x93NUMPY") {
        // The fast path's answer, when it gives one, is the exact path's.
        let exact = codec::exact::decode(request, &sig, limit);
        if let Some(fast) = codec::fast::decode(request, &sig, limit) {
            assert_eq!(
                format!("{:?}", Ok::<_, crate::Error>(fast)),
                format!("{exact:?}"),
                "fast and exact paths disagree"
            );
        }
        assert_eq!(format!("{decoded:?}"), format!("{exact:?}"));
    }
    let Ok(tensors) = decoded else {
        return;
    };
    assert_eq!(tensors.len(), sig.inputs.len());
    let mut total = 0u64;
    for (t, info) in tensors.iter().zip(&sig.inputs) {
        assert_eq!(t.dtype(), info.dtype, "input {}", info.name);
        assert!(codec::check_shape(info, &t.shape).is_ok(), "{t:?}");
        assert_eq!(
            t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)),
            Some(t.data.len())
        );
        total += (t.data.len() * info.dtype.size()) as u64;
    }
    assert!(
        limit.is_none_or(|l| total <= l),
        "{total} bytes over {limit:?}"
    );
    // The response form of the tensors is itself a request for the same tensors.
    let named: Vec<(&str, &Tensor)> = sig
        .inputs
        .iter()
        .map(|i| i.name.as_str())
        .zip(&tensors)
        .collect();
    let mut response = Vec::new();
    if codec::write_response(&mut response, &named).is_err() {
        panic!("writing a response to memory failed");
    }
    // `{"outputs":{…}}\n` → the inner object.
    let inner = response
        .strip_prefix(b"{\"outputs\":")
        .and_then(|r| r.strip_suffix(b"}\n"));
    let Some(inner) = inner else {
        panic!("unexpected response form");
    };
    let again = codec::decode_request(inner, &sig, None);
    assert_eq!(
        format!("{again:?}"),
        format!("{:?}", Ok::<_, crate::Error>(tensors)),
        "a response does not decode back to its tensors"
    );
}
