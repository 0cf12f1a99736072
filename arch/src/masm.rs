//! The two traits an ISA implements, and the conventions written once above them.
//!
//! [`Isa`] is what an architecture supplies: its registers and ABI facts, and the
//! few instructions the conventions are made of (frame record, stack reservation,
//! word moves, a row loop's steps, the deopt exit to the landing pad).
//! [`MacroAssembler`] is what the code generator drives: the operations' templates
//! (also per ISA), and the conventions' policy (prologue, returns, deopt exits,
//! calls, the batch row loop, the frame's size), provided here for every ISA.

use crate::frame::{Addr, FrameBase, FrameState, Reg};
use crate::{
    ctx, Cond, Convention, EmitError, FSrc, FloatOp, Fpr, Gpr, Helper, IntOp, Mem, Src, BATCH_ARGS,
    DIRECT_ARGS, NO_DEOPT,
};

/// The context's fields that describe the active `TRY` handler, in the order the
/// frame words of [`MacroAssembler::handler_enter`] keep them.
const HANDLER_FIELDS: [i32; 3] = [ctx::HANDLER, ctx::HANDLER_SP, ctx::HANDLER_FP];

/// Frame words [`MacroAssembler::handler_enter`] saves: the context's handler fields,
/// the depth budget and the top of the value stack (`JitContext::values_top`) at entry,
/// where the landing's caller releases the values of the frames dropped.
pub const HANDLER_WORDS: usize = 5;

/// An argument of a Rust helper call ([`MacroAssembler::call_helper`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperArg {
    /// The [`crate::JitContext`].
    Ctx,
    Imm(i64),
    /// A frame word.
    Word(Mem),
    /// A frame word (holding an address) plus a displacement.
    Address(Mem, i32),
}

/// An architecture's facts and the instructions the shared conventions use.
pub trait Isa {
    type Label: Copy;
    /// The C ABI's first six integer argument registers.
    const ARGS: [Reg; 6];
    /// The C ABI's two integer return registers.
    const RETS: [Reg; 2];
    /// How the frame is addressed (see [`crate::frame`]).
    const FRAME: FrameBase;
    /// The frame pointer (if [`Isa::FRAME`] has one), and the stack pointer as a
    /// base register.
    const FP: Reg;
    const SP: Reg;
    /// From the frame pointer (or the top of the reserved frame) to the first word
    /// of the caller's outgoing area: what the call and the frame record put between.
    const PARAMS_OFFSET: i32;
    /// Callee-saved registers a batch function keeps its row loop in (the row, the
    /// row count, `out`, the column addresses); no template allocates them in a
    /// native or batch function.
    const BATCH_REGS: [Reg; 4];
    /// Registers the conventions and entry stubs may use between two templates.
    const SCRATCH: Reg;
    const SCRATCH2: Reg;
    /// The pinned registers of compiled code's convention: the [`crate::JitContext`]
    /// and the depth budget.
    const CTX: Reg;
    const DEPTH: Reg;

    /// The shared conventions' state of the function being emitted.
    fn frame_state(&mut self) -> &mut FrameState<Self::Label>;
    fn new_label(&mut self) -> Self::Label;
    fn bind(&mut self, label: Self::Label);
    /// Byte offset of the next instruction (for source annotations).
    fn offset(&self) -> usize;
    fn jump(&mut self, target: Self::Label);

    /// Saves four callee-saved registers, keeping the stack pointer's alignment
    /// modulo 16; [`Isa::restore`] undoes it.
    fn save(&mut self, regs: [Reg; 4]);
    fn restore(&mut self, regs: [Reg; 4]);
    /// Pushes the frame record if there is one, and reserves a stack area of a size
    /// patched in later: returns where (see [`Isa::patch_frame`]).
    fn enter_frame(&mut self) -> usize;
    /// Writes the reserved size into the code at a place [`Isa::enter_frame`] or
    /// [`Isa::leave_frame`] gave.
    fn patch_frame(code: &mut [u8], at: usize, bytes: u32);
    /// Drops the frame and pops the frame record, if there is one: returns where
    /// the frame's size is patched in, if it needs it.
    fn leave_frame(&mut self) -> Option<usize>;
    /// Stores a register into a frame word (recording a displacement that grows).
    fn store_frame(&mut self, dst: Mem, src: Reg);
    fn return_to_caller(&mut self);
    fn load_word(&mut self, dst: Reg, base: Reg, offset: i32);
    fn store_word(&mut self, base: Reg, offset: i32, src: Reg);
    /// `dst = column[row]` and `column[row] = src`, for word columns.
    fn load_row(&mut self, dst: Reg, column: Reg, row: Reg);
    fn store_row(&mut self, column: Reg, row: Reg, src: Reg);
    fn move_reg(&mut self, dst: Reg, src: Reg);
    fn move_imm(&mut self, dst: Reg, value: i64);
    fn increment(&mut self, reg: Reg);
    /// Jumps to `target` when `a >= b`, unsigned.
    fn jump_if_not_below(&mut self, a: Reg, b: Reg, target: Self::Label);
    /// Compiled code's convention: jumps to `deopt` when the stack pointer is below
    /// the stack limit word the context points to (clobbers `SCRATCH`).
    fn check_stack(&mut self, deopt: Self::Label);
    /// Compiled code's convention: records `site` in the context and jumps to the
    /// entry stub's landing pad.
    fn exit_to_landing(&mut self, site: u64);
    /// Loads a float register's bits into a general one.
    fn float_bits(&mut self, dst: Reg, src: Fpr);
    /// Loads any integer operand into a register.
    fn load_src(&mut self, dst: Reg, src: Src);
    /// Calls the function whose address is stored at `slot`; the result is in `RETS[0]`.
    fn call_indirect(&mut self, slot: *const usize);
    /// Calls a label of this code.
    fn call_local(&mut self, target: Self::Label);
    /// `dst` = the address of `label`.
    fn label_address(&mut self, dst: Reg, label: Self::Label);
    /// `dst` = the stack pointer.
    fn read_sp(&mut self, dst: Reg);
    fn jump_if_zero(&mut self, reg: Reg, target: Self::Label);
    fn jump_if_not_zero(&mut self, reg: Reg, target: Self::Label);
    /// `reg += value`.
    fn add_imm(&mut self, reg: Reg, value: i32);
    /// Calls the Rust function at `address` (C ABI; its arguments already in
    /// [`Isa::ARGS`]). Clobbers every caller-saved register.
    fn call_address(&mut self, address: usize);
    /// Compiled code's convention: continues at the context's `handler`, with the
    /// stack and frame pointers of its frame (`handler_sp`, `handler_fp`).
    fn unwind_to_handler(&mut self);
    /// Takes one from the depth budget, jumping to `exceeded` when it was 0.
    fn depth_decrement(&mut self, exceeded: Self::Label);
    fn depth_increment(&mut self);
    /// The code, position independent (frame sizes not patched yet).
    fn finalize(self) -> Result<Vec<u8>, EmitError>;

    // ---- what the entry stubs (`crate::entry`) are made of ----

    /// Opens an entry stub's frame: the frame record, every callee-saved register
    /// compiled code may clobber, and at least `bytes` of the stub's own below them,
    /// leaving the stack pointer aligned for a call. Returns the bytes from the frame
    /// pointer down to the stack pointer.
    fn enter_stub(&mut self, bytes: u32) -> i32;
    /// Restores what [`Isa::enter_stub`] saved (found from the frame pointer,
    /// wherever the stack pointer is) and returns.
    fn leave_stub(&mut self);
    /// Stores the stack pointer into the context's `saved_sp`.
    fn save_sp_to_ctx(&mut self);
    /// Stores `label`'s address into the context's `landing`.
    fn store_label_to_ctx(&mut self, label: Self::Label);
    /// A landing pad: the stack pointer from the context's `saved_sp`, and the frame
    /// pointer `fp_above` bytes above it.
    fn restore_sp_from_ctx(&mut self, fp_above: i32);
    /// Moves the stack pointer down by `words` (a register) words, rounded up to
    /// keep its alignment.
    fn reserve_words(&mut self, words: Reg);
    fn call_reg(&mut self, target: Reg);

    /// The address of a frame word (see [`crate::frame`]). One that grows with the
    /// frame must be recorded with [`FrameState::displaced`] once emitted, or
    /// `finish` fails.
    fn addr(&mut self, m: Mem) -> Addr {
        let (fp, sp, params) = (Self::FP, Self::SP, Self::PARAMS_OFFSET);
        self.frame_state().addr(m, fp, sp, params)
    }
}

/// What the template code generator asks of an architecture. Two-address form: an
/// operation's destination is also its left operand. Deopt labels are bound with
/// [`MacroAssembler::deopt_exit`].
///
/// The operations are each ISA's; the conventions (the provided methods) are shared.
pub trait MacroAssembler: Isa {
    /// Registers the code generator may allocate (everything else is the backend's).
    const GPRS: &'static [Gpr];
    /// Those of [`MacroAssembler::GPRS`] the C ABI lets a callee clobber: all that a
    /// [`Convention::Native`] function may allocate.
    const LEAF_GPRS: &'static [Gpr];
    const FPRS: &'static [Fpr];

    fn mov(&mut self, dst: Gpr, src: Src);
    fn store(&mut self, dst: Mem, src: Src);
    fn fmov(&mut self, dst: Fpr, src: FSrc);
    fn fstore(&mut self, dst: Mem, src: Fpr);
    fn fconst(&mut self, dst: Fpr, value: f64);

    /// `dst = dst op rhs`, jumping to `overflow` when the result does not fit.
    fn int_op(&mut self, op: IntOp, dst: Gpr, rhs: Src, overflow: Self::Label);
    fn int_neg(&mut self, dst: Gpr, overflow: Self::Label);
    /// `dst = dst / rhs` or `dst % rhs` (truncating; the remainder has the dividend's
    /// sign; `MIN % -1` is 0), jumping to `zero` for a zero divisor and to `overflow`
    /// for `MIN / -1`. With an immediate divisor the checks it cannot fail are left out.
    fn int_div(&mut self, rem: bool, dst: Gpr, rhs: Src, zero: Self::Label, overflow: Self::Label);
    /// `dst / 2^shift` or `dst % 2^shift` with the same truncating semantics (shift 1..=62).
    fn int_div_pow2(&mut self, rem: bool, dst: Gpr, shift: u8);
    /// `dst = 1 - dst` for a bool.
    fn not(&mut self, dst: Gpr);

    fn float_op(&mut self, op: FloatOp, dst: Fpr, rhs: FSrc);
    fn float_neg(&mut self, dst: Fpr);
    fn float_abs(&mut self, dst: Fpr);
    fn float_sqrt(&mut self, dst: Fpr);
    /// Calls a Rust helper on `dst` (and `rhs`), leaving the result in `dst`. Clobbers
    /// every allocatable register but `dst`: the caller spills first.
    fn float_call(&mut self, helper: Helper, dst: Fpr, rhs: Option<Fpr>);
    fn int_to_float(&mut self, dst: Fpr, src: Src);
    /// Truncating; jumps to `fail` for NaN, infinities and values outside [-2^63, 2^63).
    fn float_to_int(&mut self, dst: Gpr, src: Fpr, fail: Self::Label);

    /// Jumps to `target` when `a cond b`.
    fn branch_int(&mut self, cond: Cond, a: Gpr, b: Src, target: Self::Label);
    /// Jumps to `target` when `(a cond b) == when` (NaN makes every comparison but
    /// `Ne` false).
    fn branch_float(&mut self, cond: Cond, a: Fpr, b: FSrc, when: bool, target: Self::Label);
    /// Jumps to `target` when `a & mask` is zero (`zero`) or not zero (`!zero`).
    fn branch_mask(&mut self, a: Gpr, mask: i64, zero: bool, target: Self::Label);
    /// Jumps to `target` when `(a`'s low byte `== byte) == equal` (a tag's test).
    fn branch_low_byte(&mut self, a: Gpr, byte: u8, equal: bool, target: Self::Label);
    /// Jumps to `target` when the bool in `a` equals `when`.
    fn branch_bool(&mut self, a: Src, when: bool, target: Self::Label);
    /// `dst = (a cond b)` as a bool.
    fn set_int(&mut self, cond: Cond, dst: Gpr, a: Gpr, b: Src);
    fn set_float(&mut self, cond: Cond, dst: Gpr, a: Fpr, b: FSrc);
    /// Moves a call's result bits from a general register into a float register.
    fn bits_to_float(&mut self, dst: Fpr, src: Gpr);

    // ---- the conventions, shared by every ISA ----

    /// Chooses the convention before any code ([`Convention::Jit`] unless told).
    fn set_convention(&mut self, convention: Convention) {
        self.frame_state().set_convention(convention);
    }

    /// Entry of a function: builds the frame and checks the host stack (jumping to
    /// `stack_deopt` when it is short). A native function stores its argument
    /// registers instead, and a batch function also starts its row loop, loading
    /// each row's arguments; neither jumps to `stack_deopt`.
    fn prologue(&mut self, stack_deopt: Self::Label) {
        let convention = self.frame_state().convention();
        if let Convention::Batch { .. } = convention {
            self.save(Self::BATCH_REGS);
        }
        let at = self.enter_frame();
        self.frame_state().patch_at(at);
        match convention {
            Convention::Jit => self.check_stack(stack_deopt),
            Convention::Native { params } => {
                for i in 0..params.min(DIRECT_ARGS as u32) {
                    // The argument registers come first: nothing has clobbered them.
                    self.store_frame(Mem::Param(i), Self::ARGS[i as usize]);
                }
            }
            Convention::Batch { params } => {
                let [row, rows, out, columns] = Self::BATCH_REGS;
                let (head, done) = (self.new_label(), self.new_label());
                self.frame_state().set_rows(head, done);
                self.move_imm(row, 0);
                self.move_reg(rows, Self::ARGS[1]);
                self.move_reg(out, Self::ARGS[2]);
                self.move_reg(columns, Self::ARGS[0]);
                self.bind(head);
                self.jump_if_not_below(row, rows, done);
                for i in 0..params.min(BATCH_ARGS as u32) {
                    let s = Self::SCRATCH;
                    self.load_word(s, columns, 8 * i as i32);
                    self.load_row(s, s, row);
                    self.store_frame(Mem::Param(i), s);
                }
            }
        }
    }

    /// Leaves the function returning `value`'s bits.
    fn ret(&mut self, value: Src) {
        self.load_src(Self::RETS[0], value);
        self.return_result();
    }
    fn fret(&mut self, value: Fpr) {
        self.float_bits(Self::RETS[0], value);
        self.return_result();
    }

    /// Jumps to `interrupted` when the word at `word` (a stable address that outlives
    /// the code) is not zero: a load and a compare, in any convention.
    fn check_interrupt(&mut self, word: *const u64, interrupted: Self::Label) {
        let s = Self::SCRATCH;
        self.move_imm(s, word as i64);
        self.load_word(s, s, 0);
        self.jump_if_not_zero(s, interrupted);
    }

    /// Counts one nested call against the depth budget, jumping to `exceeded` when the
    /// limit would be passed; [`MacroAssembler::depth_leave`] gives it back.
    fn depth_enter(&mut self, exceeded: Self::Label) {
        self.frame_state().jit_only("a depth check");
        self.depth_decrement(exceeded);
    }
    fn depth_leave(&mut self) {
        self.frame_state().jit_only("a depth check");
        self.depth_increment();
    }
    /// Calls the function whose entry address is stored at `slot` (a stable address),
    /// with its argument words already stored in [`Mem::Out`]; the result goes to `dst`.
    fn call_slot(&mut self, slot: *const usize, dst: Gpr) {
        self.frame_state().jit_only("a call");
        self.call_indirect(slot);
        self.move_reg(dst.0, Self::RETS[0]);
    }
    /// Calls `target` (a label of this function: a direct self call).
    fn call_label(&mut self, target: Self::Label, dst: Gpr) {
        self.frame_state().jit_only("a call");
        self.call_local(target);
        self.move_reg(dst.0, Self::RETS[0]);
    }

    /// Binds `label` to an exit that records `site` and deoptimizes: to the entry
    /// stub's landing pad, or (native code having no compiled frame but its own)
    /// returning the site.
    fn deopt_exit(&mut self, label: Self::Label, site: u64) {
        self.bind(label);
        match self.frame_state().convention() {
            Convention::Jit => self.exit_to_landing(site),
            Convention::Native { .. } => self.epilogue(site),
            Convention::Batch { .. } => self.batch_exit(site),
        }
    }

    /// Binds `label` to the exit of an error (a guard whose failure the interpreter
    /// reports as a runtime error): when a caller's compiled `TRY` handler is active
    /// (the context's `handler`), its frames are dropped and the handler runs;
    /// otherwise, and outside compiled code's convention, it deoptimizes as
    /// [`MacroAssembler::deopt_exit`] does.
    fn raise_exit(&mut self, label: Self::Label, site: u64) {
        if self.frame_state().convention() != Convention::Jit {
            return self.deopt_exit(label, site);
        }
        self.bind(label);
        let uncaught = self.new_label();
        self.load_word(Self::SCRATCH, Self::CTX, ctx::HANDLER);
        self.jump_if_zero(Self::SCRATCH, uncaught);
        self.unwind_to_handler();
        self.bind(uncaught);
        self.exit_to_landing(site);
    }

    /// Makes `landing` (bound by [`MacroAssembler::handler_landing`]) the handler of
    /// errors raised by the calls made until [`MacroAssembler::handler_leave`]: saves
    /// the context's handler, its frame and the depth budget in the frame words
    /// `saved`, and puts this frame's in their place.
    fn handler_enter(&mut self, landing: Self::Label, saved: [Mem; HANDLER_WORDS]) {
        self.frame_state()
            .jit_only("a handler of errors raised by calls");
        let s = Self::SCRATCH;
        for (i, field) in HANDLER_FIELDS.into_iter().enumerate() {
            self.load_word(s, Self::CTX, field);
            self.store_frame(saved[i], s);
        }
        self.store_frame(saved[3], Self::DEPTH);
        self.load_word(s, Self::CTX, ctx::VALUES_TOP);
        self.store_frame(saved[4], s);
        self.label_address(s, landing);
        self.store_word(Self::CTX, ctx::HANDLER, s);
        self.read_sp(s);
        self.store_word(Self::CTX, ctx::HANDLER_SP, s);
        self.store_word(Self::CTX, ctx::HANDLER_FP, Self::FP);
    }

    /// Puts back the handler that [`MacroAssembler::handler_enter`] saved.
    fn handler_leave(&mut self, saved: [Mem; HANDLER_WORDS]) {
        let s = Self::SCRATCH;
        for (i, field) in HANDLER_FIELDS.into_iter().enumerate() {
            self.load_src(s, Src::Mem(saved[i]));
            self.store_word(Self::CTX, field, s);
        }
    }

    /// Binds the handler's `landing`, reached from an error in a callee (the stack and
    /// frame pointers already this frame's) or in the function's own code: restores
    /// the depth budget and the enclosing handler.
    fn handler_landing(&mut self, landing: Self::Label, saved: [Mem; HANDLER_WORDS]) {
        self.bind(landing);
        self.load_src(Self::DEPTH, Src::Mem(saved[3]));
        self.handler_leave(saved);
    }

    /// Calls the Rust function at `address` (C ABI) with `args` (at most six) in the
    /// argument registers; its results are in [`Isa::RETS`]. The arguments are read
    /// from the frame or are constants: no register of the code generator's is read,
    /// and every caller-saved register is clobbered (the caller spills first).
    fn call_helper(&mut self, address: usize, args: &[HelperArg]) -> Result<(), EmitError> {
        if args.len() > Self::ARGS.len() {
            return Err(EmitError("a helper call of more than six arguments".into()));
        }
        for (&arg, &r) in args.iter().zip(Self::ARGS.iter()) {
            match arg {
                HelperArg::Ctx => self.move_reg(r, Self::CTX),
                HelperArg::Imm(v) => self.move_imm(r, v),
                HelperArg::Word(m) => self.load_src(r, Src::Mem(m)),
                HelperArg::Address(m, d) => {
                    self.load_src(r, Src::Mem(m));
                    self.add_imm(r, d);
                }
            }
        }
        self.call_address(address);
        Ok(())
    }

    /// Returns the result in `RETS[0]`: a batch function stores it and goes on with
    /// the next row.
    fn return_result(&mut self) {
        match self.frame_state().rows() {
            Some((head, _)) => {
                let [row, _, out, _] = Self::BATCH_REGS;
                self.store_row(out, row, Self::RETS[0]);
                self.increment(row);
                self.jump(head);
            }
            None => self.epilogue(NO_DEOPT),
        }
    }

    /// Returns (the result already in `RETS[0]`); a native function also returns
    /// `site` in `RETS[1]`.
    fn epilogue(&mut self, site: u64) {
        let convention = self.frame_state().convention();
        if convention != Convention::Jit {
            self.move_imm(Self::RETS[1], site as i64);
        }
        if let Some(at) = self.leave_frame() {
            self.frame_state().patch_at(at);
        }
        if let Convention::Batch { .. } = convention {
            self.restore(Self::BATCH_REGS);
        }
        self.return_to_caller();
    }

    /// A batch function returns the rows done (the current row) and `site`.
    fn batch_exit(&mut self, site: u64) {
        self.move_reg(Self::RETS[0], Self::BATCH_REGS[0]);
        self.epilogue(site);
    }

    /// The code, position independent, with its frame size patched in; fails for a
    /// frame too large, or what a native function cannot hold.
    fn finish(mut self) -> Result<Vec<u8>, EmitError>
    where
        Self: Sized,
    {
        if let Some((_, done)) = self.frame_state().rows() {
            self.bind(done);
            self.batch_exit(NO_DEOPT);
        }
        // What the convention cannot hold is said first (its code may be incomplete).
        self.frame_state().size()?;
        let frame = std::mem::replace(self.frame_state(), FrameState::new(Self::FRAME));
        let mut code = self.finalize()?;
        frame.patch(&mut code, Self::patch_frame)?;
        Ok(code)
    }
}
