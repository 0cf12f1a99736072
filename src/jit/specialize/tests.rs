use super::*;
use crate::resolve::{self, Names, SimpleNames};
use crate::syntax::ast::Item;
use std::collections::HashMap;

/// A function table built from source, for the pass to read.
struct Table {
    defs: HashMap<FuncId, Resolved>,
    names: HashMap<FuncId, String>,
    compiled: HashMap<SpecKey, Ty>,
}

impl Functions for Table {
    fn resolved(&self, id: FuncId) -> Option<&Resolved> {
        self.defs.get(&id)
    }
    fn compiled(&self, key: &SpecKey) -> Option<Ty> {
        self.compiled.get(key).copied()
    }
    fn refused(&self, _key: &SpecKey) -> Option<String> {
        None
    }
    fn name(&self, id: FuncId) -> &str {
        self.names.get(&id).map_or("?", String::as_str)
    }
    fn host(&self, _: u32) -> Option<&crate::interp::host::NativeHost> {
        None
    }
}

impl Table {
    fn new(src: &str) -> Table {
        let program = crate::syntax::parse(src).expect("test source parses");
        let mut names = SimpleNames::default();
        let mut defs = HashMap::new();
        for item in &program.items {
            let Item::Function(f) = item else {
                panic!("test sources define functions only")
            };
            let r = resolve::function(f, &mut names).expect("test source resolves");
            defs.insert(names.function_id(&f.name.name), r);
        }
        let names = names.ids.iter().map(|(n, id)| (*id, n.clone())).collect();
        Table {
            defs,
            names,
            compiled: HashMap::new(),
        }
    }

    fn key(&self, name: &str, args: &[Ty]) -> SpecKey {
        let func = *self
            .names
            .iter()
            .find(|(_, n)| *n == name)
            .unwrap_or_else(|| panic!("no function {name}"))
            .0;
        SpecKey {
            func,
            args: args.to_vec(),
        }
    }

    fn run(&self, name: &str, args: &[Ty]) -> Result<Vec<TFunction>, Refusal> {
        specialize(&self.key(name, args), self)
    }

    fn ok(&self, name: &str, args: &[Ty]) -> Vec<TFunction> {
        self.run(name, args)
            .unwrap_or_else(|r| panic!("{name} refused: {}", r.reason))
    }

    fn refused(&self, name: &str, args: &[Ty]) -> String {
        match self.run(name, args) {
            Ok(fs) => panic!("{name} compiled: {}", show_fn(self, &fs[0])),
            Err(r) => {
                assert_eq!(r.key, self.key(name, args), "the refusal names the root");
                r.reason
            }
        }
    }
}

/// The only (or first) specialization of `name` in `src`.
fn one(src: &str, name: &str, args: &[Ty]) -> (String, TFunction) {
    let t = Table::new(src);
    let mut fs = t.ok(name, args);
    let f = fs.remove(0);
    (show_fn(&t, &f), f)
}

fn refused(src: &str, name: &str, args: &[Ty]) -> String {
    Table::new(src).refused(name, args)
}

/// A compact rendering: `(op:type operands)`, locals as `$slot`.
fn show(e: &TExpr, t: &Table) -> String {
    let all = |es: &[TExpr]| {
        es.iter()
            .map(|e| format!(" {}", show(e, t)))
            .collect::<String>()
    };
    let ty = e.ty.name();
    match &e.kind {
        TKind::Int(i) => format!("{i}"),
        TKind::Float(f) => format!("{f:?}"),
        TKind::Bool(b) => format!("{b}"),
        TKind::Local(s) => format!("${s}"),
        TKind::Arith(op, a, b) => format!(
            "({}:{ty} {} {})",
            format!("{op:?}").to_lowercase(),
            show(a, t),
            show(b, t)
        ),
        TKind::Neg(a) => format!("(neg:{ty} {})", show(a, t)),
        TKind::Not(a) => format!("(not {})", show(a, t)),
        TKind::Compare(op, a, b) => format!(
            "({} {} {})",
            format!("{op:?}").to_lowercase(),
            show(a, t),
            show(b, t)
        ),
        TKind::And(a, b) => format!("(and {} {})", show(a, t), show(b, t)),
        TKind::Or(a, b) => format!("(or {} {})", show(a, t), show(b, t)),
        TKind::Convert(c, a) => {
            let c = match c {
                Convert::IntToFloat => "i2f",
                Convert::FloatToInt => "f2i",
                Convert::BoolToInt => "b2i",
                Convert::BoolToFloat => "b2f",
            };
            format!("({c} {})", show(a, t))
        }
        TKind::Math(op, args) => {
            format!("({}:{ty}{})", format!("{op:?}").to_lowercase(), all(args))
        }
        TKind::Host { host, args } => format!("(host{host}:{ty}{})", all(args)),
        TKind::Call { callee, args } => format!("(call {}{}):{ty}", describe(callee, t), all(args)),
        TKind::SelfTail(args) => format!("(tail{})", all(args)),
        TKind::If(c, a, b) => format!(
            "(if:{ty} {} {} {})",
            show(c, t),
            show_body(a, t),
            show_body(b, t)
        ),
        TKind::Try(a, b) => format!("(try:{ty} {} {})", show(a, t), show(b, t)),
        TKind::Deopt(r) => format!("(deopt {r:?})"),
        TKind::Const(v) => format!("{v:?}"),
        TKind::Box(a) => format!("(box {})", show(a, t)),
        TKind::Generic(op, args) => format!("({op:?}:{ty}{})", all(args)),
    }
}

fn show_body(b: &TBody, t: &Table) -> String {
    let lets: String = b
        .lets
        .iter()
        .map(|(s, v)| format!("${s}={}; ", show(v, t)))
        .collect();
    format!("{{{lets}{}}}", show(&b.result, t))
}

fn show_fn(t: &Table, f: &TFunction) -> String {
    show_body(&f.body, t)
}

use Ty::{Bool, Float, Int, Never};

#[test]
fn fib_reaches_its_fixpoint() {
    let src = "FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }";
    let (body, f) = one(src, "fib", &[Int]);
    assert_eq!(f.ret, Int);
    assert_eq!(f.params, vec![Int]);
    assert_eq!(f.slots, vec![Int]);
    // The calls carry the final result type, not the `Never` the first round saw.
    assert_eq!(
        body,
        "{(if:int (lt $0 2) {$0} {(add:int (call fib(int) (sub:int $0 1)):int \
         (call fib(int) (sub:int $0 2)):int)})}"
    );
    let (body, f) = one(src, "fib", &[Float]);
    assert_eq!(f.ret, Float);
    assert_eq!(
        body,
        "{(if:float (lt $0 (i2f 2)) {$0} {(add:float (call fib(float) (sub:float $0 (i2f 1))):float \
         (call fib(float) (sub:float $0 (i2f 2))):float)})}"
    );
}

#[test]
fn mutual_recursion_specializes_both() {
    let src = "FUNCTION is_even(n) => IF n == 0 { true } ELSE { is_odd(n - 1) }
               FUNCTION is_odd(n) => IF n == 0 { false } ELSE { is_even(n - 1) }";
    let t = Table::new(src);
    let fs = t.ok("is_even", &[Int]);
    let keys: Vec<String> = fs.iter().map(|f| describe(&f.key, &t)).collect();
    assert_eq!(keys, ["is_even(int)", "is_odd(int)"]);
    assert!(fs.iter().all(|f| f.ret == Bool));
    assert_eq!(
        show_fn(&t, &fs[1]),
        "{(if:bool (eq $0 0) {false} {(call is_even(int) (sub:int $0 1)):bool})}"
    );
    // A compiled specialization is read, not inferred again.
    let mut t = t;
    t.compiled.insert(t.key("is_odd", &[Int]), Bool);
    let fs = t.ok("is_even", &[Int]);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].ret, Bool);
}

#[test]
fn mixed_arithmetic_converts_the_int() {
    let src = "FUNCTION f(a, b) => a * 2 + b";
    let (body, f) = one(src, "f", &[Int, Float]);
    assert_eq!(body, "{(add:float (i2f (mul:int $0 2)) $1)}");
    assert_eq!(f.ret, Float);
    let (body, _) = one("FUNCTION f(a, b) => a % b - 1", "f", &[Float, Int]);
    assert_eq!(body, "{(sub:float (rem:float $0 (i2f $1)) (i2f 1))}");
    let (body, _) = one("FUNCTION f(a, b) => a == b OR a >= b", "f", &[Int, Float]);
    assert_eq!(body, "{(or (eq (i2f $0) $1) (ge (i2f $0) $1))}");
    let (body, _) = one("FUNCTION f(a) => -a + -2 + -1.5", "f", &[Int]);
    assert_eq!(body, "{(add:float (i2f (add:int (neg:int $0) -2)) -1.5)}");
}

#[test]
fn bool_operands_are_type_errors() {
    for (src, args) in [
        ("FUNCTION f(a, b) => a + b", [Bool, Int]),
        ("FUNCTION f(a, b) => a / b", [Float, Bool]),
        ("FUNCTION f(a, b) => a < b", [Bool, Bool]),
        ("FUNCTION f(a, b) => -a", [Bool, Int]),
        ("FUNCTION f(a, b) => NOT b", [Bool, Int]),
        ("FUNCTION f(a, b) => a AND b", [Int, Bool]),
        ("FUNCTION f(a, b) => IF b { 1 } ELSE { 2 }", [Bool, Int]),
        ("FUNCTION f(a, b) => abs(a)", [Bool, Int]),
        ("FUNCTION f(a, b) => max(b, a)", [Bool, Int]),
        ("FUNCTION f(a, b) => pow(b, a)", [Bool, Int]),
        ("FUNCTION f(a, b) => floor(a)", [Bool, Int]),
    ] {
        let (body, f) = one(src, "f", &args);
        assert_eq!(body, "{(deopt Type)}", "{src}");
        assert_eq!(f.ret, Never, "{src}");
    }
}

#[test]
fn parameter_annotations_convert_or_refuse() {
    let (body, f) = one("FUNCTION f(x: float, y: number) => x + y", "f", &[Int, Int]);
    assert_eq!(f.key.args, vec![Int, Int]);
    assert_eq!(f.params, vec![Float, Int]);
    assert_eq!(f.slots, vec![Float, Int]);
    assert_eq!(body, "{(add:float $0 (i2f $1))}");
    assert_eq!(f.ret, Float);
    for (args, reason) in [
        (
            [Float, Int],
            "argument type error: parameter 'x' of 'f' expects int, got float",
        ),
        (
            [Int, Bool],
            "argument type error: parameter 'y' of 'f' expects number, got bool",
        ),
    ] {
        assert_eq!(
            refused("FUNCTION f(x: int, y: number) => x", "f", &args),
            reason
        );
    }
    // A call whose argument fails the callee's annotation raises there: a deopt, and a
    // bad call (the code depends on the callee's definition).
    let src = "FUNCTION f(n) => IF n > 0 { g(n * 1.5) } ELSE { g(n) }
               FUNCTION g(x: int) => x";
    let t = Table::new(src);
    let fs = t.ok("f", &[Int]);
    assert_eq!(
        show_fn(&t, &fs[0]),
        "{(if:int (gt $0 0) {(deopt Call)} {(call g(int) $0):int})}"
    );
    assert!(fs[0].facts.bad_call);
    assert_eq!(fs.len(), 2);
}

#[test]
fn branches_of_two_types_give_a_generic_value() {
    let src = "FUNCTION f(n) => IF n > 0 { 1 } ELSE { 2.0 }";
    let (body, f) = one(src, "f", &[Int]);
    assert_eq!(body, "{(if:value (gt $0 0) {(box 1)} {(box 2.0)})}");
    assert_eq!(f.ret, Ty::Value);
    assert_eq!(f.facts.value_slots, 3);
    // Through recursion: the second round sees the float, and the result widens.
    let src = "FUNCTION f(n) => IF n == 0 { 1 } ELSE { f(n - 1) * 1.5 }";
    let (body, f) = one(src, "f", &[Int]);
    assert_eq!(
        body,
        "{(if:value (eq $0 0) {(box 1)} {(Binary(Mul):value (call f(int)):value 1.5)})}"
            .replace("(call f(int)):value", "(call f(int) (sub:int $0 1)):value")
            .replace(" 1.5)", " (box 1.5))")
    );
    assert_eq!(f.ret, Ty::Value);
}

#[test]
fn strings_and_null_compile_as_generic_values() {
    for (src, body) in [
        (
            "FUNCTION f(n) => n + len(\"ab\")",
            "{(add:int $0 (Builtin(Len):int Str(\"ab\")))}",
        ),
        (
            "FUNCTION f(n) => (n AS string) == \"1\"",
            "{(Binary(Eq):bool (Cast(Str):value (box $0)) Str(\"1\"))}",
        ),
        (
            "FUNCTION f(n) => IF n > 0 { null } ELSE { n }",
            "{(if:value (gt $0 0) {Null} {(box $0)})}",
        ),
    ] {
        assert_eq!(one(src, "f", &[Int]).0, body, "{src}");
    }
    // A generic parameter, checked against its annotation on entry.
    let (body, f) = one("FUNCTION f(s: string) => s + \"!\"", "f", &[Ty::Value]);
    assert_eq!(body, "{(Binary(Add):value $0 Str(\"!\"))}");
    assert_eq!(f.checks, vec![(0, crate::syntax::ast::TypeName::Str)]);
    // `??` raises to its handler when its generic operand is null.
    let (body, _) = one("FUNCTION f(x) => x ?? 0", "f", &[Ty::Value]);
    assert_eq!(body, "{(try:value (NotNull:value $0) (box 0))}");
}

#[test]
fn try_and_coalesce_catch_in_compiled_code() {
    let (body, f) = one("FUNCTION f(a, b) => TRY a / b CATCH 0", "f", &[Int, Int]);
    assert_eq!(body, "{(try:int (div:int $0 $1) 0)}");
    assert!(f.exact);
    let (body, f) = one("FUNCTION f(x) => (x AS int) ?? -1", "f", &[Float]);
    assert_eq!(body, "{(try:int (f2i $0) -1)}");
    assert!(f.exact);
    // A statically certain error goes to the handler: the node has the handler's type.
    let (body, f) = one("FUNCTION f(x) => TRY x + true CATCH 2.5", "f", &[Int]);
    assert_eq!(body, "{(try:float (deopt Type) 2.5)}");
    assert_eq!(f.ret, Float);
    // A handler of another type makes the result generic.
    let (body, f) = one("FUNCTION f(a, b) => TRY a / b CATCH 0.5", "f", &[Int, Int]);
    assert_eq!(body, "{(try:value (box (div:int $0 $1)) (box 0.5))}");
    assert_eq!(f.ret, Ty::Value);
    // A handler that cannot compile is left to the interpreter, and what inferring it
    // found is forgotten.
    // (`g` reaches more specializations than one compile infers.)
    let chain: String = (0..MAX_SPECIALIZATIONS)
        .map(|i| format!("FUNCTION c{i}(n) => c{}(n)\n", i + 1))
        .collect();
    let src = format!(
        "FUNCTION f(a, b) => TRY a / b CATCH g(a)
         FUNCTION g(n) => c0(n)
         {chain}FUNCTION c{MAX_SPECIALIZATIONS}(n) => n
         FUNCTION h(a, b) => TRY a / b CATCH k(a) + 1
         FUNCTION k(n) => n * 2"
    );
    let t = Table::new(&src);
    let fs = t.ok("f", &[Int, Int]);
    assert_eq!(fs.len(), 1);
    assert_eq!(
        show_fn(&t, &fs[0]),
        "{(try:int (div:int $0 $1) (deopt Handler))}"
    );
    assert!(!fs[0].exact);
    let fs = t.ok("h", &[Int, Int]);
    let keys: Vec<String> = fs.iter().map(|f| describe(&f.key, &t)).collect();
    assert_eq!(keys, ["h(int, int)", "k(int)"]);
    assert_eq!(
        show_fn(&t, &fs[0]),
        "{(try:int (div:int $0 $1) (add:int (call k(int) $0):int 1))}"
    );
    assert!(fs[0].exact);
}

#[test]
fn self_tail_calls() {
    let src = "FUNCTION sum(n, acc) => IF n == 0 { acc } ELSE { sum(n - 1, acc + n) }";
    let (body, f) = one(src, "sum", &[Int, Int]);
    assert_eq!(
        body,
        "{(if:int (eq $0 0) {$1} {(tail (sub:int $0 1) (add:int $1 $0))})}"
    );
    assert_eq!(f.ret, Int);
    let (body, f) = one(src, "sum", &[Int, Float]);
    assert_eq!(
        body,
        "{(if:float (eq $0 0) {$1} {(tail (sub:int $0 1) (add:float $1 (i2f $0)))})}"
    );
    assert_eq!(f.ret, Float);
    // The accumulator turns float: it is a generic value, boxed on entry.
    let src = "FUNCTION sum(n, acc) => IF n == 0 { acc } ELSE { sum(n - 1, acc + 0.5) }";
    let (body, f) = one(src, "sum", &[Int, Int]);
    assert_eq!(
        body,
        "{(if:value (eq $0 0) {$1} {(tail (sub:int $0 1) (Binary(Add):value $1 (box 0.5)))})}"
    );
    assert_eq!(
        (f.params.clone(), f.entry.clone()),
        (vec![Int, Ty::Value], vec![Int, Int])
    );
    assert_eq!(f.ret, Ty::Value);
    assert!(f.exact);
    let (_, f) = one(
        "FUNCTION sum(n, acc) => IF n == 0 { acc } ELSE { sum(n - 1, acc + 1) }",
        "sum",
        &[Int, Int],
    );
    assert!(f.exact);
    // A callee's self tail calls are its own.
    let src = "FUNCTION f(n) => g(n, 0) + 1
               FUNCTION g(n, acc) => IF n == 0 { acc } ELSE { g(n - 1, acc + 1) }";
    let t = Table::new(src);
    let fs = t.ok("f", &[Int]);
    assert_eq!(
        show_fn(&t, &fs[1]),
        "{(if:int (eq $0 0) {$1} {(tail (sub:int $0 1) (add:int $1 1))})}"
    );
}

#[test]
fn refused_callees_refuse_the_root() {
    let src = "FUNCTION f(n) => g(n) + 1
               FUNCTION g(n) => h(n)
               FUNCTION h(n) => (n * 2) + spin(n)
               FUNCTION spin(n) => spin(n)";
    let t = Table::new(src);
    assert_eq!(
        t.refused("f", &[Int]),
        "calls g(int), which calls h(int), which is not compiled: the call spin(int) \
         never returns a value and follows an operand that may fail"
    );
}

#[test]
fn never_joins_and_ends_bodies() {
    let src = "FUNCTION f(n) => IF n > 0 { n } ELSE { n + true }";
    let (body, f) = one(src, "f", &[Int]);
    assert_eq!(body, "{(if:int (gt $0 0) {$0} {(deopt Type)})}");
    assert_eq!(f.ret, Int);
    // A LET that always fails ends its body; later slots are never bound.
    let src = "CREATE FUNCTION f(n) { LET a = n * 2; LET b = NOT a; LET c = b; c }";
    let (body, f) = one(src, "f", &[Int]);
    assert_eq!(body, "{$1=(mul:int $0 2); (deopt Type)}");
    assert_eq!(f.slots, vec![Int, Int, Never, Never]);
    assert_eq!(f.ret, Never);
    // An operand that never gives a value replaces its node when that is exact...
    let src = "FUNCTION f(n) => n * loop(n) + 1
               FUNCTION loop(n) => loop(n) + 1";
    let t = Table::new(src);
    let fs = t.ok("f", &[Int]);
    assert_eq!(show_fn(&t, &fs[0]), "{(call loop(int) $0):never}");
    assert_eq!(show_fn(&t, &fs[1]), "{(call loop(int) $0):never}");
    assert!(fs.iter().all(|f| f.ret == Never));
    // ... and refuses when an operand before it may fail (its error must win).
    let src = "FUNCTION f(n) => (n + 1) * loop(n)
               FUNCTION loop(n) => loop(n) + 1";
    assert_eq!(
        refused(src, "f", &[Int]),
        "the call loop(int) never returns a value and follows an operand that may fail"
    );
    // A deopt may always come first.
    let (body, _) = one("FUNCTION f(n) => (n + 1) * (n AS bool)", "f", &[Int]);
    assert_eq!(body, "{(deopt Cast)}");
}

#[test]
fn returns_converts_each_result() {
    let src = "FUNCTION f(n) RETURNS float => IF n > 0 { n } ELSE { 0.5 }";
    let (body, f) = one(src, "f", &[Int]);
    assert_eq!(body, "{(if:float (gt $0 0) {(i2f $0)} {0.5})}");
    assert_eq!(f.ret, Float);
    let src = "FUNCTION f(n) RETURNS int => IF n > 0 { n } ELSE { n * 1.5 }";
    let (body, f) = one(src, "f", &[Int]);
    assert_eq!(body, "{(if:int (gt $0 0) {$0} {(deopt Type)})}");
    assert_eq!(f.ret, Int);
    let (body, f) = one("FUNCTION f(n) RETURNS number => n > 1", "f", &[Int]);
    assert_eq!(body, "{(deopt Type)}");
    assert_eq!(f.ret, Never);
    // Self tail calls are not results; callers see the converted type.
    let src = "FUNCTION g(n) => f(n, 0) * 2
               FUNCTION f(n, acc) RETURNS float => IF n == 0 { acc } ELSE { f(n - 1, acc + n) }";
    let t = Table::new(src);
    let fs = t.ok("g", &[Int]);
    assert_eq!(
        show_fn(&t, &fs[0]),
        "{(mul:float (call f(int, int) $0 0):float (i2f 2))}"
    );
    assert_eq!(
        show_fn(&t, &fs[1]),
        "{(if:float (eq $0 0) {(i2f $1)} {(tail (sub:int $0 1) (add:int $1 $0))})}"
    );
}

#[test]
fn logic_with_a_right_operand_that_is_not_bool() {
    let (body, f) = one("FUNCTION f(a, b) => a AND b", "f", &[Bool, Int]);
    assert_eq!(body, "{(if:bool $0 {(deopt Type)} {false})}");
    assert_eq!(f.ret, Bool);
    let (body, _) = one("FUNCTION f(a, b) => a OR b + true", "f", &[Bool, Int]);
    assert_eq!(body, "{(if:bool $0 {true} {(deopt Type)})}");
    let (body, _) = one("FUNCTION f(a, b) => a AND b", "f", &[Bool, Bool]);
    assert_eq!(body, "{(and $0 $1)}");
}

#[test]
fn comparisons_of_bools_and_numbers() {
    let (body, _) = one("FUNCTION f(a, b) => a == b", "f", &[Bool, Bool]);
    assert_eq!(body, "{(eq $0 $1)}");
    // Different kinds are unequal, never an error.
    let (body, _) = one(
        "FUNCTION f(a, b) => (a == b) != (b == b + 1.0)",
        "f",
        &[Bool, Int],
    );
    assert_eq!(body, "{(ne false (eq (i2f $1) (add:float (i2f $1) 1.0)))}");
    // Operands that may fail are compared as generic values.
    let src = "FUNCTION f(a, b) => a != g(b)
               FUNCTION g(n) => n";
    let (body, _) = one(src, "f", &[Bool, Int]);
    assert_eq!(
        body,
        "{(Binary(Ne):bool (box $0) (box (call g(int) $1):int))}"
    );
}

#[test]
fn casts() {
    for (arg, target, expected) in [
        (Int, "int", "{$0}"),
        (Int, "float", "{(i2f $0)}"),
        (Float, "int", "{(f2i $0)}"),
        (Bool, "int", "{(b2i $0)}"),
        (Bool, "float", "{(b2f $0)}"),
        (Bool, "bool", "{$0}"),
        (Int, "bool", "{(deopt Cast)}"),
        (Float, "bool", "{(deopt Cast)}"),
    ] {
        let src = format!("FUNCTION f(x) => x AS {target}");
        assert_eq!(one(&src, "f", &[arg]).0, expected, "{src} {arg:?}");
    }
}

#[test]
fn builtins() {
    for (call, args, expected, ret) in [
        ("abs(a)", [Int, Int], "{(intabs:int $0)}", Int),
        ("abs(a)", [Float, Int], "{(floatabs:float $0)}", Float),
        ("min(a, b)", [Int, Int], "{(intmin:int $0 $1)}", Int),
        (
            "max(a, b)",
            [Int, Float],
            "{(floatmax:float (i2f $0) $1)}",
            Float,
        ),
        ("sqrt(a)", [Int, Int], "{(sqrt:float (i2f $0))}", Float),
        ("floor(a)", [Int, Int], "{$0}", Int),
        ("round(a)", [Float, Int], "{(round:float $0)}", Float),
        (
            "pow(a, b)",
            [Int, Int],
            "{(pow:float (i2f $0) (i2f $1))}",
            Float,
        ),
        ("pow(a)", [Int, Int], "{(deopt Call)}", Never),
        ("undefined(a)", [Int, Int], "{(deopt Call)}", Never),
        ("f(a)", [Int, Int], "{(deopt Call)}", Never),
    ] {
        let src = format!("FUNCTION f(a, b) => {call}");
        let (body, f) = one(&src, "f", &args);
        assert_eq!(body, expected, "{src}");
        assert_eq!(f.ret, ret, "{src}");
    }
}

#[test]
fn unreached_callees_are_left_out() {
    let src = "FUNCTION f(n) => IF n > 0 { g(n) + true } ELSE { h(n) }
               FUNCTION g(n) => n
               FUNCTION h(n) => n";
    let t = Table::new(src);
    let fs = t.ok("f", &[Int]);
    let keys: Vec<String> = fs.iter().map(|f| describe(&f.key, &t)).collect();
    assert_eq!(keys, ["f(int)", "h(int)"]);
}

/// How many bodies `specialize` infers for `name(args)`.
fn inferences(t: &Table, name: &str, args: &[Ty]) -> usize {
    let before = infer::INFERENCES.with(|n| n.get());
    t.ok(name, args);
    infer::INFERENCES.with(|n| n.get()) - before
}

#[test]
fn a_call_graph_without_cycles_is_inferred_once_per_specialization() {
    let mut src = String::new();
    for i in 0..20 {
        src.push_str(&format!(
            "FUNCTION f{i}(n) => f{}(n) + f{}(n + 1)\n",
            i + 1,
            i + 1
        ));
    }
    src.push_str("FUNCTION f20(n) => IF n > 0 { 1.5 } ELSE { 2.5 }\n");
    src.push_str(
        "FUNCTION g(n) => h(n) + k(n) * h(n)\nFUNCTION h(n) => k(n)\nFUNCTION k(n) => n\n",
    );
    let t = Table::new(&src);
    assert_eq!(inferences(&t, "f0", &[Int]), 21);
    assert_eq!(t.ok("f0", &[Int])[0].ret, Float);
    assert_eq!(inferences(&t, "g", &[Int]), 3);
    // A cycle is inferred again once its result types are known.
    let fib = Table::new("FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }");
    assert_eq!(inferences(&fib, "fib", &[Int]), 2);
    let even = Table::new(
        "FUNCTION even(n) => IF n == 0 { true } ELSE { odd(n - 1) }
         FUNCTION odd(n) => IF n == 0 { false } ELSE { even(n - 1) }",
    );
    assert_eq!(inferences(&even, "even", &[Int]), 3);
}

#[test]
fn too_many_specializations_are_refused() {
    let mut src = String::new();
    for i in 0..40 {
        src.push_str(&format!("FUNCTION f{i}(n) => f{}(n) + 1\n", i + 1));
    }
    src.push_str("FUNCTION f40(n) => n\n");
    let t = Table::new(&src);
    assert_eq!(
        t.refused("f0", &[Int]),
        "calls too many specializations (more than 32)"
    );
    assert_eq!(t.ok("f20", &[Int]).len(), 21);
}

#[test]
fn deep_trees_use_no_deep_stack() {
    let n = 50_000;
    let src = format!("FUNCTION f(n) => {}n", "n + ".repeat(n));
    let t = Table::new(&src);
    let fs = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let fs = t.ok("f", &[Int]);
            let ret = fs[0].ret;
            drop(fs);
            ret
        })
        .expect("thread starts")
        .join()
        .expect("no stack overflow");
    assert_eq!(fs, Int);
}
