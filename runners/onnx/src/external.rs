//! Refuses ONNX models that refer to external tensor data, by walking the model's protobuf
//! (ModelProto → graphs, nodes, attributes, subgraphs, functions → every TensorProto). A model
//! is one atom; a backend resolving external data would read files of the host (relative to
//! its working directory for a model given from memory).

/// Protobuf field numbers (onnx.proto3).
mod field {
    pub const MODEL_GRAPH: u32 = 7;
    pub const MODEL_FUNCTIONS: u32 = 25;
    pub const GRAPH_NODE: u32 = 1;
    pub const GRAPH_INITIALIZER: u32 = 5;
    pub const GRAPH_SPARSE_INITIALIZER: u32 = 15;
    pub const NODE_ATTRIBUTE: u32 = 5;
    pub const ATTR_T: u32 = 5;
    pub const ATTR_G: u32 = 6;
    pub const ATTR_TENSORS: u32 = 10;
    pub const ATTR_GRAPHS: u32 = 11;
    pub const ATTR_SPARSE_TENSOR: u32 = 22;
    pub const ATTR_SPARSE_TENSORS: u32 = 23;
    pub const SPARSE_VALUES: u32 = 1;
    pub const SPARSE_INDICES: u32 = 2;
    pub const TENSOR_NAME: u32 = 8;
    pub const TENSOR_EXTERNAL_DATA: u32 = 13;
    pub const TENSOR_DATA_LOCATION: u32 = 14;
    pub const FUNCTION_NODE: u32 = 7;
}

const MAX_DEPTH: usize = 64;

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn varint(b: &[u8], i: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i).ok_or("truncated protobuf")?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("bad protobuf varint".into())
}

/// The fields of one protobuf message.
fn fields(b: &[u8]) -> Result<Vec<(u32, Wire<'_>)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let num = u32::try_from(key >> 3).map_err(|_| "bad protobuf field number")?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(b, &mut i)?),
            1 | 5 => {
                i += if key & 7 == 1 { 8 } else { 4 };
                if i > b.len() {
                    return Err("truncated protobuf".into());
                }
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).map_err(|_| "bad protobuf length")?;
                let end = i
                    .checked_add(len)
                    .filter(|&e| e <= b.len())
                    .ok_or("truncated protobuf")?;
                let bytes = &b[i..end];
                i = end;
                Wire::Bytes(bytes)
            }
            w => return Err(format!("unsupported protobuf wire type {w}")),
        };
        out.push((num, wire));
    }
    Ok(out)
}

fn sub(b: &[u8], depth: usize, want: &[(u32, Kind)]) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("the model is nested too deeply".into());
    }
    for (num, wire) in fields(b)? {
        let Wire::Bytes(bytes) = wire else { continue };
        if let Some((_, kind)) = want.iter().find(|(n, _)| *n == num) {
            kind.check(bytes, depth + 1)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Graph,
    Node,
    Attribute,
    Sparse,
    Tensor,
    Function,
}

impl Kind {
    fn check(self, b: &[u8], depth: usize) -> Result<(), String> {
        use field::*;
        match self {
            Kind::Graph => sub(
                b,
                depth,
                &[
                    (GRAPH_NODE, Kind::Node),
                    (GRAPH_INITIALIZER, Kind::Tensor),
                    (GRAPH_SPARSE_INITIALIZER, Kind::Sparse),
                ],
            ),
            Kind::Node => sub(b, depth, &[(NODE_ATTRIBUTE, Kind::Attribute)]),
            Kind::Function => sub(b, depth, &[(FUNCTION_NODE, Kind::Node)]),
            Kind::Attribute => sub(
                b,
                depth,
                &[
                    (ATTR_T, Kind::Tensor),
                    (ATTR_G, Kind::Graph),
                    (ATTR_TENSORS, Kind::Tensor),
                    (ATTR_GRAPHS, Kind::Graph),
                    (ATTR_SPARSE_TENSOR, Kind::Sparse),
                    (ATTR_SPARSE_TENSORS, Kind::Sparse),
                ],
            ),
            Kind::Sparse => sub(
                b,
                depth,
                &[
                    (SPARSE_VALUES, Kind::Tensor),
                    (SPARSE_INDICES, Kind::Tensor),
                ],
            ),
            Kind::Tensor => {
                let fields = fields(b)?;
                let external = fields.iter().any(|(n, w)| {
                    *n == TENSOR_EXTERNAL_DATA
                        || (*n == TENSOR_DATA_LOCATION && matches!(w, Wire::Varint(v) if *v != 0))
                });
                if external {
                    let name = fields
                        .iter()
                        .find_map(|(n, w)| match w {
                            Wire::Bytes(b) if *n == TENSOR_NAME => {
                                Some(String::from_utf8_lossy(b).into_owned())
                            }
                            _ => None,
                        })
                        .unwrap_or_default();
                    return Err(format!(
                        "tensor `{name}` refers to external tensor data; only self-contained models are supported"
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Checks that the model (ONNX ModelProto bytes) has no external tensor data.
pub(crate) fn check_self_contained(model: &[u8]) -> Result<(), String> {
    sub(
        model,
        0,
        &[
            (field::MODEL_GRAPH, Kind::Graph),
            (field::MODEL_FUNCTIONS, Kind::Function),
        ],
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::check_self_contained;

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // graph { node { attribute { g { node { attribute { g … } } } } } }
        let wrap = |num: u8, inner: Vec<u8>| {
            let mut out = vec![num << 3 | 2];
            let mut len = inner.len();
            loop {
                let b = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
            out.extend(inner);
            out
        };
        let mut graph = Vec::new();
        for _ in 0..200 {
            graph = wrap(6, graph); // attribute.g
            graph = wrap(5, graph); // node.attribute
            graph = wrap(1, graph); // graph.node
        }
        let model = wrap(7, graph);
        let e = check_self_contained(&model).unwrap_err();
        assert!(e.contains("nested too deeply"), "{e}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = check_self_contained(&b);
        }
    }
}
