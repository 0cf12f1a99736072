//! Recursion over trees of any depth, cheaply. The type pass and code generation recurse
//! over expression trees; asking `stacker` for room at every node cost a few percent of
//! a compile, so they ask every [`CHECK_EVERY`] levels: the red zone holds that many
//! frames with room to spare.

/// Levels of recursion between two stack checks.
pub const CHECK_EVERY: u32 = 8;
/// Stack that must be left when a check passes; otherwise the recursion continues on a
/// new segment of [`NEW_STACK`] bytes.
pub const RED_ZONE: usize = 64 * 1024;
pub const NEW_STACK: usize = 1024 * 1024;

/// `descend!(self, self.f(x))`: evaluates `self.f(x)` one level deeper, checking the
/// stack every [`CHECK_EVERY`] levels. `self` has a `depth: u32` field.
macro_rules! descend {
    ($s:ident, $call:expr) => {{
        $s.depth += 1;
        let result = if $s.depth % $crate::jit::depth::CHECK_EVERY == 0 {
            stacker::maybe_grow(
                $crate::jit::depth::RED_ZONE,
                $crate::jit::depth::NEW_STACK,
                || $call,
            )
        } else {
            $call
        };
        $s.depth -= 1;
        result
    }};
}
pub(crate) use descend;
