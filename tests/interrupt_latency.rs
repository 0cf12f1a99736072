//! The interrupt's latency, from `interrupt()` on a second thread to the error: under
//! 1 ms (median of five) for every way in and tier. Alone in its process, so that
//! no other test competes for the cores.

mod interrupt_common;

use interrupt_common::{assert_stops, cases, MODES};

#[test]
fn interrupts_arrive_within_a_millisecond() {
    for mode in MODES {
        for (what, case) in cases() {
            assert_stops(what, mode, true, case);
        }
    }
}
