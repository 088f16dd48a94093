//! The one error type of the runner's host functions: how a call leaves the guest other
//! than by returning.

/// Why a host function ends the guest's current call instead of returning.
///
/// `Throw` and `Longjmp` are the glue's thrown numbers (the thrown pointer, `Infinity`): an
/// `invoke_*` trampoline catches them, like the glue's `catch (e) { if (e !== e + 0) throw e;
/// … }`; `Abort` (the glue's `RuntimeError`) passes through every trampoline and ends the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostStop {
    /// A C++ exception (`__cxa_throw`, `__cxa_rethrow`, `__resumeException`): the thrown
    /// object's pointer.
    #[error("uncaught C++ exception {0}")]
    Throw(u32),
    /// `longjmp` (`_emscripten_throw_longjmp`).
    #[error("longjmp without a matching setjmp")]
    Longjmp,
    /// `abort(what)`: `Aborted(what)` on stderr, exit status 134.
    #[error("Aborted({0})")]
    Abort(String),
}

impl HostStop {
    /// Whether an `invoke_*` trampoline catches it.
    pub(crate) fn unwinds(&self) -> bool {
        matches!(self, HostStop::Throw(_) | HostStop::Longjmp)
    }

    /// What `Aborted(…)` says when this ends the run.
    pub(crate) fn abort_message(&self) -> String {
        match self {
            HostStop::Throw(ptr) => format!("uncaught C++ exception (thrown object at {ptr})"),
            HostStop::Longjmp => "longjmp without a matching setjmp".to_owned(),
            HostStop::Abort(what) => what.clone(),
        }
    }
}

/// A host function's failure that ends the run with [`HostStop::Abort`].
pub(crate) fn abort(what: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostStop::Abort(what.into()))
}
