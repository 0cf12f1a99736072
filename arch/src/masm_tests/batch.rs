//! The batch entry stubs (`BatchEntry`): one call of a compiled function per row,
//! results stored as words or moved as generic values, stopping at a deopt.

use super::*;

/// `f(x, y) = x + y` compiled, deoptimizing (site 9) on overflow, run by the batch
/// entry over two columns: `(rows done, deopt site)`.
fn batch_add(xs: &[i64], ys: &[i64], out: &mut [u64]) -> (usize, u64) {
    let mut m = Native::masm();
    let deopt = m.new_label();
    m.prologue(deopt);
    m.mov(A, Src::Mem(Mem::Param(0)));
    m.int_op(IntOp::Add, A, Src::Mem(Mem::Param(1)), deopt);
    m.ret(Src::Reg(A));
    m.deopt_exit(deopt, 9);
    let code = m.finish().expect("assembles");
    let rows = xs.len().min(ys.len()).min(out.len());
    run_batch(&code, &[xs, ys], &mut out[..rows])
}

/// Runs `code` (a function of `columns.len()` parameters) through the batch entry,
/// once per word of `out` (every column must be at least as long): `(rows done,
/// deopt site)`.
fn run_batch(code: &[u8], columns: &[&[i64]], out: &mut [u64]) -> (usize, u64) {
    assert!(columns.iter().all(|c| c.len() >= out.len()));
    let batch = Native::batch_entry(columns.len(), BatchOut::Words).expect("batch entry assembles");
    let mut arena = CodeArena::new(1 << 20);
    let handles = arena.install(&[&batch, code]).expect("installs");
    // SAFETY: the first piece is the batch entry, which has the `BatchEntry` ABI.
    let f: BatchEntry = unsafe { std::mem::transmute(arena.entry(handles[0])) };
    let no_limit = 0usize;
    let mut ctx = JitContext {
        stack_limit: &no_limit as *const usize as usize,
        depth_budget: 100,
        ..JitContext::default()
    };
    let pointers: Vec<*const u64> = columns.iter().map(|c| c.as_ptr() as *const u64).collect();
    // SAFETY: every column and `out` hold at least `out.len()` words; the second piece
    // is a complete function of `columns.len()` parameters in the compiled-code
    // convention.
    let done = unsafe {
        f(
            &mut ctx,
            arena.entry(handles[1]),
            pointers.as_ptr(),
            out.len(),
            out.as_mut_ptr(),
        )
    };
    (done, ctx.deopt_site)
}

#[test]
fn the_batch_entry_calls_once_per_row_and_stops_at_a_deopting_row() {
    let xs: Vec<i64> = (0..1000).map(|i| i * 3 - 500).collect();
    let mut ys: Vec<i64> = (0..1000).map(|i| 7 - i).collect();
    ys[600] = i64::MAX;
    let mut out = vec![0u64; 1000];
    let (done, site) = batch_add(&xs, &ys, &mut out);
    assert_eq!((done, site), (600, 9), "stops at the overflowing row");
    for i in 0..600 {
        assert_eq!(out[i] as i64, xs[i] + ys[i], "row {i}");
    }
    assert_eq!(out[600], 0, "the deoptimized row is not written");
    // Resuming after that row finishes the columns.
    let (done, _) = batch_add(&xs[601..], &ys[601..], &mut out[601..]);
    assert_eq!(done, 399);
    for i in 601..1000 {
        assert_eq!(out[i] as i64, xs[i] + ys[i], "row {i}");
    }
    // No rows: nothing is called, nothing written.
    let (done, _) = batch_add(&[], &[], &mut []);
    assert_eq!(done, 0);
}

#[test]
fn a_batch_entry_for_every_argument_count_passes_each_column() {
    for nargs in 0..=BATCH_ARGS {
        // f(a0, .., an) = 1 * a0 + 2 * a1 + ... (distinguishes the columns)
        let mut m = Native::masm();
        let deopt = m.new_label();
        m.prologue(deopt);
        m.mov(A, Src::Imm(0));
        for j in 0..nargs {
            m.mov(B, Src::Mem(Mem::Param(j as u32)));
            m.int_op(IntOp::Mul, B, Src::Imm(j as i64 + 1), deopt);
            m.int_op(IntOp::Add, A, Src::Reg(B), deopt);
        }
        m.ret(Src::Reg(A));
        m.deopt_exit(deopt, 3);
        let code = m.finish().expect("assembles");
        const ROWS: usize = 7;
        let columns: Vec<Vec<i64>> = (0..nargs)
            .map(|j| (0..ROWS as i64).map(|i| i * 100 + j as i64).collect())
            .collect();
        let slices: Vec<&[i64]> = columns.iter().map(Vec::as_slice).collect();
        let mut out = [0u64; ROWS];
        let (done, _) = run_batch(&code, &slices, &mut out);
        assert_eq!(done, ROWS, "{nargs} arguments");
        for (i, &got) in out.iter().enumerate() {
            let want: i64 = (0..nargs).map(|j| (j as i64 + 1) * columns[j][i]).sum();
            assert_eq!(got as i64, want, "{nargs} arguments, row {i}");
        }
    }
    assert!(Native::batch_entry(BATCH_ARGS + 1, BatchOut::Words).is_err());
    assert!(Native::batch_entry(BATCH_ARGS + 1, BatchOut::Values).is_err());
}

/// What the value helper leaves in `value_ret` for `x`: an even `x` as the pair
/// `(2, 3 * x)` (an int's tag and payload), an odd one as nothing (a `null`).
unsafe extern "C" fn put_value(ctx: *mut JitContext, x: u64) -> NativeResult {
    if x.is_multiple_of(2) {
        // SAFETY: the test points `value_ret` at two words.
        unsafe {
            let slot = (*ctx).value_ret as *mut [u64; 2];
            *slot = [2, 3 * x];
        }
    }
    NativeResult { bits: 0, site: 0 }
}

#[test]
fn a_value_batch_moves_each_rows_value_and_leaves_the_slot_null() {
    // f(x) leaves a value through the helper; it deoptimizes (site 5) at x == 99.
    let mut m = Native::masm();
    let deopt = m.new_label();
    m.prologue(deopt);
    m.mov(A, Src::Mem(Mem::Param(0)));
    m.branch_int(Cond::Eq, A, Src::Imm(99), deopt);
    m.call_helper(
        put_value as *const () as usize,
        &[HelperArg::Ctx, HelperArg::Word(Mem::Param(0))],
    )
    .expect("two arguments");
    m.ret(Src::Imm(0));
    m.deopt_exit(deopt, 5);
    let code = m.finish().expect("assembles");
    let batch = Native::batch_entry(1, BatchOut::Values).expect("assembles");
    let mut arena = CodeArena::new(1 << 20);
    let handles = arena.install(&[&batch, &code]).expect("installs");
    // SAFETY: the first piece is a batch entry, which has the `BatchEntry` ABI.
    let f: BatchEntry = unsafe { std::mem::transmute(arena.entry(handles[0])) };
    let mut slot = [0u64; 2];
    let no_limit = 0usize;
    let mut ctx = JitContext {
        stack_limit: &no_limit as *const usize as usize,
        depth_budget: 100,
        value_ret: slot.as_mut_ptr() as usize,
        ..JitContext::default()
    };
    let xs: Vec<u64> = (0..120).collect();
    let mut out = vec![[7u64, 7u64]; 120];
    let column = xs.as_ptr();
    // SAFETY: one column of 120 words, `out` has room for 120 pairs, and the second
    // piece is a function of one parameter in the compiled-code convention.
    let done = unsafe {
        f(
            &mut ctx,
            arena.entry(handles[1]),
            &column,
            xs.len(),
            out.as_mut_ptr() as *mut u64,
        )
    };
    assert_eq!((done, ctx.deopt_site), (99, 5), "stops at the deopting row");
    for (x, pair) in out[..99].iter().enumerate() {
        let x = x as u64;
        if x.is_multiple_of(2) {
            assert_eq!(*pair, [2, 3 * x], "row {x} moved");
        } else {
            assert_eq!(pair[0], 0, "row {x}: the slot was null again");
        }
    }
    assert_eq!(out[99], [7, 7], "the deoptimized row is not written");
    assert_eq!(slot[0], 0, "the slot is left null");
}
