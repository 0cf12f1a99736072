//! Typed nodes as the type pass builds them, and what its rules ask about them.

use super::*;

pub(super) fn node(kind: TKind, ty: Ty, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

pub(super) fn deopt(reason: DeoptReason, span: Span) -> TExpr {
    node(TKind::Deopt(reason), Ty::Never, span)
}

pub(super) fn convert(c: Convert, e: TExpr) -> TExpr {
    let ty = match c {
        Convert::IntToFloat | Convert::BoolToFloat => Ty::Float,
        Convert::FloatToInt | Convert::BoolToInt => Ty::Int,
    };
    let span = e.span;
    node(TKind::Convert(c, Box::new(e)), ty, span)
}

/// A number as a float (an int converted); `None` for anything else.
pub(super) fn to_float(e: TExpr) -> Option<TExpr> {
    match e.ty {
        Ty::Int => Some(convert(Convert::IntToFloat, e)),
        Ty::Float => Some(e),
        _ => None,
    }
}

/// Two numbers as operands of one type: int with int, or floats (an int converted).
pub(super) fn numbers(l: TExpr, r: TExpr) -> Option<(TExpr, TExpr)> {
    match (l.ty, r.ty) {
        (Ty::Int, Ty::Int) => Some((l, r)),
        _ => Some((to_float(l)?, to_float(r)?)),
    }
}

/// A value of type `t` checked against annotation `ty` like `ops::annotate`: its type
/// afterwards and the conversion, if any; `None` for a type error. `Never` passes.
pub(super) fn annotate(t: Ty, ty: Option<TypeName>) -> Option<(Ty, Option<Convert>)> {
    let Some(ty) = ty else {
        return Some((t, None));
    };
    match (t, ty) {
        // Checked when the value is known (a `GenericOp::Annotate`).
        (Ty::Value, _) => Some((Ty::Value, None)),
        (Ty::Never, _)
        | (Ty::Int, TypeName::Int | TypeName::Number)
        | (Ty::Float, TypeName::Float | TypeName::Number)
        | (Ty::Bool, TypeName::Bool) => Some((t, None)),
        (Ty::Int, TypeName::Float) => Some((Ty::Float, Some(Convert::IntToFloat))),
        _ => None,
    }
}

/// Whether evaluating `e` surely gives a value: it cannot deoptimize, fail or loop
/// (no calls, no int arithmetic that may overflow). Looks at a bounded number of nodes.
pub(super) fn cannot_fail(e: &TExpr) -> bool {
    let mut budget = 64u32;
    safe(e, &mut budget)
}

fn safe(e: &TExpr, budget: &mut u32) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match &e.kind {
        TKind::Int(_) | TKind::Float(_) | TKind::Bool(_) | TKind::Local(_) | TKind::Const(_) => {
            true
        }
        TKind::Box(a) => safe(a, budget),
        TKind::Generic(op, args) => {
            let total = matches!(
                op,
                GenericOp::Binary(BinaryOp::Eq | BinaryOp::Ne) | GenericOp::Cast(TypeName::Str)
            );
            total && args.iter().all(|a| safe(a, budget))
        }
        TKind::Not(a) => safe(a, budget),
        TKind::Neg(a) => e.ty == Ty::Float && safe(a, budget),
        TKind::Arith(_, a, b) => e.ty == Ty::Float && safe(a, budget) && safe(b, budget),
        TKind::Compare(_, a, b) | TKind::And(a, b) | TKind::Or(a, b) | TKind::Try(a, b) => {
            safe(a, budget) && safe(b, budget)
        }
        TKind::Convert(c, a) => *c != Convert::FloatToInt && safe(a, budget),
        TKind::Math(op, args) => *op != MathOp::IntAbs && args.iter().all(|a| safe(a, budget)),
        TKind::If(c, t, f) => {
            let body = |b: &TBody, budget: &mut u32| {
                b.lets.iter().all(|(_, v)| safe(v, budget)) && safe(&b.result, budget)
            };
            safe(c, budget) && body(t, budget) && body(f, budget)
        }
        TKind::Call { .. } | TKind::SelfTail(_) | TKind::Deopt(_) | TKind::Host { .. } => false,
    }
}

/// `e` as a generic value (boxed if it has a machine type).
pub(super) fn boxed(e: TExpr) -> TExpr {
    match e.ty {
        Ty::Value | Ty::Never => e,
        _ => {
            let span = e.span;
            node(TKind::Box(Box::new(e)), Ty::Value, span)
        }
    }
}

/// An operation on generic values, its operands boxed.
pub(super) fn generic(op: GenericOp, args: Vec<TExpr>, ty: Ty, span: Span) -> TExpr {
    node(
        TKind::Generic(op, args.into_iter().map(boxed).collect()),
        ty,
        span,
    )
}

/// A condition or logic operand that must be a bool: a generic one is checked.
pub(super) fn truth(e: TExpr) -> TExpr {
    match e.ty {
        Ty::Value => {
            let span = e.span;
            generic(GenericOp::Truth, vec![e], Ty::Bool, span)
        }
        _ => e,
    }
}
