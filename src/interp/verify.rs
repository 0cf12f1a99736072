//! Checks compiled bytecode before it may run. The VM reads registers, constants and
//! ops without bounds checks; this pass is what makes that sound, so it accepts only
//! code whose every index is in range, whatever the compiler produced.

use super::bytecode::{Code, Op, Opnd, Reg, K};

/// Why a piece of bytecode was rejected (a compiler bug, never a user error).
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

/// The invariants the VM relies on:
/// - `ops` is not empty and its last op does not fall through;
/// - every jump target is an op index;
/// - every register operand is below `regs`, every constant operand indexes `consts`;
/// - argument windows of calls and builtins lie within `regs`;
/// - `spans` has one entry per op and `params <= regs`.
pub fn verify(code: &Code) -> Result<(), Invalid> {
    let n = code.ops.len();
    let fail = |i: usize, what: &str| Err(Invalid(format!("op {i}: {what}")));
    if n == 0 || code.spans.len() != n || code.params > code.regs || code.regs == 0 {
        return Err(Invalid("malformed code header".into()));
    }
    let last = code.ops[n - 1];
    if !matches!(
        last,
        Op::Return { .. } | Op::Restart | Op::Fail { .. } | Op::Jump { .. }
    ) {
        return fail(n - 1, "the last op falls through");
    }
    let reg_ok = |r: Reg| (r as usize) < code.regs;
    let opnd_ok = |o: Opnd| {
        if o & K != 0 {
            ((o & !K) as usize) < code.consts.len()
        } else {
            reg_ok(o)
        }
    };
    let window_ok = |first: Reg, len: usize| first as usize + len <= code.regs;
    let target_ok = |t: u32| (t as usize) < n;
    for (i, op) in code.ops.iter().enumerate() {
        let ok = match *op {
            Op::Move { dst, src } | Op::Neg { dst, src } | Op::Not { dst, src } => {
                reg_ok(dst) && opnd_ok(src)
            }
            Op::Cast { dst, src, .. } => reg_ok(dst) && opnd_ok(src),
            Op::Move2 { d1, s1, d2, s2 } => reg_ok(d1) && opnd_ok(s1) && reg_ok(d2) && opnd_ok(s2),
            Op::DivPow2 { dst, a, shift } | Op::RemPow2 { dst, a, shift } => {
                reg_ok(dst) && opnd_ok(a) && (1..=62).contains(&shift)
            }
            Op::LoadConst { dst, index } => reg_ok(dst) && (index as usize) < code.consts.len(),
            Op::Add { dst, a, b }
            | Op::Sub { dst, a, b }
            | Op::Mul { dst, a, b }
            | Op::Div { dst, a, b }
            | Op::Rem { dst, a, b }
            | Op::Eq { dst, a, b }
            | Op::Ne { dst, a, b }
            | Op::Lt { dst, a, b }
            | Op::Le { dst, a, b }
            | Op::Gt { dst, a, b }
            | Op::Ge { dst, a, b } => reg_ok(dst) && opnd_ok(a) && opnd_ok(b),
            Op::JumpUnlessLt { a, b, target }
            | Op::JumpUnlessLe { a, b, target }
            | Op::JumpUnlessGt { a, b, target }
            | Op::JumpUnlessGe { a, b, target }
            | Op::JumpUnlessEq { a, b, target }
            | Op::JumpUnlessNe { a, b, target } => opnd_ok(a) && opnd_ok(b) && target_ok(target),
            Op::Jump { target } => target_ok(target),
            Op::JumpIfFalse { cond, target, .. } | Op::JumpIfTrue { cond, target, .. } => {
                opnd_ok(cond) && target_ok(target)
            }
            Op::CheckBool { reg, .. } => reg_ok(reg),
            Op::JumpIfNotNull { reg, target } => reg_ok(reg) && target_ok(target),
            Op::Builtin {
                dst,
                builtin,
                first,
            } => reg_ok(dst) && window_ok(first, builtin.arity()),
            Op::Call {
                dst, first, argc, ..
            }
            | Op::Host {
                dst, first, argc, ..
            } => reg_ok(dst) && window_ok(first, argc as usize),
            Op::Restart => true,
            Op::Return { src } => opnd_ok(src),
            Op::CheckParam { reg, .. } => {
                reg_ok(reg) && (reg as usize) < code.params.min(code.param_names.len())
            }
            Op::CheckReturn { reg, .. } => reg_ok(reg),
            Op::TryEnter { catch } => target_ok(catch),
            Op::TryExit => true,
            Op::Fail { index } => (index as usize) < code.errors.len(),
        };
        if !ok {
            return fail(i, &format!("{op:?} is out of range"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;

    fn code(ops: Vec<Op>, regs: usize) -> Code {
        Code {
            spans: vec![Default::default(); ops.len()],
            ops,
            consts: vec![crate::Value::Int(1)],
            errors: Vec::new(),
            regs,
            params: 1,
            func: None,
            name: None,
            param_names: vec!["x".into()],
            source: Source::new("t", ""),
        }
    }

    #[test]
    fn accepts_in_range_code() {
        let ok = code(
            vec![Op::Add { dst: 1, a: 0, b: K }, Op::Return { src: 1 }],
            2,
        );
        assert_eq!(verify(&ok), Ok(()));
    }

    #[test]
    fn rejects_each_out_of_range_index() {
        let bad = [
            vec![Op::Add { dst: 2, a: 0, b: K }, Op::Return { src: 1 }],
            vec![
                Op::Add {
                    dst: 1,
                    a: 0,
                    b: K | 1,
                },
                Op::Return { src: 1 },
            ],
            vec![Op::Jump { target: 2 }, Op::Return { src: 0 }],
            vec![Op::Return { src: 0 }, Op::Move { dst: 0, src: 1 }],
            vec![
                Op::Call {
                    dst: 0,
                    func: 0,
                    first: 1,
                    argc: 2,
                },
                Op::Return { src: 0 },
            ],
            vec![
                Op::Host {
                    dst: 0,
                    host: 0,
                    first: 1,
                    argc: 2,
                },
                Op::Return { src: 0 },
            ],
            vec![Op::Fail { index: 0 }],
        ];
        for ops in bad {
            let c = code(ops.clone(), 2);
            assert!(verify(&c).is_err(), "{ops:?} must be rejected");
        }
    }
}
