//! Rust functions compiled code calls (C calling convention) for the float operations
//! that have no single instruction on every target: they are exactly what the
//! interpreter computes, so results agree bit for bit.

pub extern "C" fn fmod(x: f64, y: f64) -> f64 {
    x % y
}

pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

pub extern "C" fn floor(x: f64) -> f64 {
    x.floor()
}

pub extern "C" fn ceil(x: f64) -> f64 {
    x.ceil()
}

pub extern "C" fn round(x: f64) -> f64 {
    x.round()
}
