//! How far down the host stack compiled code may go, found on every entry.
//!
//! Compiled code deoptimizes rather than pass the limit. On the thread's own stack
//! the limit comes from its bounds, read once per thread; anywhere else (a segment
//! `stacker` grew for the interpreter, a coroutine's stack) `stacker` is asked.

use grizzly_arch::host::stack_pointer;
use std::cell::Cell;

/// Host stack left to Rust code below compiled frames.
const STACK_RESERVE: usize = 256 * 1024;

/// What `THREAD_STACK` holds until the bounds are read: an empty range.
const UNREAD: (usize, usize) = (usize::MAX, 0);

thread_local! {
    /// This thread's own stack, `[low, high)` above its guard page: `UNREAD` until
    /// read, `(0, 0)` where it cannot be read.
    static THREAD_STACK: Cell<(usize, usize)> = const { Cell::new(UNREAD) };
}

/// The lowest stack address compiled code entered from here may use.
#[inline(always)]
pub fn stack_limit() -> usize {
    let sp = stack_pointer();
    let (low, high) = THREAD_STACK.get();
    if low <= sp && sp < high {
        return low.saturating_add(STACK_RESERVE);
    }
    limit_elsewhere(sp)
}

#[cold]
fn limit_elsewhere(sp: usize) -> usize {
    if THREAD_STACK.get() == UNREAD {
        let bounds = thread_stack().unwrap_or((0, 0));
        THREAD_STACK.set(bounds);
        if bounds.0 <= sp && sp < bounds.1 {
            return bounds.0.saturating_add(STACK_RESERVE);
        }
    }
    match stacker::remaining_stack() {
        Some(left) => (sp - left).saturating_add(STACK_RESERVE),
        None => sp.saturating_sub(STACK_RESERVE),
    }
}

#[cfg(target_os = "linux")]
fn thread_stack() -> Option<(usize, usize)> {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `pthread_getattr_np` initializes `attr` for the calling thread when it
    // returns 0, and only then is `attr` read and destroyed.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let mut addr = std::ptr::null_mut();
        let (mut size, mut guard) = (0usize, 0usize);
        let got = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0
            && libc::pthread_attr_getguardsize(attr.as_ptr(), &mut guard) == 0;
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        let low = (addr as usize).checked_add(guard)?;
        got.then_some((low, (addr as usize).checked_add(size)?))
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_stack() -> Option<(usize, usize)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_below_the_stack_pointer_with_room_for_rust() {
        let marker = 0u8;
        let sp = &marker as *const u8 as usize;
        for _ in 0..2 {
            let limit = stack_limit();
            assert!(limit < sp - 64 * 1024, "limit {limit:#x}, sp {sp:#x}");
            // A thread's stack is at most a few MiB here (8 MiB main, 2 MiB spawned).
            assert!(sp - limit < 64 << 20, "limit {limit:#x}, sp {sp:#x}");
        }
    }

    #[test]
    fn a_grown_stack_segment_has_its_own_limit() {
        let outer = stack_limit();
        // A fresh 1 MiB segment: its limit lies within it, not on the thread's stack.
        let inner = stacker::grow(1 << 20, || {
            let marker = 0u8;
            let sp = &marker as *const u8 as usize;
            let limit = stack_limit();
            assert!(
                limit < sp && sp - limit < 1 << 20,
                "limit {limit:#x}, sp {sp:#x}"
            );
            limit
        });
        assert_ne!(inner, outer);
        assert_eq!(stack_limit(), outer);
    }
}
