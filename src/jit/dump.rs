//! `jit dump NAME`: each specialization's machine code, disassembled, with the source
//! expression each instruction range came from.

use super::Jit;
use crate::resolve::FuncId;
use std::fmt::Write;

impl Jit {
    /// The listing of every live specialization of `func` (`source` is the text its
    /// spans point into), or a line saying there is none.
    pub fn dump(&self, func: FuncId, name: &str, source: &str) -> String {
        let mut out = String::new();
        let mut any = false;
        for s in self.specs_of(func) {
            any = true;
            let args: Vec<&str> = s.key.args.iter().map(|t| t.name()).collect();
            let title = format!("{name}({}) -> {}", args.join(", "), s.ret.name());
            let mut piece = |what: &str, handle, bytes: usize, entry: usize, spans: &_| {
                let _ = writeln!(out, "{title}{what}: {bytes} bytes at {entry:#x}");
                let code = self.arena.code(handle);
                let code = &code[..bytes.min(code.len())];
                disassemble(&mut out, code, entry as u64, spans, source);
            };
            piece("", s.handle, s.code_bytes, s.entry as usize, &s.spans);
            if let Some(Ok(n)) = &s.native {
                let what = ", native function for typed calls";
                piece(what, n.handle, n.bytes, n.entry, &n.spans);
            }
        }
        if !any {
            let _ = writeln!(out, "'{name}' has no compiled code");
        }
        out
    }
}

/// The source text of a span on one line, shortened.
fn excerpt(source: &str, start: usize, end: usize) -> String {
    let text = source.get(start..end).unwrap_or("?");
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        format!("{}...", one_line.chars().take(57).collect::<String>())
    } else {
        one_line
    }
}

/// Writes the instructions (offset, text), each range after the source excerpt it
/// came from.
fn listing(
    out: &mut String,
    instructions: impl Iterator<Item = (u32, String)>,
    spans: &[(u32, crate::syntax::ast::Span)],
    source: &str,
) {
    let mut next = 0;
    for (offset, text) in instructions {
        while next < spans.len() && spans[next].0 <= offset {
            let sp = spans[next].1;
            let _ = writeln!(
                out,
                "  ; {}",
                excerpt(source, sp.start as usize, sp.end as usize)
            );
            next += 1;
        }
        let _ = writeln!(out, "  {offset:5x}: {text}");
    }
}

#[cfg(target_arch = "x86_64")]
fn disassemble(
    out: &mut String,
    code: &[u8],
    address: u64,
    spans: &[(u32, crate::syntax::ast::Span)],
    source: &str,
) {
    use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    let instructions = std::iter::from_fn(|| {
        decoder.can_decode().then(|| {
            let ins = decoder.decode();
            let mut text = String::new();
            formatter.format(&ins, &mut text);
            ((ins.ip() - address) as u32, text)
        })
    });
    listing(out, instructions, spans, source);
}

#[cfg(target_arch = "aarch64")]
fn disassemble(
    out: &mut String,
    code: &[u8],
    _address: u64,
    spans: &[(u32, crate::syntax::ast::Span)],
    source: &str,
) {
    use yaxpeax_arch::{Decoder, U8Reader};
    use yaxpeax_arm::armv8::a64::InstDecoder;
    let decoder = InstDecoder::default();
    // Fixed-width words: one that does not decode (padding) does not derail the rest.
    let instructions = code.chunks_exact(4).enumerate().map(|(i, word)| {
        let text = match decoder.decode(&mut U8Reader::new(word)) {
            Ok(ins) => ins.to_string(),
            Err(_) => format!(
                ".word {:#010x}",
                u32::from_le_bytes([word[0], word[1], word[2], word[3]])
            ),
        };
        (4 * i as u32, text)
    });
    listing(out, instructions, spans, source);
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn disassemble(
    out: &mut String,
    code: &[u8],
    _address: u64,
    _spans: &[(u32, crate::syntax::ast::Span)],
    _source: &str,
) {
    let _ = writeln!(
        out,
        "  ({} bytes; no disassembler for this architecture)",
        code.len()
    );
}
