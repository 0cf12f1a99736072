//! The ways in from Rust, written once for every ISA: the trampoline, the direct
//! entry and the batch entries. They are the only code that follows the platform's
//! C ABI on entry to compiled code's convention: each saves every callee-saved
//! register compiled code may clobber, pins the context and the depth budget, and
//! has a landing pad where a deopt exit arrives from any depth of compiled frames.
//!
//! A landing pad finds its frame again from the context's `saved_sp`: the stack
//! pointer right below the stub's own words, which the frame pointer is a known
//! number of bytes above (compiled frames below it are simply dropped).

use crate::{ctx, BatchOut, EmitError, Isa, BATCH_ARGS, STATUS_DEOPT, STATUS_OK};

/// No compiled `TRY` handler is active when Rust enters (a context is reused, and a
/// deopt may have left a handler of an earlier entry in it).
fn clear_handler<I: Isa>(a: &mut I) {
    a.move_imm(I::SCRATCH, 0);
    a.store_word(I::CTX, ctx::HANDLER, I::SCRATCH);
}

/// The trampoline ([`crate::Trampoline`]): `entry`, `args`, `nargs`, `ctx`, `result`.
pub(crate) fn trampoline<I: Isa>(mut a: I) -> Result<Vec<u8>, EmitError> {
    let [entry, args, nargs, context, result, _] = I::ARGS;
    let (landing, exit) = (a.new_label(), a.new_label());
    // One word of its own: the result pointer.
    let fixed = a.enter_stub(8);
    a.store_word(I::FP, -fixed, result);
    a.move_reg(I::CTX, context);
    a.load_word(I::DEPTH, I::CTX, ctx::DEPTH_BUDGET);
    a.save_sp_to_ctx();
    a.store_label_to_ctx(landing);
    clear_handler(&mut a);
    // The outgoing area: `nargs` words copied from `args` (the context's register
    // is free now, and counts them).
    let (i, word) = (context, I::SCRATCH);
    a.reserve_words(nargs);
    a.move_imm(i, 0);
    let (copy, copied) = (a.new_label(), a.new_label());
    a.bind(copy);
    a.jump_if_not_below(i, nargs, copied);
    a.load_row(word, args, i);
    a.store_row(I::SP, i, word);
    a.increment(i);
    a.jump(copy);
    a.bind(copied);
    a.call_reg(entry);
    a.load_word(I::SCRATCH2, I::FP, -fixed);
    a.store_word(I::SCRATCH2, 0, I::RETS[0]);
    a.move_imm(I::RETS[0], STATUS_OK as i64);
    a.jump(exit);
    a.bind(landing);
    a.restore_sp_from_ctx(fixed);
    a.move_imm(I::RETS[0], STATUS_DEOPT as i64);
    a.bind(exit);
    a.leave_stub();
    a.finalize()
        .map_err(|e| EmitError(format!("trampoline: {e}")))
}

/// The direct entry ([`crate::DirectEntry`]): `ctx`, `entry` and four argument words.
pub(crate) fn direct_entry<I: Isa>(mut a: I) -> Result<Vec<u8>, EmitError> {
    let [context, entry, words @ ..] = I::ARGS;
    let landing = a.new_label();
    // Its own words are the outgoing area, at the stack pointer.
    let fixed = a.enter_stub(8 * words.len() as u32);
    a.move_reg(I::CTX, context);
    a.load_word(I::DEPTH, I::CTX, ctx::DEPTH_BUDGET);
    a.save_sp_to_ctx();
    a.store_label_to_ctx(landing);
    clear_handler(&mut a);
    for (i, &w) in words.iter().enumerate() {
        a.store_word(I::SP, 8 * i as i32, w);
    }
    a.call_reg(entry);
    a.leave_stub();
    // A deopt's site is in the context: the result register means nothing.
    a.bind(landing);
    a.restore_sp_from_ctx(fixed);
    a.leave_stub();
    a.finalize()
        .map_err(|e| EmitError(format!("direct entry: {e}")))
}

/// The batch entry ([`crate::BatchEntry`]) for functions of `nargs` arguments: `ctx`,
/// `entry`, `columns`, `rows`, `out`. Compiled code keeps only the context (and the
/// frame pointer) across a call, so the loop's state lives in the stub's words: the
/// outgoing arguments at the stack pointer, then the entry, the row count, where the
/// next result goes, the current row and the column addresses.
pub(crate) fn batch_entry<I: Isa>(
    mut a: I,
    nargs: usize,
    results: BatchOut,
) -> Result<Vec<u8>, EmitError> {
    if nargs > BATCH_ARGS {
        return Err(EmitError(format!("a batch entry for {nargs} arguments")));
    }
    let [context, entry, columns, rows, out, _] = I::ARGS;
    let n = nargs as i32;
    let (entry_at, rows_at, out_at, row_at) = (8 * n, 8 * n + 8, 8 * n + 16, 8 * n + 24);
    let columns_at = 8 * n + 32;
    let (landing, next, done) = (a.new_label(), a.new_label(), a.new_label());
    let fixed = a.enter_stub((columns_at + 8 * n) as u32);
    let sp = I::SP;
    a.move_reg(I::CTX, context);
    a.store_word(sp, entry_at, entry);
    a.store_word(sp, rows_at, rows);
    a.store_word(sp, out_at, out);
    a.move_imm(I::SCRATCH, 0);
    a.store_word(sp, row_at, I::SCRATCH);
    for j in 0..n {
        a.load_word(I::SCRATCH, columns, 8 * j);
        a.store_word(sp, columns_at + 8 * j, I::SCRATCH);
    }
    a.save_sp_to_ctx();
    a.store_label_to_ctx(landing);
    clear_handler(&mut a);
    // Neither is the result register; compiled code clobbers both.
    let (row, word) = (I::SCRATCH2, I::ARGS[1]);
    a.bind(next);
    a.load_word(row, sp, row_at);
    a.load_word(word, sp, rows_at);
    a.jump_if_not_below(row, word, done);
    // Each row gets the whole depth budget.
    a.load_word(I::DEPTH, I::CTX, ctx::DEPTH_BUDGET);
    for j in 0..n {
        a.load_word(word, sp, columns_at + 8 * j);
        a.load_row(word, word, row);
        a.store_word(sp, 8 * j, word);
    }
    a.load_word(I::SCRATCH, sp, entry_at);
    a.call_reg(I::SCRATCH);
    a.load_word(word, sp, out_at);
    match results {
        BatchOut::Words => a.store_word(word, 0, I::RETS[0]),
        // The value moves: its two words copied, the slot left `null` (tag 0) for
        // the next row, which may return `null` by leaving it as it is.
        BatchOut::Values => {
            a.load_word(row, I::CTX, ctx::VALUE_RET);
            for half in [0, 8] {
                a.load_word(I::SCRATCH, row, half);
                a.store_word(word, half, I::SCRATCH);
            }
            a.move_imm(I::SCRATCH, 0);
            a.store_word(row, 0, I::SCRATCH);
        }
    }
    a.add_imm(word, results.stride());
    a.store_word(sp, out_at, word);
    a.load_word(row, sp, row_at);
    a.increment(row);
    a.store_word(sp, row_at, row);
    a.jump(next);
    // The row a deopt was on is not done.
    a.bind(landing);
    a.restore_sp_from_ctx(fixed);
    a.bind(done);
    a.load_word(I::RETS[0], sp, row_at);
    a.leave_stub();
    a.finalize()
        .map_err(|e| EmitError(format!("batch entry: {e}")))
}
