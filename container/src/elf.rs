//! What an atom of kind `https://webc.org/kind/elf` is: the facts the packer records
//! (`posix.arch`) and the POSIX runner checks before it starts anything (architecture,
//! executable type, the dynamic loader it needs), read with the `object` crate.

use object::Endianness;
use object::elf::{
    EM_386, EM_AARCH64, EM_ARM, EM_LOONGARCH, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64, ET_DYN,
    ET_EXEC, PT_INTERP,
};
use object::read::elf::{FileHeader, ProgramHeader};

/// An ELF executable, as far as running it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The architecture, named as Rust's `std::env::consts::ARCH` names it (`x86_64`,
    /// `aarch64`, …), or `machine 0x…` for one this crate does not name.
    pub arch: String,
    /// 64-bit (ELFCLASS64).
    pub is_64: bool,
    /// A position-independent executable or shared object (`ET_DYN`), else `ET_EXEC`.
    pub is_dyn: bool,
    /// The program interpreter (`PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`): present
    /// for dynamically linked programs.
    pub interpreter: Option<String>,
}

/// Why bytes are not a runnable ELF executable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ElfError(String);

fn arch_name(machine: u16, is_64: bool) -> String {
    match (machine, is_64) {
        (EM_X86_64, true) => "x86_64",
        (EM_386, false) => "x86",
        (EM_AARCH64, true) => "aarch64",
        (EM_ARM, false) => "arm",
        (EM_RISCV, true) => "riscv64",
        (EM_RISCV, false) => "riscv32",
        (EM_PPC64, true) => "powerpc64",
        (EM_S390, true) => "s390x",
        (EM_LOONGARCH, true) => "loongarch64",
        _ => return format!("machine {machine:#x}"),
    }
    .to_owned()
}

/// Reads the ELF header and program headers of `bytes`.
///
/// # Errors
/// Not an ELF file (named by what it starts with), truncated or malformed headers, or an
/// ELF that is not an executable (a relocatable object, a core dump).
pub fn inspect(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        let what = if bytes.starts_with(b"\0asm") {
            "a WebAssembly module"
        } else if bytes.starts_with(b"#!") {
            "a script (#!), not a binary"
        } else if bytes.is_empty() {
            "empty"
        } else {
            "no ELF magic"
        };
        return Err(ElfError(format!("not an ELF executable: {what}")));
    }
    match bytes.get(4) {
        Some(2) => inspect_as::<object::elf::FileHeader64<Endianness>>(bytes, true),
        Some(1) => inspect_as::<object::elf::FileHeader32<Endianness>>(bytes, false),
        _ => Err(ElfError("malformed ELF header: unknown class".into())),
    }
}

fn inspect_as<H: FileHeader<Endian = Endianness>>(
    bytes: &[u8],
    is_64: bool,
) -> Result<ElfInfo, ElfError> {
    let bad = |what: &str, e: object::read::Error| ElfError(format!("malformed ELF {what}: {e}"));
    let header = H::parse(bytes).map_err(|e| bad("header", e))?;
    let endian = header.endian().map_err(|e| bad("header", e))?;
    let kind = header.e_type(endian);
    if kind != ET_EXEC && kind != ET_DYN {
        return Err(ElfError(format!(
            "not an ELF executable: type {}",
            match kind {
                object::elf::ET_REL => "relocatable object (.o)".to_owned(),
                object::elf::ET_CORE => "core dump".to_owned(),
                other => format!("{other:#x}"),
            }
        )));
    }
    let mut interpreter = None;
    for ph in header
        .program_headers(endian, bytes)
        .map_err(|e| bad("program headers", e))?
    {
        if ph.p_type(endian) == PT_INTERP {
            let raw = ph
                .interpreter(endian, bytes)
                .map_err(|e| bad("interpreter", e))?
                .unwrap_or_default();
            interpreter = Some(String::from_utf8_lossy(raw).into_owned());
        }
    }
    Ok(ElfInfo {
        arch: arch_name(header.e_machine(endian), is_64),
        is_64,
        is_dyn: kind == ET_DYN,
        interpreter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_what_the_bytes_are() {
        assert!(
            inspect(b"\0asm\x01\0\0\0")
                .unwrap_err()
                .0
                .contains("WebAssembly")
        );
        assert!(inspect(b"#!/bin/sh\n").unwrap_err().0.contains("script"));
        assert!(inspect(b"").unwrap_err().0.contains("empty"));
        assert!(
            inspect(b"\x7fELF\x02\x01")
                .unwrap_err()
                .0
                .contains("malformed")
        );
        assert!(inspect(b"\x7fELF\x07").unwrap_err().0.contains("class"));
    }

    #[test]
    fn this_test_binary_is_an_elf_for_this_machine() {
        let exe = std::fs::read("/proc/self/exe").unwrap();
        let info = inspect(&exe).unwrap();
        assert_eq!(info.arch, std::env::consts::ARCH);
        assert!(
            info.interpreter.is_some(),
            "the test binary is dynamically linked"
        );
    }
}
