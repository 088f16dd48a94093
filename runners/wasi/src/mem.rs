//! The one checked view of guest memory that every WASI function goes through.
//!
//! Guest pointers and lengths are untrusted `u32`s. Every access computes its range with
//! checked arithmetic and fails with `EFAULT` when any byte falls outside linear memory, so
//! no host function ever indexes memory directly. Strings must be UTF-8 (`EILSEQ`).
//! Scalars are little-endian and need no alignment (wasm memory is byte-addressed).

use std::ops::Range;

use crate::errno::{Errno, WasiResult};

/// Size of an `iovec`/`ciovec` (`{ buf: u32, buf_len: u32 }`).
pub(crate) const IOVEC_SIZE: u32 = 8;

/// Most buffers one call may name (`EINVAL` beyond, like `IOV_MAX` in POSIX, only far
/// larger), so a single host call's bookkeeping stays small whatever the guest passes.
pub(crate) const MAX_IOVECS: u32 = 1 << 20;

/// A mutable, bounds-checked view of a guest's linear memory for one host call (every
/// access is checked: out of bounds is `EFAULT`; see [`crate::with_guest_memory`]).
#[derive(Debug)]
pub struct GuestMem<'a> {
    bytes: &'a mut [u8],
}

/// One guest buffer descriptor read from an `iovec` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IoVec {
    pub(crate) buf: u32,
    pub(crate) len: u32,
}

impl<'a> GuestMem<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> GuestMem<'a> {
        GuestMem { bytes }
    }

    /// The byte range `ptr..ptr+len`, if it lies inside memory.
    pub fn range(&self, ptr: u32, len: u32) -> WasiResult<Range<usize>> {
        let start = usize::try_from(ptr).map_err(|_| Errno::FAULT)?;
        let len = usize::try_from(len).map_err(|_| Errno::FAULT)?;
        let end = start.checked_add(len).ok_or(Errno::FAULT)?;
        if end > self.bytes.len() {
            return Err(Errno::FAULT);
        }
        Ok(start..end)
    }

    /// `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// `len` writable bytes at `ptr`.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// A UTF-8 string of `len` bytes at `ptr` (borrowed, not copied).
    pub fn str(&self, ptr: u32, len: u32) -> WasiResult<&str> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::ILSEQ)
    }

    /// The NUL-terminated UTF-8 string at `ptr`, without its NUL (`EFAULT` when memory
    /// ends first).
    pub fn cstr(&self, ptr: u32) -> WasiResult<&str> {
        let start = usize::try_from(ptr).map_err(|_| Errno::FAULT)?;
        let rest = self.bytes.get(start..).ok_or(Errno::FAULT)?;
        let len = rest.iter().position(|&b| b == 0).ok_or(Errno::FAULT)?;
        std::str::from_utf8(&rest[..len]).map_err(|_| Errno::ILSEQ)
    }

    fn array<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let len = u32::try_from(N).map_err(|_| Errno::FAULT)?;
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(ptr, len)?);
        Ok(out)
    }

    /// The byte at `ptr`.
    pub fn read_u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.array::<1>(ptr)?[0])
    }

    /// The little-endian `u16` at `ptr`.
    pub fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }

    /// The little-endian `u32` at `ptr`.
    pub fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    /// The little-endian `u64` at `ptr`.
    pub fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    /// Copies `data` to `ptr`.
    pub fn write(&mut self, ptr: u32, data: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// Writes `v` little-endian at `ptr`.
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult<()> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// Writes `v` little-endian at `ptr`.
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult<()> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// Checks that an array of `count` records of `size` bytes at `ptr` lies in memory.
    pub(crate) fn check_array(&self, ptr: u32, count: u32, size: u32) -> WasiResult<()> {
        let bytes = count.checked_mul(size).ok_or(Errno::FAULT)?;
        self.range(ptr, bytes).map(|_| ())
    }

    /// The `index`-th entry of an `iovec` array at `ptr` (the caller checked the array with
    /// [`GuestMem::check_array`]; this re-checks, it never trusts).
    pub(crate) fn iovec(&self, ptr: u32, index: u32) -> WasiResult<IoVec> {
        let at = index
            .checked_mul(IOVEC_SIZE)
            .and_then(|o| ptr.checked_add(o))
            .ok_or(Errno::FAULT)?;
        Ok(IoVec {
            buf: self.read_u32(at)?,
            len: self.read_u32(at.checked_add(4).ok_or(Errno::FAULT)?)?,
        })
    }

    /// Validates a whole `iovec` array: the array and every buffer it names lie in memory
    /// and the total length fits the `size` result (`u32`). Returns the total.
    pub(crate) fn check_iovecs(&self, ptr: u32, count: u32) -> WasiResult<u32> {
        self.check_array(ptr, count, IOVEC_SIZE)?;
        if count > MAX_IOVECS {
            return Err(Errno::INVAL);
        }
        let mut total: u32 = 0;
        for i in 0..count {
            let iov = self.iovec(ptr, i)?;
            self.range(iov.buf, iov.len)?;
            total = total.checked_add(iov.len).ok_or(Errno::INVAL)?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let mut bytes = vec![0u8; 16];
        let mut m = GuestMem::new(&mut bytes);
        assert!(m.slice(0, 16).is_ok());
        assert_eq!(m.slice(1, 16), Err(Errno::FAULT));
        assert_eq!(m.slice(u32::MAX, 2), Err(Errno::FAULT));
        assert_eq!(m.slice(16, 0).map(<[u8]>::len), Ok(0));
        assert_eq!(m.slice(17, 0), Err(Errno::FAULT));
        assert_eq!(m.read_u64(9), Err(Errno::FAULT));
        m.write_u64(8, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(m.read_u64(8), Ok(0x0102_0304_0506_0708));
        assert_eq!(m.read_u16(8), Ok(0x0708));
        assert_eq!(m.write_u32(13, 1), Err(Errno::FAULT));
        assert_eq!(m.check_array(0, u32::MAX, 8), Err(Errno::FAULT));
        assert_eq!(m.check_array(0, 2, 8), Ok(()));
    }

    #[test]
    fn strings_and_iovecs() {
        let mut bytes = vec![0u8; 64];
        bytes[32..35].copy_from_slice(b"abc");
        bytes[40] = 0xff;
        let mut m = GuestMem::new(&mut bytes);
        assert_eq!(m.str(32, 3), Ok("abc"));
        assert_eq!(m.str(40, 1), Err(Errno::ILSEQ));
        m.write_u32(0, 32).unwrap();
        m.write_u32(4, 3).unwrap();
        m.write_u32(8, 60).unwrap();
        m.write_u32(12, 8).unwrap();
        assert_eq!(m.check_iovecs(0, 1), Ok(3));
        assert_eq!(m.check_iovecs(0, 2), Err(Errno::FAULT));
        m.write_u32(8, 0).unwrap();
        m.write_u32(12, u32::MAX).unwrap();
        assert_eq!(m.check_iovecs(0, 2), Err(Errno::FAULT));
    }

    #[test]
    fn nul_terminated_strings() {
        let mut bytes = vec![0u8; 64];
        bytes[32..35].copy_from_slice(b"abc");
        bytes[40] = 0xff;
        bytes[60..64].copy_from_slice(b"tail");
        let m = GuestMem::new(&mut bytes);
        assert_eq!(m.cstr(32), Ok("abc"));
        assert_eq!(m.cstr(35), Ok(""));
        assert_eq!(m.cstr(40), Err(Errno::ILSEQ));
        assert_eq!(m.cstr(60), Err(Errno::FAULT));
        assert_eq!(m.cstr(64), Err(Errno::FAULT));
        assert_eq!(m.cstr(u32::MAX), Err(Errno::FAULT));
    }

    #[test]
    fn iovec_count_is_bounded() {
        let mut bytes = vec![0u8; (IOVEC_SIZE * (MAX_IOVECS + 1)) as usize];
        let m = GuestMem::new(&mut bytes);
        assert_eq!(m.check_iovecs(0, MAX_IOVECS), Ok(0));
        assert_eq!(m.check_iovecs(0, MAX_IOVECS + 1), Err(Errno::INVAL));
    }
}
