//! A bounds-checked little-endian reader over a byte slice that reports absolute offsets.

use crate::error::{Error, Result};

/// Reads fixed-width fields out of `buf`, whose first byte sits at absolute offset `base`.
/// Every read is checked; nothing allocates based on a length field.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], base: u64) -> Self {
        Cursor { buf, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn bytes(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let available = self.remaining() as u64;
        if n > available {
            return Err(Error::truncated(what, self.offset(), n, available));
        }
        let n = n as usize;
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let b = self.bytes(N as u64, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array::<8>(what)?))
    }

    /// Unsigned LEB128 (v1 length prefixes), at most 10 bytes and no overflow.
    pub(crate) fn leb128(&mut self, what: &str) -> Result<u64> {
        let start = self.offset();
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = self.u8(what)?;
            let low = u64::from(byte & 0x7f);
            let shift = 7 * i;
            if shift == 63 && low > 1 {
                return Err(Error::malformed(
                    what,
                    start,
                    "LEB128 length overflows 64 bits",
                ));
            }
            value |= low << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Error::malformed(
            what,
            start,
            "LEB128 length longer than 10 bytes",
        ))
    }

    /// A length-prefixed (u64) slice.
    pub(crate) fn u64_prefixed(&mut self, what: &str) -> Result<&'a [u8]> {
        let len = self.u64(what)?;
        self.bytes(len, what)
    }
}

/// `what` with a UTF-8 check that reports the offset.
pub(crate) fn utf8<'a>(bytes: &'a [u8], what: &str, offset: u64) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        Error::malformed(
            what,
            offset + e.valid_up_to() as u64,
            "name is not valid UTF-8",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_decodes_and_rejects_overflow() {
        let mut c = Cursor::new(&[0x84, 0x84, 0x40], 0);
        assert_eq!(c.leb128("len").unwrap(), 1_049_092);
        let mut c = Cursor::new(&[0xff; 11], 0);
        assert!(c.leb128("len").is_err());
        let mut c = Cursor::new(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            0,
        );
        assert!(c.leb128("len").is_err());
        let mut c = Cursor::new(&[0x80], 0);
        assert!(matches!(c.leb128("len"), Err(Error::Truncated { .. })));
    }

    #[test]
    fn truncated_reports_absolute_offset() {
        let mut c = Cursor::new(&[1, 2, 3], 100);
        c.u8("x").unwrap();
        match c.u64("field") {
            Err(Error::Truncated {
                offset,
                needed,
                available,
                ..
            }) => {
                assert_eq!((offset, needed, available), (101, 8, 2));
            }
            other => panic!("{other:?}"),
        }
    }
}
