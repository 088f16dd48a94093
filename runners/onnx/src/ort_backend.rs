//! The ONNX Runtime backend (runner `onnx-ort`): `ort` 2.0.0-rc.15 with `load-dynamic`, so
//! `libonnxruntime.so` (1.24 or later) is dlopened at run time, once per process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::{DynValue, Tensor as OrtTensor, TensorElementType, ValueType};
use webc_runner_api::Availability;
use webc_runner_infer::codec::{self, DType, Data, Dim, Signature, TensorInfo};
use webc_runner_infer::{Backend, Error, InferRunner, Model, ModelCache, RunnerParams, Settings};

/// The ONNX runner on ONNX Runtime (name `onnx-ort`, priority 10). Available when
/// [`find_onnxruntime`] finds the library. Stateless apart from the process-wide runtime and
/// model cache.
pub type OnnxOrtRunner = InferRunner<OrtBackend>;

/// The ONNX Runtime backend of the `infer` protocol: ONNX models on a dlopened
/// libonnxruntime ([`OnnxOrtRunner`] is the runner on it; option `library=PATH`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OrtBackend {
    _private: (),
}

const LIB: &str = "libonnxruntime.so";
const HINT: &str = "run scripts/install-onnxruntime.sh (puts it at target/onnxruntime/libonnxruntime.so) \
                    or set ORT_DYLIB_PATH";

/// Finds `libonnxruntime.so`: `$ORT_DYLIB_PATH` when set (and then only there), else the
/// first of `<dir>/onnxruntime/libonnxruntime.so*` for the running executable's directory and
/// its two parents (so `target/onnxruntime/` serves `target/debug/webc-host` and the test
/// binaries in `target/debug/deps/`), `$XDG_DATA_HOME/webc-host/onnxruntime/` (default
/// `~/.local/share/webc-host/onnxruntime/`), `/usr/local/lib/` and `/usr/lib/`. A versioned
/// name (`libonnxruntime.so.1.32.0`, as the PyPI wheel ships it) is accepted. The error says
/// where it looked and how to install it.
pub fn find_onnxruntime() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "ORT_DYLIB_PATH={} is not a file; {HINT}",
                p.display()
            ))
        };
    }
    let mut dirs = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(3) {
            dirs.push(dir.join("onnxruntime"));
        }
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    if let Some(data) = data {
        dirs.push(data.join("webc-host/onnxruntime"));
    }
    dirs.push(PathBuf::from("/usr/local/lib"));
    dirs.push(PathBuf::from("/usr/lib"));
    for dir in &dirs {
        if let Some(p) = lib_in(dir) {
            return Ok(p);
        }
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "{LIB} not found (looked in ORT_DYLIB_PATH, {}); {HINT}",
        looked.join(", ")
    ))
}

fn lib_in(dir: &Path) -> Option<PathBuf> {
    let exact = dir.join(LIB);
    if exact.is_file() {
        return Some(exact);
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("libonnxruntime.so."))
        })
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    versioned.sort();
    versioned.pop()
}

/// The process's ONNX Runtime: the library it came from and the environment.
static RUNTIME: OnceLock<Result<(PathBuf, Environment), String>> = OnceLock::new();

fn runtime(library: Option<&Path>) -> Result<&'static Environment, Error> {
    let loaded = RUNTIME.get_or_init(|| {
        let path = match library {
            Some(p) => p.to_path_buf(),
            None => find_onnxruntime()?,
        };
        let env = ort::init_from(&path)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))?
            .with_name("webc-host")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", path.display()))?;
        tracing::debug!(library = %path.display(), "loaded ONNX Runtime");
        Ok((path, env))
    });
    match loaded {
        Err(e) => Err(Error::Unavailable(e.clone())),
        Ok((path, env)) => {
            if let Some(want) = library
                && want != path
            {
                return Err(Error::Option(format!(
                    "library={}: this process already loaded ONNX Runtime from {}",
                    want.display(),
                    path.display()
                )));
            }
            Ok(env)
        }
    }
}

static PARAMS: RunnerParams = RunnerParams {
    name: "onnx-ort",
    version: env!("CARGO_PKG_VERSION"),
    description: "ONNX models on ONNX Runtime (dlopened libonnxruntime)",
    uri: crate::URI,
    atom_kind: crate::ATOM_KIND,
    priority: 10,
    backend: "ort",
    backends: crate::BACKENDS,
    options: &[(
        "library",
        "path of libonnxruntime.so to load (default: ORT_DYLIB_PATH, then \
         well-known locations)",
    )],
    docs: crate::DOCS,
};

static CACHE: ModelCache<OrtModel> = ModelCache::new();

/// The `library` option.
fn library(settings: &Settings) -> Option<&Path> {
    settings.option("library").map(Path::new)
}

impl Backend for OrtBackend {
    type Model = OrtModel;

    fn params(&self) -> &RunnerParams {
        &PARAMS
    }

    fn cache(&self) -> &ModelCache<OrtModel> {
        &CACHE
    }

    fn availability(&self) -> Availability {
        if let Some(Err(e)) = RUNTIME.get() {
            return Availability::Unavailable(e.clone());
        }
        if RUNTIME.get().is_some() {
            return Availability::Available;
        }
        match find_onnxruntime() {
            Ok(_) => Availability::Available,
            Err(e) => Availability::Unavailable(e),
        }
    }

    fn prepare(&self, settings: &Settings) -> Result<(), Error> {
        runtime(library(settings)).map(|_| ())
    }

    fn load(&self, atom: &[u8], settings: &Settings) -> Result<OrtModel, Error> {
        let env = runtime(library(settings))?;
        OrtModel::load(env, atom, settings.threads)
    }
}

/// A loaded ONNX Runtime session (`run` needs `&mut`, hence the lock).
pub struct OrtModel {
    session: Mutex<Session>,
    signature: Signature,
}

impl std::fmt::Debug for OrtModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtModel")
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

fn load_err(e: impl std::fmt::Display) -> Error {
    Error::Load(format!("ONNX Runtime cannot load the model: {e}"))
}

impl OrtModel {
    fn load(env: &Environment, bytes: &[u8], threads: usize) -> Result<OrtModel, Error> {
        crate::external::check_self_contained(bytes).map_err(load_err)?;
        let session = Session::builder(env)
            .map_err(load_err)?
            .with_intra_threads(threads)
            .map_err(load_err)?
            .with_inter_threads(1)
            .map_err(load_err)?
            .commit_from_memory(bytes)
            .map_err(load_err)?;
        let mut signature = Signature::default();
        for o in session.inputs() {
            signature.inputs.push(info(o.name(), o.dtype(), "input")?);
        }
        for o in session.outputs() {
            signature.outputs.push(info(o.name(), o.dtype(), "output")?);
        }
        Ok(OrtModel {
            session: Mutex::new(session),
            signature,
        })
    }
}

fn dtype(ty: TensorElementType) -> Option<DType> {
    Some(match ty {
        TensorElementType::Float32 => DType::Float32,
        TensorElementType::Float64 => DType::Float64,
        TensorElementType::Float16 => DType::Float16,
        TensorElementType::Int64 => DType::Int64,
        TensorElementType::Int32 => DType::Int32,
        TensorElementType::Int8 => DType::Int8,
        TensorElementType::Uint8 => DType::Uint8,
        TensorElementType::Bool => DType::Bool,
        _ => return None,
    })
}

fn info(name: &str, ty: &ValueType, what: &str) -> Result<TensorInfo, Error> {
    let ValueType::Tensor {
        ty,
        shape,
        dimension_symbols,
    } = ty
    else {
        return Err(Error::Load(format!(
            "{what} `{name}` is not a tensor ({ty}); the infer protocol carries tensors only"
        )));
    };
    let dtype = dtype(*ty).ok_or_else(|| {
        Error::Load(format!(
            "{what} `{name}` has element type {ty}, which the infer protocol does not support"
        ))
    })?;
    let dims = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| match usize::try_from(d) {
            Ok(n) => Dim::Fixed(n),
            Err(_) => Dim::Dynamic(dimension_symbols.get(i).cloned().unwrap_or_default()),
        })
        .collect();
    Ok(TensorInfo {
        name: name.to_string(),
        dtype,
        shape: Some(dims),
    })
}

fn to_ort(t: codec::Tensor) -> Result<DynValue, Error> {
    let shape = t.shape;
    let err = |e: ort::Error| Error::Backend(e.to_string());
    Ok(match t.data {
        Data::Float32(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Float64(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Float16(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Int64(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Int32(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Int8(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Uint8(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
        Data::Bool(v) => OrtTensor::from_array((shape, v)).map_err(err)?.into_dyn(),
    })
}

fn from_ort(v: &DynValue, name: &str) -> Result<codec::Tensor, Error> {
    let bad = |e: String| Error::Backend(format!("output `{name}`: {e}"));
    let ValueType::Tensor { ty, .. } = v.dtype() else {
        return Err(bad(format!("not a tensor ({})", v.dtype())));
    };
    fn get<T: ort::value::PrimitiveTensorElementType + Copy + std::fmt::Debug>(
        v: &DynValue,
    ) -> Result<(Vec<usize>, Vec<T>), String> {
        let (shape, data) = v.try_extract_tensor::<T>().map_err(|e| e.to_string())?;
        let shape = shape
            .iter()
            .map(|&d| usize::try_from(d).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok((shape, data.to_vec()))
    }
    let (shape, data) = match dtype(*ty) {
        Some(DType::Float32) => get(v).map(|(s, d)| (s, Data::Float32(d))),
        Some(DType::Float64) => get(v).map(|(s, d)| (s, Data::Float64(d))),
        Some(DType::Float16) => get(v).map(|(s, d)| (s, Data::Float16(d))),
        Some(DType::Int64) => get(v).map(|(s, d)| (s, Data::Int64(d))),
        Some(DType::Int32) => get(v).map(|(s, d)| (s, Data::Int32(d))),
        Some(DType::Int8) => get(v).map(|(s, d)| (s, Data::Int8(d))),
        Some(DType::Uint8) => get(v).map(|(s, d)| (s, Data::Uint8(d))),
        Some(DType::Bool) => get(v).map(|(s, d)| (s, Data::Bool(d))),
        None => Err(format!(
            "element type {ty} is not supported by the infer protocol"
        )),
    }
    .map_err(bad)?;
    codec::Tensor::new(shape, data)
}

impl Model for OrtModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn run(&self, inputs: Vec<codec::Tensor>) -> Result<Vec<codec::Tensor>, Error> {
        let named: Vec<(&str, DynValue)> = self
            .signature
            .inputs
            .iter()
            .zip(inputs)
            .map(|(info, t)| Ok((info.name.as_str(), to_ort(t)?)))
            .collect::<Result<_, Error>>()?;
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(named)
            .map_err(|e| Error::Backend(e.to_string()))?;
        self.signature
            .outputs
            .iter()
            .map(|info| {
                let v = outputs
                    .get(&info.name)
                    .ok_or_else(|| Error::Backend(format!("output `{}` is missing", info.name)))?;
                from_ort(v, &info.name)
            })
            .collect()
    }
}
