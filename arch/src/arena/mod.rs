//! The code arena: executable memory for JIT-compiled functions.
//!
//! # Memory
//!
//! Code lives in `mmap` mappings ("chunks"), never on the heap (SELinux refuses
//! `mprotect(PROT_EXEC)` on heap pages). The first install reserves one chunk of `limit`
//! bytes of address space (the kernel backs pages only when they are written). Each
//! [`install`](CodeArena::install) batch takes one *run* from a chunk (first fit, free runs
//! are coalesced): whole pages with `Protect`, so that pieces of different batches never
//! share a page whose protection changes; 64-byte lines with `Dual`, where nothing changes
//! protection.
//!
//! # W^X, two ways
//!
//! No mapping is ever writable and executable at the same time. A chunk is one of two kinds
//! of memory ([`Mapping`]):
//!
//! - **Dual** (the default on Linux x86-64): one memory object mapped twice, read-write and
//!   read-execute. A batch is written through the first view and runs from the second.
//!   Installing and releasing cost no system call; released pages stay resident and are
//!   reused first. A `fork` retires the chunks it shares with the child (see `chunk.rs`).
//! - **Protect** (elsewhere, and the fallback when the system refuses a dual mapping):
//!   free pages are `rw-`; a batch is copied in, then its run is flipped to `r-x` with a
//!   single `mprotect`. Releasing the last piece of a run flips it back to `rw-`, returns its
//!   pages to the OS (`madvise(MADV_DONTNEED)`) and puts the run on the free list: one
//!   protection syscall per install, two syscalls per release. (The syscall and the page
//!   faults cost about a third of a compile: hence Dual where it is safe.)
//!
//! # Instruction cache
//!
//! After copying, the arena calls [`dynasmrt::cache_control::synchronize_icache`] on the new
//! code. On AArch64 every thread that will *execute* freshly installed code must also call
//! [`dynasmrt::cache_control::prepare_for_execution`] (an `isb`) before jumping to it, for
//! example through [`CodeArena::prepare_for_execution`]. Both are no-ops on x86-64.
//!
//! # Handles and lifetimes
//!
//! A [`CodeHandle`] names one installed piece. Handles carry a process-wide unique stamp, so a
//! handle that was released, cleared, or comes from another arena is never confused with a
//! live piece: with such a *stale* handle [`entry`](CodeArena::entry) returns a null pointer,
//! [`code`](CodeArena::code) an empty slice, [`release`](CodeArena::release) does nothing, and
//! [`is_live`](CodeArena::is_live) is `false`. None of them panics.
//!
//! The pointer from [`entry`](CodeArena::entry) is valid until the piece's batch is fully
//! released, the arena is [`clear`](CodeArena::clear)ed, or the arena is dropped. Calling it
//! after that is undefined behaviour: the engine must make sure no compiled code is running or
//! referenced (entry slots, return addresses on a stack) before releasing it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

mod chunk;
mod error;

use chunk::Chunk;
pub use chunk::Mapping;
pub use error::ArenaError;

/// Default size limit of a [`CodeArena`]: 64 MiB of code pages.
pub const DEFAULT_LIMIT: usize = 64 << 20;

/// Alignment of every installed piece's first byte: a cache line, so that a piece's
/// branches fall the same way on 32- and 64-byte boundaries wherever it is installed
/// (a function installed 16 bytes off ran a tenth slower).
pub const PIECE_ALIGN: usize = 64;

/// Byte written into the padding between and after pieces: `int3` on x86, which traps if
/// control ever runs off the end of a piece. On AArch64 the zero word is `udf #0`, which traps
/// as well.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
const FILL: u8 = 0xCC;
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
const FILL: u8 = 0x00;

/// Whether a thread must run [`CodeArena::prepare_for_execution`] before executing freshly
/// installed code: where `dynasmrt` has a barrier to run (AArch64, RISC-V). Elsewhere (x86-64)
/// callers can skip finding the piece at all.
pub const NEEDS_BARRIER: bool = cfg!(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "riscv32"
));

/// Process-wide source of piece stamps. Stamp 0 is never handed out: it marks a vacant slot.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

/// Identifies one installed piece of code in a [`CodeArena`].
///
/// Cheap to copy; it owns nothing. See the [module documentation](self) for what happens when
/// a handle is used after its piece is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeHandle {
    /// Index into the arena's piece table.
    slot: u32,
    /// Process-wide unique stamp of the piece; the slot is live for this handle only while it
    /// holds the same stamp.
    stamp: u64,
}

/// A run: the pages of one installed batch.
#[derive(Debug, Clone, Copy)]
struct Run {
    chunk: u32,
    start: usize,
    len: usize,
    /// Pieces of the batch not yet released.
    live_pieces: usize,
}

/// One installed piece, or a vacant slot (`stamp == 0`).
#[derive(Debug, Clone, Copy)]
struct Piece {
    stamp: u64,
    run: u32,
    chunk: u32,
    /// Byte offset of the first byte inside the chunk.
    start: usize,
    len: usize,
}

const VACANT: Piece = Piece {
    stamp: 0,
    run: 0,
    chunk: 0,
    start: 0,
    len: 0,
};

/// Executable memory for JIT-compiled code, with a size limit, batch installation and
/// reclamation. See the [module documentation](self) for the design and the rules.
pub struct CodeArena {
    limit: usize,
    page: usize,
    /// The kind of memory new chunks get.
    mapping: Mapping,
    chunks: Vec<Option<Chunk>>,
    runs: Vec<Option<Run>>,
    free_run_slots: Vec<u32>,
    pieces: Vec<Piece>,
    free_piece_slots: Vec<u32>,
    /// Bytes of pages in live (or lost) runs.
    used: usize,
    /// Bytes of address space currently mapped (sum of chunk lengths).
    reserved: usize,
    stats: ArenaStats,
    /// The last range given to `synchronize_icache` (start address, length).
    #[cfg(test)]
    last_icache_sync: (usize, usize),
}

/// Counters of the arena's work since it was created (not reset by `clear`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArenaStats {
    /// Successful installs of a non-empty batch.
    pub batches: u64,
    /// Pieces installed.
    pub pieces: u64,
    /// `mprotect` calls (with [`Mapping::Protect`]: one per installed batch, one per
    /// reclaimed run; none with [`Mapping::Dual`]).
    pub protect_calls: u64,
    /// `synchronize_icache` calls (one per installed batch).
    pub icache_syncs: u64,
    /// Runs whose pages were returned to the free list.
    pub runs_reclaimed: u64,
}

impl Drop for CodeArena {
    fn drop(&mut self) {
        self.clear();
    }
}

impl Default for CodeArena {
    fn default() -> Self {
        CodeArena::new(DEFAULT_LIMIT)
    }
}

impl fmt::Debug for CodeArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeArena")
            .field("limit", &self.limit)
            .field("used", &self.used)
            .field("reserved", &self.reserved)
            .field("live_pieces", &self.live_pieces())
            .finish()
    }
}

fn align_up(n: usize, align: usize) -> Option<usize> {
    debug_assert!(align.is_power_of_two());
    Some(n.checked_add(align - 1)? & !(align - 1))
}

impl CodeArena {
    /// An empty arena that will hold at most `limit` bytes of code pages, in the kind of
    /// memory [`Mapping::for_this_process`] picks. Maps nothing until the first install.
    pub fn new(limit: usize) -> CodeArena {
        CodeArena::with_mapping(limit, Mapping::for_this_process())
    }

    /// An empty arena whose code goes into `mapping`. If the system refuses a
    /// [`Mapping::Dual`] chunk, the arena uses [`Mapping::Protect`] from then on.
    pub fn with_mapping(limit: usize, mapping: Mapping) -> CodeArena {
        CodeArena {
            limit,
            page: region::page::size(),
            mapping,
            chunks: Vec::new(),
            runs: Vec::new(),
            free_run_slots: Vec::new(),
            pieces: Vec::new(),
            free_piece_slots: Vec::new(),
            used: 0,
            reserved: 0,
            stats: ArenaStats::default(),
            #[cfg(test)]
            last_icache_sync: (0, 0),
        }
    }

    /// Installs one piece of code; see [`install`](CodeArena::install).
    pub fn install_one(&mut self, code: &[u8]) -> Result<CodeHandle, ArenaError> {
        let handles = self.install(&[code])?;
        Ok(handles[0])
    }

    /// Copies each piece (position-independent machine code, first byte aligned to
    /// [`PIECE_ALIGN`]) into fresh executable memory and returns one handle per piece, in
    /// order. All or nothing: on `Err` nothing was installed.
    ///
    /// The whole batch shares one run of pages and costs one `mprotect` (none with
    /// [`Mapping::Dual`]). Its pages are
    /// reclaimed when every piece of the batch has been [released](CodeArena::release).
    /// An empty `pieces` maps nothing and returns no handles. Padding between and after the
    /// pieces traps if executed.
    ///
    /// Before running new code, AArch64 needs
    /// [`prepare_for_execution`](CodeArena::prepare_for_execution) on the executing thread.
    pub fn install(&mut self, pieces: &[&[u8]]) -> Result<Vec<CodeHandle>, ArenaError> {
        if pieces.is_empty() {
            return Ok(Vec::new());
        }
        // Layout: offset of each piece inside the run.
        let full = |needed| ArenaError::Full {
            limit: self.limit,
            used: self.used,
            needed,
        };
        let mut offsets = Vec::with_capacity(pieces.len());
        let mut end = 0usize;
        for p in pieces {
            let off = align_up(end, PIECE_ALIGN).ok_or_else(|| full(usize::MAX))?;
            offsets.push(off);
            end = off.checked_add(p.len()).ok_or_else(|| full(usize::MAX))?;
        }
        let (chunk_index, start, needed) = self.place(end)?;
        let chunk = self.chunks[chunk_index].as_mut().expect("chunk just used");
        // `place` returned `needed` bytes at `start`, inside the chunk's mapping.
        let base = chunk.write_ptr(start);
        let exec = chunk.exec_ptr(start);

        // Copy the pieces and fill the padding.
        let mut cursor = 0;
        for (p, &off) in pieces.iter().zip(&offsets) {
            // The run's pages are free pages of our own mapping (read-write, no piece there,
            // `&mut self` excludes `code()` borrows); `p` is caller memory, so no overlap.
            // SAFETY: `[base + cursor, base + off + p.len())` lies inside the run.
            unsafe {
                std::ptr::write_bytes(base.add(cursor), FILL, off - cursor);
                std::ptr::copy_nonoverlapping(p.as_ptr(), base.add(off), p.len());
            }
            cursor = off + p.len();
        }
        // SAFETY: as above, `[base + cursor, base + needed)` is the read-write tail of the run.
        unsafe { std::ptr::write_bytes(base.add(cursor), FILL, needed - cursor) };

        // SAFETY: the run is initialised (every byte written above) and readable through
        // both views, and no mutable access to it happens while this shared slice lives.
        let written = unsafe { std::slice::from_raw_parts(exec, end) };
        dynasmrt::cache_control::synchronize_icache(written);
        self.stats.icache_syncs += 1;
        #[cfg(test)]
        {
            self.last_icache_sync = (exec as usize, end);
        }

        self.stats.protect_calls += u64::from(chunk.protects());
        // SAFETY: the range is exactly the run: whole pages of our own mapping that no other
        // piece uses, and the copies are done.
        let sealed = unsafe { chunk.seal(start, needed) };
        if let Err(e) = sealed {
            // mprotect may have changed part of the range before failing: try to restore
            // read-write so the pages can be reused, otherwise keep them out of circulation.
            // SAFETY: the same run of our own pages; nothing executes or refers to it.
            let restored = unsafe { chunk.unseal(start, needed) };
            let chunk = self.chunks[chunk_index].as_mut().expect("chunk just used");
            if restored.is_ok() {
                chunk.give_back(start, needed);
            } else {
                chunk.live_runs += 1;
                self.used += needed;
            }
            return Err(ArenaError::Protect(e.to_string()));
        }

        // Book-keeping: one run, one slot per piece.
        let chunk = self.chunks[chunk_index].as_mut().expect("chunk just used");
        chunk.live_runs += 1;
        self.used += needed;
        self.stats.batches += 1;
        self.stats.pieces += pieces.len() as u64;
        let run = Run {
            chunk: chunk_index as u32,
            start,
            len: needed,
            live_pieces: pieces.len(),
        };
        let run_slot = match self.free_run_slots.pop() {
            Some(i) => {
                self.runs[i as usize] = Some(run);
                i
            }
            None => {
                self.runs.push(Some(run));
                (self.runs.len() - 1) as u32
            }
        };
        let first_stamp = NEXT_STAMP.fetch_add(pieces.len() as u64, Ordering::Relaxed);
        let mut handles = Vec::with_capacity(pieces.len());
        for (i, (p, &off)) in pieces.iter().zip(&offsets).enumerate() {
            let piece = Piece {
                stamp: first_stamp + i as u64,
                run: run_slot,
                chunk: chunk_index as u32,
                start: start + off,
                len: p.len(),
            };
            let slot = match self.free_piece_slots.pop() {
                Some(s) => {
                    self.pieces[s as usize] = piece;
                    s
                }
                None => {
                    self.pieces.push(piece);
                    (self.pieces.len() - 1) as u32
                }
            };
            handles.push(CodeHandle {
                slot,
                stamp: piece.stamp,
            });
        }
        Ok(handles)
    }

    /// Bytes a run is rounded to: whole pages where runs change protection, cache lines
    /// ([`PIECE_ALIGN`]) where nothing does (small batches then share a page, and a new
    /// page, a page fault worth microseconds, is touched once per many installs).
    fn unit(&self) -> usize {
        match self.mapping {
            Mapping::Protect => self.page,
            Mapping::Dual => PIECE_ALIGN,
        }
    }

    /// Finds room for a batch of `end` bytes: `(chunk, start, run length)`, mapping a new
    /// chunk if no chunk has room, within the limit.
    fn place(&mut self, end: usize) -> Result<(usize, usize, usize), ArenaError> {
        loop {
            let mapping = self.mapping;
            let needed = align_up(end.max(1), self.unit()).ok_or(ArenaError::Full {
                limit: self.limit,
                used: self.used,
                needed: usize::MAX,
            })?;
            if needed > self.limit.saturating_sub(self.used) {
                return Err(ArenaError::Full {
                    limit: self.limit,
                    used: self.used,
                    needed,
                });
            }
            for (i, chunk) in self.chunks.iter_mut().enumerate() {
                let open = chunk
                    .as_mut()
                    .filter(|c| c.accepts_code() && c.mapping() == mapping);
                if let Some(start) = open.and_then(|c| c.take(needed)) {
                    return Ok((i, start, needed));
                }
            }
            self.unmap_retired();
            // Normally the first chunk spans the whole limit; later chunks appear only
            // after `set_limit` raised the limit, when fragmentation leaves no run big
            // enough, or after a `fork` retired the chunks (which then do not count).
            let open: usize = self
                .chunks
                .iter()
                .flatten()
                .filter(|c| c.accepts_code())
                .map(Chunk::len)
                .sum();
            let rest = self.limit.saturating_sub(open) & !(self.page - 1);
            let least = align_up(needed, self.page).unwrap_or(needed);
            let size = least.max(rest);
            let chunk = self.map(size).or_else(|e| match size > least {
                true => self.map(least),
                false => Err(e),
            })?;
            self.reserved += chunk.len();
            match self.chunks.iter().position(Option::is_none) {
                Some(i) => self.chunks[i] = Some(chunk),
                None => self.chunks.push(Some(chunk)),
            }
            // The next round takes the run from the new chunk (in the unit of its kind,
            // if the arena just fell back to `Protect`).
        }
    }

    /// Maps a chunk of `len` bytes of free code memory, falling back to
    /// [`Mapping::Protect`] for good if a [`Mapping::Dual`] chunk is refused.
    fn map(&mut self, len: usize) -> Result<Chunk, ArenaError> {
        Chunk::map(len, self.mapping)
            .or_else(|e| match self.mapping {
                Mapping::Dual => {
                    self.mapping = Mapping::Protect;
                    Chunk::map(len, Mapping::Protect)
                }
                Mapping::Protect => Err(e),
            })
            .map_err(|e| ArenaError::Map(e.to_string()))
    }

    /// Unmaps the chunks that take no new code (after a `fork`) and hold none.
    fn unmap_retired(&mut self) {
        for slot in &mut self.chunks {
            if slot
                .as_ref()
                .is_some_and(|c| !c.accepts_code() && c.live_runs == 0)
            {
                let chunk = slot.take().expect("checked");
                self.reserved -= chunk.len();
            }
        }
    }

    /// The kind of memory new code goes into.
    pub fn mapping(&self) -> Mapping {
        self.mapping
    }

    fn piece(&self, h: CodeHandle) -> Option<&Piece> {
        self.pieces
            .get(h.slot as usize)
            .filter(|p| p.stamp == h.stamp)
    }

    /// Whether `h` names a piece that is installed in this arena now.
    pub fn is_live(&self, h: CodeHandle) -> bool {
        self.piece(h).is_some()
    }

    /// Address of the piece's first byte (aligned to [`PIECE_ALIGN`]), or null if `h` is
    /// stale. To call it, transmute to the right `extern "C" fn` type (unsafe: the caller
    /// vouches for the code and its signature). Valid until the piece's batch is released or
    /// the arena is cleared or dropped.
    pub fn entry(&self, h: CodeHandle) -> *const u8 {
        match self.piece(h) {
            Some(p) => {
                let chunk = self.chunks[p.chunk as usize]
                    .as_ref()
                    .expect("live piece in live chunk");
                // `p.start + p.len <= chunk.len()`: the piece lies inside its chunk.
                chunk.exec_ptr(p.start)
            }
            None => std::ptr::null(),
        }
    }

    /// The installed bytes of the piece (for disassembly), or an empty slice if `h` is stale.
    pub fn code(&self, h: CodeHandle) -> &[u8] {
        match self.piece(h) {
            Some(p) => {
                // The mapping is unmapped only through `&mut self`, and nothing writes a live
                // piece; `release`/`clear` take `&mut self`, so it outlives this borrow.
                // SAFETY: initialised (by `install`), readable (r-x) bytes inside our mapping.
                unsafe { std::slice::from_raw_parts(self.entry(h), p.len) }
            }
            None => &[],
        }
    }

    /// Makes the current thread ready to execute the piece: on AArch64 flushes this core's
    /// pipeline (`isb`), elsewhere does nothing (and costs nothing: see [`NEEDS_BARRIER`]).
    /// Call it on every thread that will run freshly installed code, before running it.
    #[inline(always)]
    pub fn prepare_for_execution(&self, h: CodeHandle) {
        if NEEDS_BARRIER {
            dynasmrt::cache_control::prepare_for_execution(self.code(h));
        }
    }

    /// Releases one piece. Once every piece installed in the same batch is released, the
    /// batch's pages become read-write again, go back to the OS, and can be reused. Releasing
    /// a stale handle (already released, cleared, or from another arena) does nothing.
    ///
    /// The caller must make sure the code is no longer running nor reachable.
    pub fn release(&mut self, h: CodeHandle) {
        let Some(&piece) = self.piece(h) else {
            return;
        };
        self.pieces[h.slot as usize] = VACANT;
        self.free_piece_slots.push(h.slot);

        let run_slot = piece.run as usize;
        let run = self.runs[run_slot]
            .as_mut()
            .expect("live piece in live run");
        run.live_pieces -= 1;
        if run.live_pieces > 0 {
            return;
        }
        let run = self.runs[run_slot].take().expect("live run");
        self.free_run_slots.push(piece.run);

        let chunk_index = run.chunk as usize;
        let chunk = self.chunks[chunk_index]
            .as_mut()
            .expect("live run in live chunk");
        self.stats.protect_calls += u64::from(chunk.protects());
        // SAFETY: the run is a sealed run of the chunk; its last piece is released, so
        // nothing refers to it (the caller guarantees no code runs there).
        if unsafe { chunk.unseal(run.start, run.len) }.is_err() {
            // The pages stay read-execute: keep them out of circulation (still counted in
            // `used`) until `clear`.
            return;
        }
        chunk.give_back(run.start, run.len);
        chunk.live_runs -= 1;
        self.used -= run.len;
        self.stats.runs_reclaimed += 1;
        self.unmap_retired();
        self.trim();
    }

    /// Unmaps empty chunks while more address space is reserved than the limit.
    fn trim(&mut self) {
        for slot in &mut self.chunks {
            if self.reserved <= self.limit {
                break;
            }
            if slot.as_ref().is_some_and(|c| c.live_runs == 0) {
                let chunk = slot.take().expect("checked");
                self.reserved -= chunk.len();
            }
        }
    }

    /// Drops all code and gives its memory back: unmaps every chunk, except that up to two
    /// [`Mapping::Dual`] chunks stay mapped, process-wide, for the next arena to reuse
    /// (see `chunk.rs`). Every handle becomes stale; the caller must make sure no code of
    /// this arena is running. Dropping the arena does the same.
    pub fn clear(&mut self) {
        self.chunks.drain(..).flatten().for_each(Chunk::recycle);
        self.runs.clear();
        self.free_run_slots.clear();
        self.pieces.clear();
        self.free_piece_slots.clear();
        self.used = 0;
        self.reserved = 0;
    }

    /// Bytes of code memory in live runs (whole pages with [`Mapping::Protect`], 64-byte
    /// lines with [`Mapping::Dual`]).
    pub fn used(&self) -> usize {
        self.used
    }

    /// Bytes of address space currently mapped (live and free pages). Normally `0` before the
    /// first install and `limit` (rounded down to pages) afterwards; free pages cost no memory.
    pub fn reserved(&self) -> usize {
        self.reserved
    }

    /// Counters of the work done so far (batches, protection syscalls, cache flushes).
    pub fn stats(&self) -> ArenaStats {
        self.stats
    }

    /// Number of live pieces.
    pub fn live_pieces(&self) -> usize {
        self.pieces.len() - self.free_piece_slots.len()
    }

    /// The size limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the size limit. Installed code stays; a lower limit makes installs fail until
    /// enough code is released (`used` may exceed the limit meanwhile). A higher limit takes
    /// effect at once, even with live code (a further chunk is mapped when needed).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.trim();
    }
}

#[cfg(test)]
mod tests;
