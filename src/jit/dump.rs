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

/// Writes the listing of `code` (installed at `address`).
fn disassemble(
    out: &mut String,
    code: &[u8],
    address: u64,
    spans: &[(u32, crate::syntax::ast::Span)],
    source: &str,
) {
    match grizzly_arch::host::disassemble(code, address) {
        Some(instructions) => listing(out, instructions.into_iter(), spans, source),
        None => {
            let _ = writeln!(
                out,
                "  ({} bytes; no disassembler for this architecture)",
                code.len()
            );
        }
    }
}
