//! The tract backend (runner `onnx-tract`): pure Rust, always available.

use std::path::Path;
use std::sync::Arc;

use tract_linalg::multithread::Executor;
use tract_onnx::data_resolver::ModelDataResolver;
use tract_onnx::prelude::*;
use webc_runner_infer::codec::{self, DType, Data, Dim, Signature, TensorInfo};
use webc_runner_infer::{Backend, Error, InferRunner, Model, ModelCache, RunnerParams, Settings};

/// The ONNX runner on tract 0.23 (name `onnx-tract`, priority 0). Stateless apart from the
/// process-wide model cache; one value serves any number of concurrent jobs.
pub type OnnxTractRunner = InferRunner<TractBackend>;

/// The tract backend of the `infer` protocol: ONNX models on tract 0.23, pure Rust, always
/// available ([`OnnxTractRunner`] is the runner on it).
#[derive(Debug, Default, Clone, Copy)]
pub struct TractBackend {
    _private: (),
}

static PARAMS: RunnerParams = RunnerParams {
    name: "onnx-tract",
    version: env!("CARGO_PKG_VERSION"),
    description: "ONNX models on tract 0.23 (pure Rust)",
    uri: crate::URI,
    atom_kind: crate::ATOM_KIND,
    priority: 0,
    backend: "tract",
    backends: crate::BACKENDS,
    options: &[],
    docs: crate::DOCS,
};

static CACHE: ModelCache<TractModel> = ModelCache::new();

impl Backend for TractBackend {
    type Model = TractModel;

    fn params(&self) -> &RunnerParams {
        &PARAMS
    }

    fn cache(&self) -> &ModelCache<TractModel> {
        &CACHE
    }

    fn load(&self, atom: &[u8], settings: &Settings) -> Result<TractModel, Error> {
        TractModel::load(atom, settings.threads)
    }
}

/// A loaded and optimised tract model.
pub struct TractModel {
    plan: Arc<TypedRunnableModel>,
    signature: Signature,
}

impl std::fmt::Debug for TractModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractModel")
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Refuses external tensor data: a model is one atom, and resolving paths would read the
/// host's files.
struct NoExternalData;

impl ModelDataResolver for NoExternalData {
    fn read_bytes_from_path(
        &self,
        _: &mut Vec<u8>,
        p: &Path,
        _: usize,
        _: Option<usize>,
    ) -> TractResult<()> {
        Err(tract_onnx::prelude::TractError::msg(format!(
            "the model refers to external tensor data ({p:?}); only self-contained models are supported"
        )))
    }
}

fn load_err(e: impl std::fmt::Display) -> Error {
    Error::Load(format!("tract cannot load the model: {e:#}"))
}

impl TractModel {
    fn load(bytes: &[u8], threads: usize) -> Result<TractModel, Error> {
        crate::external::check_self_contained(bytes).map_err(load_err)?;
        let mut onnx = tract_onnx::onnx();
        onnx.provider = Arc::new(NoExternalData);
        let model = onnx.model_for_read(&mut &bytes[..]).map_err(load_err)?;
        let mut missing: Vec<String> = Vec::new();
        for node in model.nodes() {
            let name = node.op.name();
            if let Some(op) = name
                .strip_prefix("Unimplemented(")
                .and_then(|n| n.strip_suffix(')'))
                && !missing.iter().any(|m| m == op)
            {
                missing.push(op.to_string());
            }
        }
        if !missing.is_empty() {
            return Err(Error::Load(format!(
                "tract does not support the operator{} {} used by this model (try the onnx-ort backend)",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            )));
        }
        // The graph's declared names, read before tract types and optimises the graph (its
        // passes may rename an input after the node that consumes it, or an output after
        // the node that now computes it).
        let declared = declared_names(&model)?;
        let typed = model.into_typed().map_err(load_err)?;
        let signature = signature(&typed, declared)?;
        let optimized = typed.into_optimized().map_err(load_err)?;
        let options = RunOptions {
            executor: (threads > 1).then(|| Executor::multithread(threads)),
            ..RunOptions::default()
        };
        let plan = optimized
            .into_runnable_with_options(&options)
            .map_err(load_err)?;
        Ok(TractModel { plan, signature })
    }
}

fn dtype(dt: DatumType, what: &str) -> Result<DType, Error> {
    Ok(match dt {
        DatumType::F32 => DType::Float32,
        DatumType::F64 => DType::Float64,
        DatumType::F16 => DType::Float16,
        // tract's symbolic integer type stands for int64 (see `from_tract`).
        DatumType::I64 | DatumType::TDim => DType::Int64,
        DatumType::I32 => DType::Int32,
        DatumType::I8 => DType::Int8,
        DatumType::U8 => DType::Uint8,
        DatumType::Bool => DType::Bool,
        other => {
            return Err(Error::Load(format!(
                "{what} has element type {other:?}, which the infer protocol does not support"
            )));
        }
    })
}

fn info(
    model: &TypedModel,
    outlet: OutletId,
    name: String,
    what: &str,
) -> Result<TensorInfo, Error> {
    let fact = model.outlet_fact(outlet).map_err(load_err)?;
    let dtype = dtype(fact.datum_type, &format!("{what} `{name}`"))?;
    let shape = fact
        .shape
        .iter()
        .map(|d| match d.to_i64() {
            Ok(n) => usize::try_from(n).map(Dim::Fixed).map_err(load_err),
            Err(_) => Ok(Dim::Dynamic(d.to_string())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TensorInfo {
        name,
        dtype,
        shape: Some(shape),
    })
}

/// Names of a graph's inputs and outputs, in order.
struct Names {
    inputs: Vec<String>,
    outputs: Vec<String>,
}

/// The names of `model`'s inputs (their source nodes) and outputs (their labels, else their
/// nodes), in order.
fn names<F, O>(model: &Graph<F, O>) -> Result<Names, Error>
where
    F: Fact + Clone + 'static,
    O: std::fmt::Debug + std::fmt::Display + AsRef<dyn Op> + AsMut<dyn Op> + Clone + 'static,
{
    let inputs = model
        .input_outlets()
        .map_err(load_err)?
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    let outputs = model
        .output_outlets()
        .map_err(load_err)?
        .iter()
        .map(|&o| {
            model
                .outlet_label(o)
                .map(str::to_string)
                .unwrap_or_else(|| model.node(o.node).name.clone())
        })
        .collect();
    Ok(Names { inputs, outputs })
}

/// The ONNX graph's declared input and output names, from the model as imported.
fn declared_names(model: &InferenceModel) -> Result<Names, Error> {
    names(model)
}

/// The signature of the typed model, named as the graph declares (`declared`, one name per
/// input and output in order; the typed model's own names where it has more).
fn signature(model: &TypedModel, declared: Names) -> Result<Signature, Error> {
    let own = names(model)?;
    let pick = |own: Vec<String>, declared: Vec<String>| -> Vec<String> {
        let mut declared = declared.into_iter();
        own.into_iter()
            .map(|o| declared.next().unwrap_or(o))
            .collect()
    };
    let mut sig = Signature::default();
    let outlets = model.input_outlets().map_err(load_err)?;
    for (&outlet, name) in outlets.iter().zip(pick(own.inputs, declared.inputs)) {
        sig.inputs.push(info(model, outlet, name, "input")?);
    }
    let outlets = model.output_outlets().map_err(load_err)?;
    for (&outlet, name) in outlets.iter().zip(pick(own.outputs, declared.outputs)) {
        sig.outputs.push(info(model, outlet, name, "output")?);
    }
    Ok(sig)
}

fn to_tract(t: codec::Tensor) -> Result<TValue, Error> {
    let shape = &t.shape;
    let tensor = match &t.data {
        Data::Float32(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Float64(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Float16(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Int64(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Int32(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Int8(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Uint8(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
        Data::Bool(v) => tract_onnx::prelude::Tensor::from_shape(shape, v),
    };
    Ok(tensor
        .map_err(|e| Error::Backend(format!("{e:#}")))?
        .into_tvalue())
}

fn from_tract(t: &tract_onnx::prelude::Tensor, name: &str) -> Result<codec::Tensor, Error> {
    fn flat<T: Datum + Copy>(t: &tract_onnx::prelude::Tensor) -> TractResult<Vec<T>> {
        Ok(t.to_plain_array_view::<T>()?.iter().copied().collect())
    }
    let data = match t.datum_type() {
        DatumType::F32 => flat(t).map(Data::Float32),
        DatumType::F64 => flat(t).map(Data::Float64),
        DatumType::F16 => flat(t).map(Data::Float16),
        DatumType::I64 => flat(t).map(Data::Int64),
        DatumType::I32 => flat(t).map(Data::Int32),
        DatumType::I8 => flat(t).map(Data::Int8),
        DatumType::U8 => flat(t).map(Data::Uint8),
        DatumType::Bool => flat(t).map(Data::Bool),
        // tract computes some integer results (e.g. sums of casts of bools) in its symbolic
        // integer type; the model declares int64.
        DatumType::TDim => t
            .cast_to::<i64>()
            .and_then(|t| flat::<i64>(&t))
            .map(Data::Int64),
        other => {
            return Err(Error::Backend(format!(
                "output `{name}` has element type {other:?}, which the infer protocol does not support"
            )));
        }
    }
    .map_err(|e| Error::Backend(format!("output `{name}`: {e:#}")))?;
    codec::Tensor::new(t.shape().to_vec(), data)
}

impl Model for TractModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn run(&self, inputs: Vec<codec::Tensor>) -> Result<Vec<codec::Tensor>, Error> {
        let inputs = inputs
            .into_iter()
            .map(to_tract)
            .collect::<Result<TVec<_>, _>>()?;
        let outputs = self
            .plan
            .run(inputs)
            .map_err(|e| Error::Backend(format!("{e:#}")))?;
        outputs
            .iter()
            .zip(&self.signature.outputs)
            .map(|(t, info)| from_tract(t, &info.name))
            .collect()
    }
}
