//! Disassembly of installed code for `jit dump`, by the host's disassembler
//! (iced-x86 on x86-64, yaxpeax-arm on AArch64).

/// The instructions of `code` (loaded at `address`) as (offset, text), or `None`
/// where there is no disassembler for the host.
#[cfg(target_arch = "x86_64")]
pub fn disassemble(code: &[u8], address: u64) -> Option<Vec<(u32, String)>> {
    use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    let mut out = Vec::new();
    while decoder.can_decode() {
        let ins = decoder.decode();
        let mut text = String::new();
        formatter.format(&ins, &mut text);
        out.push(((ins.ip() - address) as u32, text));
    }
    Some(out)
}

/// The instructions of `code` (loaded at `address`) as (offset, text), or `None`
/// where there is no disassembler for the host.
#[cfg(target_arch = "aarch64")]
pub fn disassemble(code: &[u8], _address: u64) -> Option<Vec<(u32, String)>> {
    use yaxpeax_arch::{Decoder, U8Reader};
    use yaxpeax_arm::armv8::a64::InstDecoder;
    let decoder = InstDecoder::default();
    // Fixed-width words: one that does not decode (padding) does not derail the rest.
    let words = code.chunks_exact(4).enumerate().map(|(i, word)| {
        let text = match decoder.decode(&mut U8Reader::new(word)) {
            Ok(ins) => ins.to_string(),
            Err(_) => format!(
                ".word {:#010x}",
                u32::from_le_bytes([word[0], word[1], word[2], word[3]])
            ),
        };
        (4 * i as u32, text)
    });
    Some(words.collect())
}

/// The instructions of `code` (loaded at `address`) as (offset, text), or `None`
/// where there is no disassembler for the host.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn disassemble(_code: &[u8], _address: u64) -> Option<Vec<(u32, String)>> {
    None
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    #[test]
    fn a_return_is_one_instruction_at_offset_zero() {
        #[cfg(target_arch = "x86_64")]
        let code = [0xC3];
        #[cfg(target_arch = "aarch64")]
        let code = 0xD65F03C0u32.to_le_bytes();
        let listing = super::disassemble(&code, 0x1000).unwrap();
        assert_eq!(listing.len(), 1);
        assert_eq!(listing[0].0, 0);
        assert!(listing[0].1.starts_with("ret"), "{:?}", listing[0].1);
    }
}
