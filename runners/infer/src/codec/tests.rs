use proptest::prelude::*;

use super::*;

fn info(name: &str, dtype: DType, shape: &[Option<usize>]) -> TensorInfo {
    TensorInfo {
        name: name.into(),
        dtype,
        shape: Some(
            shape
                .iter()
                .map(|d| match d {
                    Some(n) => Dim::Fixed(*n),
                    None => Dim::Dynamic("N".into()),
                })
                .collect(),
        ),
    }
}

fn mlp() -> Signature {
    Signature {
        inputs: vec![info("x", DType::Float32, &[None, Some(4)])],
        outputs: vec![info("probs", DType::Float32, &[None, Some(3)])],
    }
}

fn two() -> Signature {
    Signature {
        inputs: vec![
            info("ids", DType::Int64, &[None]),
            info("mask", DType::Bool, &[None]),
        ],
        outputs: vec![],
    }
}

fn decode(sig: &Signature, json: &str) -> Result<Vec<Tensor>, Error> {
    decode_request(json.as_bytes(), sig, None)
}

fn err(sig: &Signature, json: &str) -> String {
    match decode(sig, json) {
        Ok(t) => panic!("expected an error for {json}, got {t:?}"),
        Err(Error::Request(m)) => m,
        Err(e) => panic!("expected a request error, got {e:?}"),
    }
}

#[test]
fn nested_and_explicit_forms_agree() {
    let a = decode(&mlp(), r#"{"x": [[1, 2, 3, 4], [5, 6, 7, "NaN"]]}"#).unwrap();
    let b = decode(
        &mlp(),
        r#"{"x": {"shape": [2, 4], "dtype": "float32", "data": [1, 2, 3, 4, 5, 6, 7, "NaN"]}}"#,
    )
    .unwrap();
    assert_eq!(a[0].shape, vec![2, 4]);
    let (Data::Float32(da), Data::Float32(db)) = (&a[0].data, &b[0].data) else {
        panic!("not float32");
    };
    assert_eq!(&da[..7], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    assert!(da[7].is_nan() && db[7].is_nan());
    assert_eq!(&da[..7], &db[..7]);
}

#[test]
fn inputs_come_back_in_model_order() {
    let t = decode(
        &two(),
        r#"{"mask": [true, false, 1], "ids": [1, -2, 9007199254740993]}"#,
    )
    .unwrap();
    assert_eq!(t[0].data, Data::Int64(vec![1, -2, 9007199254740993]));
    assert_eq!(t[1].data, Data::Bool(vec![true, false, true]));
}

#[test]
fn errors_name_the_input_and_path() {
    let m = mlp();
    assert!(err(&m, r#"{"x": [[1,2,3,4]], "y": 1}"#).contains("unknown input `y`"));
    assert!(err(&m, "{}").contains("missing input `x`"));
    assert!(err(&m, r#"{"x": [1,2,3,4]}"#).contains("expected rank 2"));
    assert!(err(&m, r#"{"x": [[1,2,3]]}"#).contains("dimension 1 must be 4"));
    let e = err(&m, r#"{"x": [[1,2,3,4],[1,2,3]]}"#);
    assert!(e.contains("x[1]") && e.contains("ragged"), "{e}");
    let e = err(&m, r#"{"x": [[1,2,3,4],[1,2,[3],4]]}"#);
    assert!(e.contains("x[1][2]") && e.contains("found an array"), "{e}");
    let e = err(&m, r#"{"x": [[1,2,3,4],[1,2,"a",4]]}"#);
    assert!(
        e.contains("x[1][2]") && e.contains("expected a number"),
        "{e}"
    );
    let e = err(&m, r#"{"x": [[1,2,3,4],[1,2,null,4]]}"#);
    assert!(e.contains("x[1][2]") && e.contains("null"), "{e}");
    let e = err(&m, r#"{"x": [[1,2,3,4],[1,2,1e300,4]]}"#);
    assert!(e.contains("out of range for float32"), "{e}");
    let e = err(
        &m,
        r#"{"x": {"shape":[1,4],"dtype":"int64","data":[1,2,3,4]}}"#,
    );
    assert!(
        e.contains("wrong dtype int64") && e.contains("float32"),
        "{e}"
    );
    let e = err(
        &m,
        r#"{"x": {"shape":[1,4],"dtype":"complex","data":[1,2,3,4]}}"#,
    );
    assert!(e.contains("unknown dtype"), "{e}");
    let e = err(&m, r#"{"x": {"shape":[2,4],"data":[1,2,3,4]}}"#);
    assert!(e.contains("needs 8 elements, data has 4"), "{e}");
    let e = err(&m, r#"{"x": {"shape":[1,4],"data":[1,2,3,true]}}"#);
    assert!(e.contains("x.data[3]"), "{e}");
    let e = err(&m, r#"{"x": {"shape":[1,4],"data":[1,2,3,4],"extra":1}}"#);
    assert!(e.contains("unknown key `extra`"), "{e}");
    assert!(err(&m, "[1]").contains("must be a JSON object"));
    assert!(err(&m, "{").contains("not valid JSON"));
}

#[test]
fn integer_and_bool_rules() {
    let t = two();
    let e = err(&t, r#"{"ids": [1, "NaN"], "mask": [true, true]}"#);
    assert!(
        e.contains("ids[1]") && e.contains("NaN is not allowed for int64"),
        "{e}"
    );
    let e = err(&t, r#"{"ids": [1.5], "mask": [true]}"#);
    assert!(e.contains("not an integer"), "{e}");
    let e = err(&t, r#"{"ids": [18446744073709551615], "mask": [true]}"#);
    assert!(e.contains("out of range for int64"), "{e}");
    let e = err(&t, r#"{"ids": [1e19], "mask": [true]}"#);
    assert!(e.contains("out of range for int64"), "{e}");
    let e = err(&t, r#"{"ids": [1], "mask": [2]}"#);
    assert!(
        e.contains("mask[0]") && e.contains("expected true, false, 0 or 1"),
        "{e}"
    );
    let e = err(&t, r#"{"ids": [1], "mask": ["Infinity"]}"#);
    assert!(e.contains("not allowed for bool"), "{e}");
    // Integral floats are integers.
    assert_eq!(
        decode(&t, r#"{"ids": [3.0, -1e3], "mask": [0]}"#).unwrap()[0].data,
        Data::Int64(vec![3, -1000])
    );
    let small = Signature {
        inputs: vec![
            info("a", DType::Uint8, &[Some(1)]),
            info("b", DType::Int8, &[Some(1)]),
            info("c", DType::Int32, &[Some(1)]),
        ],
        outputs: vec![],
    };
    assert!(
        err(&small, r#"{"a":[256],"b":[0],"c":[0]}"#)
            .contains("256 is out of range for uint8 (0..=255)")
    );
    assert!(err(&small, r#"{"a":[-1],"b":[0],"c":[0]}"#).contains("out of range for uint8"));
    assert!(err(&small, r#"{"a":[0],"b":[-129],"c":[0]}"#).contains("out of range for int8"));
    assert!(
        err(&small, r#"{"a":[0],"b":[0],"c":[2147483648]}"#).contains("out of range for int32")
    );
    let ok = decode(&small, r#"{"a":[255],"b":[-128],"c":[-2147483648]}"#).unwrap();
    assert_eq!(ok[2].data, Data::Int32(vec![i32::MIN]));
}

#[test]
fn memory_limit_refuses_big_requests() {
    let m = mlp();
    let body = r#"{"x": [[1,2,3,4],[1,2,3,4]]}"#;
    // 8 float32 = 32 bytes.
    assert!(decode_request(body.as_bytes(), &m, Some(32)).is_ok());
    let e = decode_request(body.as_bytes(), &m, Some(31))
        .unwrap_err()
        .to_string();
    assert!(e.contains("memory limit of 31 bytes"), "{e}");
    let e = decode_request(
        br#"{"x": {"shape":[1000000000000, 4], "data":[]}}"#,
        &m,
        Some(1 << 20),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("memory limit"), "{e}");
    let e = read_limited(&mut &b"0123456789"[..], Some(9))
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than the memory limit of 9 bytes"), "{e}");
    assert_eq!(
        read_limited(&mut &b"0123456789"[..], Some(10))
            .unwrap()
            .len(),
        10
    );
}

fn npy(version: u8, descr: &str, fortran: bool, shape: &str, body: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let prefix = if version == 1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(body);
    out
}

#[test]
fn npy_versions_and_errors() {
    let m = mlp();
    let body: Vec<u8> = (0..8).flat_map(|i| (i as f32).to_le_bytes()).collect();
    for v in [1, 2, 3] {
        let t = decode_request(&npy(v, "<f4", false, "(2, 4)", &body), &m, None).unwrap();
        assert_eq!(t[0].shape, vec![2, 4]);
        assert_eq!(t[0].data, Data::Float32((0..8).map(|i| i as f32).collect()));
    }
    let e = |b: Vec<u8>| decode_request(&b, &m, None).unwrap_err().to_string();
    assert!(e(npy(1, "<f4", true, "(2, 4)", &body)).contains("fortran_order"));
    assert!(e(npy(1, ">f4", false, "(2, 4)", &body)).contains("big-endian"));
    assert!(e(npy(1, "<f8", false, "(1, 4)", &body[..32])).contains("wrong dtype float64"));
    assert!(e(npy(1, "<f4", false, "(2, 4)", &body[..31])).contains("needs 32 bytes"));
    assert!(e(npy(1, "<f4", false, "(8,)", &body)).contains("expected rank 2"));
    assert!(e(npy(1, "<c8", false, "(2, 4)", &body)).contains("unsupported dtype"));
    assert!(e(npy(9, "<f4", false, "(2, 4)", &body)).contains("version 9"));
    assert!(e(b"\x93NUMPY\x01\x00\xff\xff{".to_vec()).contains("runs past the end"));
    let e2 = decode_request(&npy(1, "<i8", false, "(2,)", &[0; 16]), &two(), None)
        .unwrap_err()
        .to_string();
    assert!(e2.contains("has 2 inputs"), "{e2}");
    let scalar = Signature {
        inputs: vec![info("flag", DType::Bool, &[Some(3)])],
        outputs: vec![],
    };
    assert!(decode_request(&npy(1, "|b1", false, "(3,)", &[1, 0, 1]), &scalar, None).is_ok());
    let e3 = decode_request(&npy(1, "|b1", false, "(3,)", &[1, 0, 7]), &scalar, None)
        .unwrap_err()
        .to_string();
    assert!(e3.contains("not 0 or 1"), "{e3}");
    let e4 = decode_request(&npy(1, "<f4", false, "(2, 4)", &body), &m, Some(16))
        .unwrap_err()
        .to_string();
    assert!(e4.contains("memory limit"), "{e4}");
}

#[test]
fn response_format() {
    let t = Tensor::new(
        vec![1, 4],
        Data::Float32(vec![0.1, f32::NAN, f32::INFINITY, -f32::INFINITY]),
    )
    .unwrap();
    let b = Tensor::new(vec![2], Data::Bool(vec![true, false])).unwrap();
    let h = Tensor::new(vec![1], Data::Float16(vec![half::f16::from_f32(0.5)])).unwrap();
    let mut out = Vec::new();
    write_response(&mut out, &[("z", &t), ("a", &b), ("h", &h)]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"outputs\":{\"z\":{\"shape\":[1,4],\"dtype\":\"float32\",\"data\":[0.1,\"NaN\",\"Infinity\",\"-Infinity\"]},\
         \"a\":{\"shape\":[2],\"dtype\":\"bool\",\"data\":[true,false]},\
         \"h\":{\"shape\":[1],\"dtype\":\"float16\",\"data\":[0.5]}}}\n"
    );
    assert!(Tensor::new(vec![2, 2], Data::Int8(vec![1])).is_err());
}

#[test]
fn response_round_trips_through_the_request_decoder() {
    let sig = Signature {
        inputs: vec![info("y", DType::Float64, &[None, Some(2)])],
        outputs: vec![],
    };
    let t = Tensor::new(
        vec![2, 2],
        Data::Float64(vec![1e-300, f64::NAN, -0.0, 1.7976931348623157e308]),
    )
    .unwrap();
    let mut out = Vec::new();
    write_response(&mut out, &[("y", &t)]).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let back = decode_json_request(
        serde_json::json!({"y": v["outputs"]["y"].clone()}),
        &sig,
        None,
    );
    // The response carries `dtype` and `shape`: it is a valid explicit-form request.
    let back = back.unwrap();
    let (Data::Float64(a), Data::Float64(b)) = (&t.data, &back[0].data) else {
        panic!()
    };
    assert!(
        a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    );
}

#[test]
fn describe_lists_names_dtypes_shapes() {
    let d = describe(&mlp());
    assert_eq!(
        d,
        serde_json::json!({
            "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
            "outputs": [{"name": "probs", "dtype": "float32", "shape": ["N", 3]}],
        })
    );
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        prop_oneof![
            Just("NaN"),
            Just("Infinity"),
            Just("x"),
            Just("float32"),
            Just("shape")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("x"),
                        Just("shape"),
                        Just("dtype"),
                        Just("data"),
                        Just("ids"),
                        Just("mask")
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics(v in any_json()) {
        for sig in [mlp(), two()] {
            let _ = decode_json_request(v.clone(), &sig, Some(1 << 16));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_request(&b, &mlp(), Some(1 << 16));
        let mut with_magic = b"\x93NUMPY".to_vec();
        with_magic.extend(&b);
        let _ = decode_request(&with_magic, &mlp(), Some(1 << 16));
    }

    #[test]
    fn mutated_npy_never_panics(i in 0usize..128, byte in any::<u8>(), cut in 0usize..128) {
        let body: Vec<u8> = (0..8).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let mut b = npy(1, "<f4", false, "(2, 4)", &body);
        let n = b.len();
        b[i % n] = byte;
        b.truncate(n - cut.min(n));
        let _ = decode_request(&b, &mlp(), Some(1 << 16));
    }

    #[test]
    fn float_data_round_trips(data in prop::collection::vec(any::<f32>(), 1..20)) {
        let sig = Signature { inputs: vec![info("x", DType::Float32, &[None])], outputs: vec![] };
        let t = Tensor::new(vec![data.len()], Data::Float32(data.clone())).unwrap();
        let mut out = Vec::new();
        write_response(&mut out, &[("x", &t)]).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let back = decode_json_request(serde_json::json!({"x": v["outputs"]["x"]["data"].clone()}), &sig, None).unwrap();
        let Data::Float32(b) = &back[0].data else { panic!() };
        for (x, y) in data.iter().zip(b) {
            prop_assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
        }
    }
}

/// One input `x` of `dtype` and any shape.
fn any_shape(dtype: DType) -> Signature {
    Signature {
        inputs: vec![TensorInfo {
            name: "x".into(),
            dtype,
            shape: None,
        }],
        outputs: vec![],
    }
}

/// The fast path's answer, which must be the `Value` path's whenever it gives one.
fn fast_agrees(bytes: &[u8], sig: &Signature, limit: Option<u64>) -> Option<Vec<Tensor>> {
    let fast = fast::decode(bytes, sig, limit)?;
    let slow = decode_json_value(bytes, sig, limit);
    // Debug output compares NaNs and signed zeros exactly.
    assert_eq!(
        format!("{slow:?}"),
        format!("{:?}", Ok::<_, Error>(fast.clone())),
        "fast and Value paths disagree on {}",
        String::from_utf8_lossy(bytes)
    );
    Some(fast)
}

#[test]
fn fast_path_takes_the_common_requests() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mlp_input = std::fs::read(models.join("mlp-input.json")).expect("mlp-input.json");
    assert!(fast_agrees(&mlp_input, &mlp(), None).is_some());
    let explicit = std::fs::read(models.join("mlp-input-explicit.json")).expect("explicit");
    assert!(fast_agrees(&explicit, &mlp(), None).is_some());
    let cnn = Signature {
        inputs: vec![info(
            "image",
            DType::Float32,
            &[Some(1), Some(1), Some(28), Some(28)],
        )],
        outputs: vec![],
    };
    let cnn_input = std::fs::read(models.join("cnn-input.json")).expect("cnn-input.json");
    assert!(fast_agrees(&cnn_input, &cnn, None).is_some());
    for (sig, json) in [
        (mlp(), r#"{"x": [[1, 2.5, -3, 1e3]]}"#),
        (mlp(), r#"{"x": [["NaN", "Infinity", "-Infinity", -0.0]]}"#),
        (
            mlp(),
            r#"{"x": {"data": [1, 2, 3, 4], "dtype": "float32", "shape": [1, 4]}}"#,
        ),
        (mlp(), r#"{"x": {"shape": [0, 4], "data": []}}"#),
        (
            two(),
            r#"{"mask": [true, 0, 1], "ids": [-9223372036854775808, 9223372036854775807, 0]}"#,
        ),
        (any_shape(DType::Float64), r#"{"x": 0.1}"#),
        (
            any_shape(DType::Float16),
            r#"{"x": [[65504, -65504], [6e-8, "NaN"]]}"#,
        ),
        (any_shape(DType::Int8), r#"{"x": [-128, 127]}"#),
        (any_shape(DType::Uint8), r#"{"x": [[[0, 255]]]}"#),
        (
            any_shape(DType::Int32),
            r#"{"x": [-2147483648, 2147483647]}"#,
        ),
    ] {
        assert!(
            fast_agrees(json.as_bytes(), &sig, None).is_some(),
            "the fast path deferred {json}"
        );
    }
}

#[test]
fn fast_path_defers_what_it_cannot_decode_exactly() {
    // A repeated key defers too, and is an error (the Value path keeps the last value).
    let dup = r#"{"x": [[1, 2, 3, 4]], "x": [[1, 2, 3, 4]]}"#;
    assert!(fast::decode(dup.as_bytes(), &mlp(), None).is_none());
    assert_eq!(err(&mlp(), dup), "input `x` appears twice in the request");
    for (sig, json) in [
        (mlp(), r#"{"\u0078": [[1, 2, 3, 4]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4], [1, 2, 3]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4], 5]}"#),
        (mlp(), r#"{"x": [5, [1, 2, 3, 4]]}"#),
        (mlp(), r#"{"x": []}"#),
        (mlp(), r#"{"x": [[1, 2, 3, "4"]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 1e39]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4]]} x"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4]], "y": 1}"#),
        (mlp(), r#"{"x": {"shape": [1, 4], "data": [[1, 2, 3, 4]]}}"#),
        (
            mlp(),
            r#"{"x": {"shape": [1, 4], "dtype": "float64", "data": [1, 2, 3, 4]}}"#,
        ),
        (mlp(), r#"{"x": {"shape": [1, 4], "data": [1, 2, 3]}}"#),
        (mlp(), r#"{"x": {"shape": [1.0, 4], "data": [1, 2, 3, 4]}}"#),
        (two(), r#"{"ids": [1.0], "mask": [true]}"#),
        (two(), r#"{"ids": [18446744073709551615], "mask": [true]}"#),
        (two(), r#"{"ids": [1], "mask": [2]}"#),
        (two(), r#"{"ids": [1]}"#),
        (any_shape(DType::Int8), r#"{"x": [128]}"#),
        (any_shape(DType::Float16), r#"{"x": [65536]}"#),
    ] {
        assert!(
            fast::decode(json.as_bytes(), &sig, None).is_none(),
            "the fast path took {json}"
        );
        // And the Value path's error is what the user sees.
        let want = decode_json_value(json.as_bytes(), &sig, None).map_err(|e| e.to_string());
        let got = decode(&sig, json).map_err(|e| e.to_string());
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "{json}");
    }
    // Over the memory limit: 3 float32 = 12 bytes.
    let sig = any_shape(DType::Float32);
    assert!(fast::decode(br#"{"x": [1, 2, 3]}"#, &sig, Some(11)).is_none());
    assert!(fast_agrees(br#"{"x": [1, 2, 3]}"#, &sig, Some(12)).is_some());
}

/// Regular nested arrays (rank 0 to 3) of assorted JSON scalars, sometimes made ragged.
fn nested_request() -> impl Strategy<Value = Vec<u8>> {
    let float = |f: f64| {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    };
    let scalar = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (-3i64..300).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f32>().prop_map(move |f| float(f64::from(f))),
        any::<f64>().prop_map(float),
        prop_oneof![Just("NaN"), Just("-Infinity"), Just("nan")].prop_map(Value::from),
    ];
    // Mostly one kind of scalar per request (so many requests decode), sometimes a mix.
    let pool = prop_oneof![
        prop::collection::vec(any::<bool>().prop_map(Value::Bool), 64),
        prop::collection::vec((-3i64..300).prop_map(Value::from), 64),
        prop::collection::vec(any::<i64>().prop_map(Value::from), 64),
        prop::collection::vec(any::<f32>().prop_map(move |f| float(f64::from(f))), 64),
        prop::collection::vec(any::<f64>().prop_map(float), 64),
        prop::collection::vec(scalar, 64),
    ];
    (
        prop::collection::vec(1usize..4, 0..4),
        pool,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(shape, pool, ragged, explicit)| {
            let count: usize = shape.iter().product();
            let flat: Vec<Value> = (0..count).map(|i| pool[i % pool.len()].clone()).collect();
            let mut v = if explicit {
                serde_json::json!({"shape": shape, "data": flat})
            } else {
                let mut v = Value::Array(flat);
                for &d in shape.iter().skip(1).rev() {
                    let Value::Array(items) = v else {
                        unreachable!()
                    };
                    v = Value::Array(items.chunks(d).map(|c| Value::Array(c.to_vec())).collect());
                }
                if shape.is_empty() {
                    let Value::Array(mut items) = v else {
                        unreachable!()
                    };
                    v = items.pop().unwrap_or(Value::Null);
                }
                v
            };
            if ragged && let Value::Array(items) = &mut v {
                items.push(Value::from(1));
            }
            serde_json::to_vec(&serde_json::json!({"x": v})).expect("serialize")
        })
}

proptest! {
    #[test]
    fn fast_path_agrees_with_the_value_path(bytes in nested_request()) {
        for dtype in DType::ALL {
            for limit in [None, Some(24)] {
                fast_agrees(&bytes, &any_shape(dtype), limit);
            }
        }
    }

    #[test]
    fn fast_path_agrees_on_arbitrary_json(v in any_json()) {
        let bytes = serde_json::to_vec(&v).expect("serialize");
        for sig in [mlp(), two(), any_shape(DType::Bool)] {
            fast_agrees(&bytes, &sig, Some(1 << 16));
        }
    }
}

/// The streaming exact path's answer, which must be the `Value` path's (same tensors, or the
/// same error text) for any request without a repeated key.
fn exact_agrees(bytes: &[u8], sig: &Signature, limit: Option<u64>) -> Result<Vec<Tensor>, Error> {
    let exact = exact::decode(bytes, sig, limit);
    let slow = decode_json_value(bytes, sig, limit);
    assert_eq!(
        format!("{exact:?}"),
        format!("{slow:?}"),
        "exact and Value paths disagree on {}",
        String::from_utf8_lossy(bytes)
    );
    exact
}

#[test]
fn exact_path_gives_the_value_paths_answers() {
    let ragged = r#"{"x": [[1, 2, 3, 4], [1, 2, 3]]}"#;
    let cases: &[(Signature, &str)] = &[
        (mlp(), r#"{"x": [[1, 2, 3, 4]]}"#),
        (mlp(), r#"{"\u0078": [[1, 2, 3, 4]]}"#),
        (mlp(), ragged),
        (mlp(), r#"{"x": [[1, 2, 3, 4], 5]}"#),
        (mlp(), r#"{"x": [5, [1, 2, 3, 4]]}"#),
        (mlp(), r#"{"x": [[1, "a", 3, 4], [1, 2, 3]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4], [1, "a", 3]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4], [1, 2, [3], 4]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4], [1, 2, {"a": 1}, 4]]}"#),
        (mlp(), r#"{"x": [[[1], 2, 3, 4]]}"#),
        (mlp(), r#"{"x": [[1, 2, 3]]}"#),
        (mlp(), r#"{"x": [[1, "a", 3]]}"#),
        (mlp(), r#"{"x": [[], []]}"#),
        (mlp(), r#"{"x": [[], [1]]}"#),
        (mlp(), r#"{"x": []}"#),
        (mlp(), r#"{"x": 1}"#),
        (mlp(), r#"{"x": null}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4]], "y": 1, "z": [}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4]], "y": 1}"#),
        (mlp(), r#"{"y": [[1, 2, 3]], "x": [[1, 2, 3]]}"#),
        (mlp(), r#"[1, 2]"#),
        (mlp(), r#""x""#),
        (mlp(), r#"{}"#),
        (mlp(), r#"{"x": [[1, 2, 3, 4]]} x"#),
        (mlp(), r#"{"x": {"shape": [1, 4], "data": [[1, 2, 3, 4]]}}"#),
        (mlp(), r#"{"x": {"data": [1, 2, "b", 4], "shape": [1, 4]}}"#),
        (mlp(), r#"{"x": {"data": [1, 2, 3], "shape": [1, 4]}}"#),
        (mlp(), r#"{"x": {"data": 7, "shape": [1, 4]}}"#),
        (mlp(), r#"{"x": {"shape": [1, 4]}}"#),
        (mlp(), r#"{"x": {"data": [1, 2, 3, 4]}}"#),
        (mlp(), r#"{"x": {"shape": "1x4", "data": [1, 2, 3, 4]}}"#),
        (mlp(), r#"{"x": {"shape": [1, -4], "data": [1, 2, 3, 4]}}"#),
        (
            mlp(),
            r#"{"x": {"shape": [1, [4, {"k": "v"}]], "data": []}}"#,
        ),
        (mlp(), r#"{"x": {"shape": [1.0, 4], "data": [1, 2, 3, 4]}}"#),
        (mlp(), r#"{"x": {"shape": [1, 3], "data": [1, 2, 3]}}"#),
        (
            mlp(),
            r#"{"x": {"shape": [1, 4], "dtype": "float64", "data": [1, 2, 3, 4]}}"#,
        ),
        (
            mlp(),
            r#"{"x": {"shape": [1, 4], "dtype": "complex", "data": [1, 2, 3, 4]}}"#,
        ),
        (
            mlp(),
            r#"{"x": {"shape": [1, 4], "dtype": 4, "data": [1, 2, 3, 4]}}"#,
        ),
        (
            mlp(),
            r#"{"x": {"shape": [1, 4], "extra": 1, "data": [1, 2, 3, 4]}}"#,
        ),
        (mlp(), r#"{"x": {"shape": [1000000000000, 4], "data": []}}"#),
        (
            mlp(),
            r#"{"x": {"shape": [18446744073709551615, 4], "data": []}}"#,
        ),
        (two(), r#"{"ids": [1.0, 2e3], "mask": [true]}"#),
        (two(), r#"{"ids": [1.5], "mask": [true]}"#),
        (two(), r#"{"ids": [18446744073709551615], "mask": [true]}"#),
        (two(), r#"{"ids": [1], "mask": [2]}"#),
        (two(), r#"{"ids": [1]}"#),
        (two(), r#"{"mask": [0], "ids": ["NaN"]}"#),
        (any_shape(DType::Int8), r#"{"x": [128]}"#),
        (any_shape(DType::Float16), r#"{"x": [65536]}"#),
        (any_shape(DType::Float32), r#"{"x": [[1], 2]}"#),
        (any_shape(DType::Float32), r#"{"x": "NaN"}"#),
        (any_shape(DType::Float32), r#"{"x": "nan"}"#),
    ];
    for (sig, json) in cases {
        for limit in [None, Some(12), Some(1 << 20)] {
            let _ = exact_agrees(json.as_bytes(), sig, limit);
        }
    }
    // Nesting deeper than serde_json's recursion limit fails alike, even where skipped.
    let deep = format!(r#"{{"y": {}{}}}"#, "[".repeat(200), "]".repeat(200));
    let _ = exact_agrees(deep.as_bytes(), &mlp(), None);
    let e = exact_agrees(ragged.as_bytes(), &mlp(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("x[1]: ragged array"), "{e}");
}

#[test]
fn repeated_keys_are_errors_naming_the_key() {
    for (json, want) in [
        (
            r#"{"x": [[1, 2, 3, 4]], "x": [[5, 6, 7, 8]]}"#,
            "input `x` appears twice in the request",
        ),
        (
            r#"{"x": {"shape": [1, 4], "shape": [1, 4], "data": [1, 2, 3, 4]}}"#,
            "input `x`: key `shape` appears twice in the tensor object",
        ),
        (
            r#"{"x": {"shape": [1, 4], "dtype": "float32", "data": [1, 2, 3, 4], "dtype": "float32"}}"#,
            "input `x`: key `dtype` appears twice in the tensor object",
        ),
        (
            r#"{"x": {"data": [1, 2, 3, 4], "shape": [1, 4], "data": [1, 2, 3, 4]}}"#,
            "input `x`: key `data` appears twice in the tensor object",
        ),
    ] {
        assert!(
            fast::decode(json.as_bytes(), &mlp(), None).is_none(),
            "{json}"
        );
        assert_eq!(err(&mlp(), json), want, "{json}");
    }
    // An escaped spelling of the same key is the same key.
    assert_eq!(
        err(&mlp(), r#"{"x": [[1, 2, 3, 4]], "\u0078": [[1, 2, 3, 4]]}"#),
        "input `x` appears twice in the request"
    );
    let two_inputs = r#"{"ids": [1], "mask": [true], "ids": [2]}"#;
    assert_eq!(
        err(&two(), two_inputs),
        "input `ids` appears twice in the request"
    );
}

#[test]
fn echoed_input_is_cut_to_a_readable_length() {
    let long = "a".repeat(1 << 20);
    let e = err(&mlp(), &format!(r#"{{"{long}": 1}}"#));
    assert_eq!(
        e,
        format!(
            "unknown input `{}…` (1048576 bytes) (the model's inputs: x)",
            "a".repeat(QUOTE_MAX)
        )
    );
    // A short one is quoted whole, as before.
    assert_eq!(
        err(&mlp(), r#"{"y": 1}"#),
        "unknown input `y` (the model's inputs: x)"
    );
    for json in [
        format!(r#"{{"x": {{"shape": [1, 4], "{long}": 1, "data": [1, 2, 3, 4]}}}}"#),
        format!(r#"{{"x": {{"shape": [1, 4], "dtype": "{long}", "data": [1, 2, 3, 4]}}}}"#),
        format!(r#"{{"x": {{"shape": [1, "{long}"], "data": [1, 2, 3, 4]}}}}"#),
        format!(
            r#"{{"x": {{"shape": [1, [{}0]], "data": [1, 2, 3, 4]}}}}"#,
            "0,".repeat(1 << 18)
        ),
        format!(r#"{{"x": [[1, 2, 3, "{long}"]]}}"#),
    ] {
        let e = err(&mlp(), &json);
        assert!(e.len() < 300, "{} bytes: {}", e.len(), cut(&e, 400));
        assert!(e.contains('…'), "{e}");
        // The Value path cuts alike.
        let _ = exact_agrees(json.as_bytes(), &mlp(), None);
    }
    // A long .npy descr.
    let descr = "<".to_string() + &"f".repeat(5000);
    let e = decode_request(&npy(1, &descr, false, "(1, 4)", &[0; 16]), &mlp(), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.len() < 300 && e.contains("(5001 bytes)"),
        "{}",
        cut(&e, 400)
    );
}

#[test]
fn a_multibyte_npy_descr_is_an_error_not_a_panic() {
    let e = decode_request(&npy(3, "<é4", false, "(1, 4)", &[0; 16]), &mlp(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsupported dtype descr '<é4'"), "{e}");
}

#[test]
fn a_shape_that_cannot_fit_is_named_with_the_whole_shape() {
    // The fast path gives up at the first row that shows the shape is wrong (the memory
    // test in tests/memory.rs shows it keeps nothing more); the exact path names the shape.
    let sig = mlp();
    let mut wrong_width = String::from(r#"{"x": [[1, 2, 3]"#);
    let mut wrong_rank = String::from(r#"{"x": [[[1, 2, 3, 4]]"#);
    for _ in 0..1000 {
        wrong_width.push_str(", [1, 2, 3]");
        wrong_rank.push_str(", [[1, 2, 3, 4]]");
    }
    wrong_width.push_str("]}");
    wrong_rank.push_str("]}");
    for json in [&wrong_width, &wrong_rank] {
        assert!(fast::decode(json.as_bytes(), &sig, None).is_none());
    }
    let e = err(&sig, &wrong_width);
    assert_eq!(
        e,
        "input `x`: dimension 1 must be 4 (model shape [N, 4]), got 3 (shape [1001, 3])"
    );
    let e = err(&sig, &wrong_rank);
    assert!(e.starts_with("input `x`: expected rank 2"), "{e}");
}

proptest! {
    #[test]
    fn exact_path_agrees_with_the_value_path(bytes in nested_request()) {
        for dtype in DType::ALL {
            for limit in [None, Some(24)] {
                let _ = exact_agrees(&bytes, &any_shape(dtype), limit);
            }
        }
        let fixed = Signature {
            inputs: vec![info("x", DType::Float32, &[Some(2), None, Some(3)])],
            outputs: vec![],
        };
        let _ = exact_agrees(&bytes, &fixed, Some(1 << 16));
    }

    #[test]
    fn exact_path_agrees_on_arbitrary_json(v in any_json()) {
        let bytes = serde_json::to_vec(&v).expect("serialize");
        for sig in [mlp(), two(), any_shape(DType::Bool)] {
            let _ = exact_agrees(&bytes, &sig, Some(1 << 16));
        }
    }

    #[test]
    fn exact_path_agrees_on_mutated_requests(
        i in 0usize..64, byte in prop::sample::select(b"[]{},:\"0123456789-.eE tfnaxy".to_vec()),
        cut_at in 0usize..64,
    ) {
        let mut b = br#"{"x": [[1, 2.5, -3, 1e3], [4, 5, "NaN", 6]], "ids": [0]}"#.to_vec();
        let n = b.len();
        b[i % n] = byte;
        b.truncate(n - cut_at.min(n));
        for sig in [mlp(), two()] {
            let _ = exact_agrees(&b, &sig, None);
        }
    }
}
