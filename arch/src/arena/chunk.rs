//! One mapping of code memory ("chunk") and its free list, in one of two kinds of
//! memory:
//!
//! - [`Mapping::Protect`]: one private anonymous mapping. Free pages are `rw-`; a run is
//!   flipped to `r-x` when installed and back to `rw-` (and returned to the OS) when released:
//!   one `mprotect` per install, one `mprotect` + `madvise` per release.
//! - [`Mapping::Dual`] (Linux, x86-64): one memory object (`memfd`) mapped twice, a
//!   read-write view that the arena writes code through and a read-execute view that code
//!   runs from. No view is ever writable and executable, and installing or releasing costs no
//!   system call at all. Released pages stay resident and are reused first (resident code
//!   memory is the high-water mark of live code).
//!
//! # Recycling
//!
//! When an arena is cleared or dropped, up to two of its `Dual` chunks stay mapped in a
//! process-wide list, and the next arena that needs a chunk of the same size takes one:
//! building an engine after the first costs no system call, and its first compiles no
//! page fault. A recycled chunk holds only unreachable code, and keeps resident the
//! pages its last arena touched.
//!
//! # Fork
//!
//! A `Dual` chunk's pages are shared with a child process made by `fork`: if either process
//! wrote code into pages the other still runs, it would run the wrong code. So every `fork`
//! (through `pthread_atfork`) bumps a process-wide epoch, and a `Dual` chunk made in an
//! earlier epoch is *retired*: neither process installs into it again, and it is unmapped
//! once its last run is released. New code goes to a fresh chunk.
//!
//! # Valgrind
//!
//! Valgrind notices rewritten code only when asked to check all code
//! (`--smc-check=all`), so under valgrind an arena uses `Protect` unless
//! `GRIZZLY_JIT_MEMORY=dual` says otherwise ([`Mapping::for_this_process`]).
//!
//! # Why x86-64 only
//!
//! On AArch64 the icache maintenance is enough on hardware, but `qemu-user` (which runs our
//! AArch64 suite) detects code changes by write-protecting pages it translated, and a write
//! through the other view escapes it. `Protect` is used there.

use memmap2::{MmapOptions, MmapRaw};
use region::Protection;
use std::sync::{Mutex, OnceLock};

/// Chunks of dropped or cleared arenas, kept mapped (their pages resident) for the next
/// arena, so that building an engine after the first costs no system call and its first
/// compiles no page fault. Only `Dual` chunks (nothing to reset but the free list).
static RECYCLED: Mutex<Vec<Chunk>> = Mutex::new(Vec::new());
/// Most chunks kept for reuse.
const RECYCLE_MAX: usize = 2;

/// The kind of memory a [`CodeArena`](super::CodeArena) maps its code into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Private anonymous pages whose protection flips between `rw-` and `r-x`.
    Protect,
    /// One memory object with a read-write view and a read-execute view.
    Dual,
}

impl Mapping {
    /// What [`CodeArena::new`](super::CodeArena::new) uses on this platform: `Dual` where
    /// it is supported, else `Protect`. An arena falls back to `Protect` when the system
    /// refuses a `Dual` mapping.
    pub const fn preferred() -> Mapping {
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            Mapping::Dual
        } else {
            Mapping::Protect
        }
    }

    /// What [`CodeArena::new`](super::CodeArena::new) uses in this process: the
    /// `GRIZZLY_JIT_MEMORY` environment variable (`dual` or `protect`) if set; else
    /// `Protect` under valgrind, which does not see code rewritten through another view
    /// unless run with `--smc-check=all`; else [`preferred`](Mapping::preferred).
    pub fn for_this_process() -> Mapping {
        static CHOSEN: OnceLock<Mapping> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            match std::env::var("GRIZZLY_JIT_MEMORY").as_deref() {
                Ok("dual") => return Mapping::preferred(),
                Ok("protect") => return Mapping::Protect,
                _ => {}
            }
            let preload = std::env::var_os("LD_PRELOAD").unwrap_or_default();
            if preload.to_string_lossy().contains("vgpreload") {
                Mapping::Protect
            } else {
                Mapping::preferred()
            }
        })
    }
}

/// A free stretch of a chunk (byte offsets, multiples of the arena's unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub len: usize,
}

/// The mapped memory of a chunk.
enum Memory {
    Protect(MmapRaw),
    // Only made where `dual::map` can make it.
    #[cfg_attr(
        not(all(target_os = "linux", target_arch = "x86_64")),
        allow(dead_code)
    )]
    Dual {
        write: MmapRaw,
        exec: MmapRaw,
        /// The fork epoch in which the views were made.
        epoch: u64,
    },
}

/// One mapping of code memory and its free list.
pub(super) struct Chunk {
    memory: Memory,
    /// Free spans, sorted by `start`, never adjacent (coalesced).
    pub free: Vec<Span>,
    /// Runs in this chunk that are not on the free list (live, or lost after a failed
    /// `mprotect` back to read-write).
    pub live_runs: usize,
}

impl Chunk {
    /// Maps `len` bytes (a page multiple) of free code memory of the given kind.
    pub fn map(len: usize, mapping: Mapping) -> std::io::Result<Chunk> {
        let memory = match mapping {
            Mapping::Protect => Memory::Protect(
                MmapOptions::new()
                    .len(len)
                    .no_reserve_swap()
                    .map_anon()
                    .map(MmapRaw::from)?,
            ),
            Mapping::Dual => match Chunk::reuse(len) {
                Some(chunk) => return Ok(chunk),
                None => dual::map(len)?,
            },
        };
        Ok(Chunk {
            memory,
            free: vec![Span { start: 0, len }],
            live_runs: 0,
        })
    }

    /// Gives up a chunk none of whose code is reachable any more: a `Dual` chunk that
    /// takes code goes to the recycled chunks if there is room, anything else is unmapped.
    pub fn recycle(mut self) {
        if self.mapping() != Mapping::Dual || !self.accepts_code() {
            return;
        }
        self.free = vec![Span {
            start: 0,
            len: self.len(),
        }];
        self.live_runs = 0;
        if let Ok(mut recycled) = RECYCLED.lock() {
            if recycled.len() < RECYCLE_MAX {
                recycled.push(self);
            }
        }
    }

    /// A recycled chunk of exactly `len` bytes that takes code, if there is one.
    fn reuse(len: usize) -> Option<Chunk> {
        let mut recycled = RECYCLED.lock().ok()?;
        recycled.retain(Chunk::accepts_code);
        let i = recycled.iter().position(|c| c.len() == len)?;
        Some(recycled.swap_remove(i))
    }

    pub fn len(&self) -> usize {
        match &self.memory {
            Memory::Protect(map) => map.len(),
            Memory::Dual { exec, .. } => exec.len(),
        }
    }

    /// The kind of memory this chunk is.
    pub fn mapping(&self) -> Mapping {
        match &self.memory {
            Memory::Protect(_) => Mapping::Protect,
            Memory::Dual { .. } => Mapping::Dual,
        }
    }

    /// Whether new code may go into this chunk (a `Dual` chunk from before a `fork` may not).
    pub fn accepts_code(&self) -> bool {
        match &self.memory {
            Memory::Protect(_) => true,
            Memory::Dual { epoch, .. } => *epoch == dual::epoch(),
        }
    }

    /// Address through which the code at `offset` runs.
    pub fn exec_ptr(&self, offset: usize) -> *const u8 {
        debug_assert!(offset <= self.len());
        let base = match &self.memory {
            Memory::Protect(map) => map.as_ptr(),
            Memory::Dual { exec, .. } => exec.as_ptr(),
        };
        // SAFETY: `offset <= len`: the pointer stays inside (or one past) the mapping.
        unsafe { base.add(offset) }
    }

    /// Address through which the code at `offset` is written, while its run is being
    /// installed.
    pub fn write_ptr(&self, offset: usize) -> *mut u8 {
        debug_assert!(offset <= self.len());
        let base = match &self.memory {
            Memory::Protect(map) => map.as_mut_ptr(),
            Memory::Dual { write, .. } => write.as_mut_ptr(),
        };
        // SAFETY: `offset <= len`: the pointer stays inside (or one past) the mapping.
        unsafe { base.add(offset) }
    }

    /// Whether sealing and unsealing runs are system calls (and so can fail).
    pub fn protects(&self) -> bool {
        matches!(self.memory, Memory::Protect(_))
    }

    /// Makes a freshly written run executable (and not writable).
    ///
    /// # Safety
    /// `[start, start + len)` is a run of whole pages of this chunk that no other run
    /// shares, and nobody writes it any more.
    pub unsafe fn seal(&self, start: usize, len: usize) -> Result<(), region::Error> {
        match &self.memory {
            // SAFETY: the caller's contract: whole pages of our own mapping, written.
            Memory::Protect(_) => unsafe {
                region::protect(self.exec_ptr(start), len, Protection::READ_EXECUTE)
            },
            Memory::Dual { .. } => Ok(()),
        }
    }

    /// Makes a sealed run writable again (and not executable), dropping its pages.
    ///
    /// # Safety
    /// `[start, start + len)` is a sealed run of this chunk; no code runs there and nothing
    /// refers to it.
    pub unsafe fn unseal(&self, start: usize, len: usize) -> Result<(), region::Error> {
        let Memory::Protect(map) = &self.memory else {
            // The run stays mapped executable (its old code is unreachable) and is
            // rewritten through the write view when reused.
            return Ok(());
        };
        // SAFETY: the caller's contract; read-write without execute keeps W^X.
        unsafe { region::protect(self.exec_ptr(start), len, Protection::READ_WRITE)? };
        #[cfg(unix)]
        {
            // SAFETY: MADV_DONTNEED zero-fills the run's pages, to which no reference
            // exists (the caller's contract). Failure only leaves them resident.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len)
            };
        }
        #[cfg(not(unix))]
        let _ = map;
        Ok(())
    }

    /// First fit: takes `len` bytes from the lowest free span that is big enough.
    pub fn take(&mut self, len: usize) -> Option<usize> {
        let i = self.free.iter().position(|s| s.len >= len)?;
        let span = &mut self.free[i];
        let start = span.start;
        span.start += len;
        span.len -= len;
        if span.len == 0 {
            self.free.remove(i);
        }
        Some(start)
    }

    /// Returns a span to the free list, merging it with its neighbours.
    pub fn give_back(&mut self, start: usize, len: usize) {
        let i = self.free.partition_point(|s| s.start < start);
        debug_assert!(i == 0 || self.free[i - 1].start + self.free[i - 1].len <= start);
        debug_assert!(i == self.free.len() || start + len <= self.free[i].start);
        let joins_prev = i > 0 && self.free[i - 1].start + self.free[i - 1].len == start;
        let joins_next = i < self.free.len() && start + len == self.free[i].start;
        match (joins_prev, joins_next) {
            (true, true) => {
                self.free[i - 1].len += len + self.free[i].len;
                self.free.remove(i);
            }
            (true, false) => self.free[i - 1].len += len,
            (false, true) => {
                self.free[i].start = start;
                self.free[i].len += len;
            }
            (false, false) => self.free.insert(i, Span { start, len }),
        }
    }
}

/// The two views of one memory object.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod dual {
    use super::Memory;
    use memmap2::{MmapOptions, MmapRaw};
    use std::fs::File;
    use std::os::fd::FromRawFd;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Once;

    /// Bumped before every `fork` of the process (inherited by the child).
    static FORK_EPOCH: AtomicU64 = AtomicU64::new(0);
    static WATCH_FORKS: Once = Once::new();

    extern "C" fn before_fork() {
        // Async-signal-safe: one atomic add.
        FORK_EPOCH.fetch_add(1, Ordering::SeqCst);
    }

    pub fn epoch() -> u64 {
        FORK_EPOCH.load(Ordering::SeqCst)
    }

    pub fn map(len: usize) -> std::io::Result<Memory> {
        let mut watching = Ok(());
        WATCH_FORKS.call_once(|| {
            // SAFETY: registers a handler that only does an atomic add.
            if unsafe { libc::pthread_atfork(Some(before_fork), None, None) } != 0 {
                watching = Err(std::io::Error::other("pthread_atfork failed"));
            }
        });
        watching?;
        // SAFETY: a plain system call with a NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"grizzly-jit-code".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        file.set_len(len as u64)?;
        let epoch = epoch();
        let write = MmapOptions::new().len(len).map_raw(&file)?;
        // SAFETY: the object is ours alone (not a file anyone can change or truncate), and
        // this view is only read and executed.
        let exec = MmapRaw::from(unsafe { MmapOptions::new().len(len).map_exec(&file)? });
        // Both views keep the object alive; the descriptor closes here.
        Ok(Memory::Dual { write, exec, epoch })
    }
}

/// Where `Dual` is not supported, mapping one fails (and the arena uses `Protect`).
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
mod dual {
    use super::Memory;

    pub fn epoch() -> u64 {
        0
    }

    pub fn map(_len: usize) -> std::io::Result<Memory> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "dual-mapped code memory is not supported on this platform",
        ))
    }
}
