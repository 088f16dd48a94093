//! Stdio across the boundary: byte streams with `io::Error` kinds preserved.

use std::io::{Read, Write};

use abi_stable::sabi_trait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, RIoError, RResult, RSlice, RSliceMut};

/// A byte stream (stdin, stdout or stderr) as the plugin sees it.
#[sabi_trait]
pub trait AbiStream: Send {
    fn read(&mut self, buf: RSliceMut<'_, u8>) -> RResult<usize, RIoError>;
    fn write(&mut self, buf: RSlice<'_, u8>) -> RResult<usize, RIoError>;
    #[sabi(last_prefix_field)]
    fn flush(&mut self) -> RResult<(), RIoError>;
}

/// A stream passed to a plugin for one job.
pub type StreamBox<'a> = AbiStream_TO<'a, RBox<()>>;

fn unsupported(what: &str) -> RIoError {
    RIoError::from(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("this stream cannot {what}"),
    ))
}

fn rr<T>(v: std::io::Result<T>) -> RResult<T, RIoError> {
    match v {
        Ok(v) => RResult::ROk(v),
        Err(e) => RResult::RErr(RIoError::from(e)),
    }
}

/// Host side: stdin.
pub(crate) struct HostReader<'a>(pub(crate) &'a mut (dyn Read + Send));

/// Host side: stdout/stderr.
pub(crate) struct HostWriter<'a>(pub(crate) &'a mut (dyn Write + Send));

impl AbiStream for HostReader<'_> {
    fn read(&mut self, mut buf: RSliceMut<'_, u8>) -> RResult<usize, RIoError> {
        rr(self.0.read(buf.as_mut_slice()))
    }
    fn write(&mut self, _buf: RSlice<'_, u8>) -> RResult<usize, RIoError> {
        RResult::RErr(unsupported("be written (it is an input)"))
    }
    fn flush(&mut self) -> RResult<(), RIoError> {
        RResult::ROk(())
    }
}

impl AbiStream for HostWriter<'_> {
    fn read(&mut self, _buf: RSliceMut<'_, u8>) -> RResult<usize, RIoError> {
        RResult::RErr(unsupported("be read (it is an output)"))
    }
    fn write(&mut self, buf: RSlice<'_, u8>) -> RResult<usize, RIoError> {
        rr(self.0.write(buf.as_slice()))
    }
    fn flush(&mut self) -> RResult<(), RIoError> {
        rr(self.0.flush())
    }
}

pub(crate) fn reader_box(r: HostReader<'_>) -> StreamBox<'_> {
    AbiStream_TO::from_value(r, TD_Opaque)
}

pub(crate) fn writer_box(w: HostWriter<'_>) -> StreamBox<'_> {
    AbiStream_TO::from_value(w, TD_Opaque)
}

/// Plugin side: a boundary stream as `io::Read + io::Write`.
pub(crate) struct PluginStream<'a>(pub(crate) StreamBox<'a>);

fn back<T>(v: RResult<T, RIoError>) -> std::io::Result<T> {
    match v {
        RResult::ROk(v) => Ok(v),
        RResult::RErr(e) => Err(e.into()),
    }
}

impl Read for PluginStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        back(self.0.read(buf.into()))
    }
}

impl Write for PluginStream<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        back(self.0.write(buf.into()))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        back(self.0.flush())
    }
}
